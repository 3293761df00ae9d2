// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Protocol;
using Crfs.Protocol.Messages;
using Crfs.Server.Locks;
using Crfs.Volume.Files;
using Crfs.Volume.Transactions;

namespace Crfs.Server.Items;

/// <summary>The result of one COMMIT batch: Ok with the server-written items, or a refusal with its reason.</summary>
internal sealed record CommitOutcome(WireError Status, string? Reason, IReadOnlyList<WireItem> ServerItems)
{
    public static CommitOutcome Reject(WireError status, string reason) => new(status, reason, []);
}

/// <summary>
/// Applies one client transaction (a COMMIT) to the running btrfs transaction, all or nothing.
/// <para>
/// The writer has no rollback, so atomicity comes from checking everything first: every key
/// against the session's locks (through <see cref="LockServer.GetMode"/>, the fence that makes an
/// evicted or revoked session harmless), every item against <see cref="ItemValidator"/>, every data
/// operation against the inode it will find once the item operations are in, and the space the
/// batch can need (metadata reserved, data extents probed). Only then does anything change. A
/// failure after the first change would be a bug or an I/O error; it is thrown, and the writer,
/// whose transaction is then in an unknown state, goes read-only (see <c>VolumeWriter</c>).
/// </para>
/// <para>
/// Order: item operations in key order, then data operations in the order listed (the inode a
/// write needs may be created by the same batch). Server-owned fields are the server's: an
/// INODE_ITEM keeps its on-disk <c>nbytes</c> and <c>generation</c> (a new inode gets the
/// transaction's), <c>transid</c> and directory entries' transid become the transaction's, and
/// file data goes through <see cref="FileSystemWriter"/>, which allocates extents, writes the
/// bytes and their checksums and keeps <c>nbytes</c>. After the data, an inode the client also
/// put gets the client's attributes back (size, times, mode) with the server's <c>nbytes</c>. The
/// reply carries, for each inode the batch put or wrote, its final INODE_ITEM and all its
/// EXTENT_DATA items, so the client's cache of that inode is exact.
/// </para>
/// <para>
/// Deleting EXTENT_DATA items (an unlinked file's last items) is allowed only in a batch that
/// also deletes the inode's INODE_ITEM; each deleted extent reference is dropped from the extent
/// tree, and the commit frees the extent and its checksums when nothing else uses it.
/// </para>
/// Must run inside the writer's change callback (under the writer lock). Not thread-safe.
/// </summary>
internal sealed class CommitProcessor
{
    private const int WriteChunk = 1 << 20;

    private readonly Dictionary<ulong, FileSystemWriter> _files = [];

    /// <summary>Applies <paramref name="request"/> for <paramref name="session"/>, or refuses it leaving the transaction untouched.</summary>
    public CommitOutcome Apply(WriteTransaction tx, ulong session, CommitRequest request, LockServer locks)
    {
        ulong tree = request.TreeId;
        if (!ObjectIds.IsFsTree(tree) || !tx.TreeExists(tree))
        {
            return CommitOutcome.Reject(WireError.Invalid, $"tree {tree} is not a subvolume of this volume");
        }

        var plan = new Plan(tree);
        if (CheckItems(tx, session, request, locks, plan) is CommitOutcome refusedItems)
        {
            return refusedItems;
        }

        if (CheckData(tx, session, request, locks, plan) is CommitOutcome refusedData)
        {
            return refusedData;
        }

        if (CheckSpace(tx, request, plan) is CommitOutcome refusedSpace)
        {
            return refusedSpace;
        }

        // ---- from here on, everything changes or the writer faults ----
        FileSystemWriter files = Files(tree);
        foreach (ItemOperation op in request.Items)
        {
            ApplyItem(tx, tree, op, plan);
        }

        foreach (DataOperation op in request.Data)
        {
            ApplyData(tx, files, op, plan);
        }

        foreach ((ulong ino, byte[] clientInode) in plan.ClientInodes)
        {
            if (plan.DataInodes.Contains(ino) && tx.TryGet(tree, InodeKey(ino), out byte[] current))
            {
                byte[] final = (byte[])clientInode.Clone();
                var w = new InodeItemWriter(final);
                w.Nbytes = new InodeItemView(current).Nbytes;
                tx.Put(tree, InodeKey(ino), final);
            }
        }

        return new CommitOutcome(WireError.Ok, null, ServerItems(tx, tree, plan));
    }

    private static BtrfsKey InodeKey(ulong ino) => new(ino, ItemType.InodeItem, 0);

    /// <summary>The lock range that must cover <paramref name="key"/>: the orphan range, or its inode group.</summary>
    private static KeyRange LockRangeFor(ulong tree, BtrfsKey key) =>
        key.ObjectId == ObjectIds.Orphan
            ? new KeyRange(tree, new BtrfsKey(ObjectIds.Orphan, 0, 0), new BtrfsKey(ObjectIds.Orphan, (ItemType)byte.MaxValue, ulong.MaxValue))
            : KeyRange.ForInodeGroup(tree, key.ObjectId);

    private static CommitOutcome? CheckLock(ulong session, LockServer locks, ulong tree, ItemOperation op)
    {
        KeyRange range = LockRangeFor(tree, op.Key);
        if (!range.Contains(tree, op.EndKey))
        {
            return CommitOutcome.Reject(WireError.NoLocks, $"{op} spans more than one lock range (from {range})");
        }

        LockMode mode = locks.GetMode(session, range);
        bool blind = op.Kind is ItemOperationKind.Put or ItemOperationKind.Delete;
        bool allowed = mode == LockMode.Write || (mode == LockMode.WriteOnly && blind && op.Key.ObjectId == ObjectIds.Orphan);
        return allowed ? null : CommitOutcome.Reject(WireError.NoLocks, $"{op} needs WRITE on {range}; session {session} holds {mode}");
    }

    private CommitOutcome? CheckItems(WriteTransaction tx, ulong session, CommitRequest request, LockServer locks, Plan plan)
    {
        ulong tree = plan.Tree;
        foreach (ItemOperation op in request.Items)
        {
            if (CheckLock(session, locks, tree, op) is CommitOutcome refused)
            {
                return refused;
            }

            if (op.Kind == ItemOperationKind.Put)
            {
                if (ItemValidator.ValidatePut(op.Key, op.Value.Span, tx.NodeSize) is string bad)
                {
                    return CommitOutcome.Reject(WireError.Invalid, bad);
                }

                if (op.Key.Type == ItemType.InodeItem)
                {
                    plan.ClientInodes[op.Key.ObjectId] = op.Value.ToArray();
                }

                plan.ItemCount++;
                plan.Keys.Add(op.Key);
                plan.ItemBytes += op.Value.Length;
                continue;
            }

            if (op.Kind == ItemOperationKind.Delete && !ItemValidator.IsClientType(op.Key.Type))
            {
                return CommitOutcome.Reject(WireError.Invalid, $"{op}: {ItemTypeNames.Name(op.Key.Type)} items are server-owned; change file data with data operations");
            }

            // A range may cover server-owned items: only EXTENT_DATA of inodes the batch deletes.
            foreach ((BtrfsKey key, byte[] value) in tx.Scan(tree, op.Key, op.EndKey))
            {
                plan.ItemCount++;
                plan.Keys.Add(key);
                if (key.Type == ItemType.InodeItem)
                {
                    plan.DeletedInodes.Add(key.ObjectId);
                }
                else if (key.Type == ItemType.ExtentData)
                {
                    plan.DroppedExtents.Add(key.ObjectId);
                    var extent = new FileExtentItemView(value);
                    if (extent.Type != FileExtentType.Inline && extent.DiskBytenr != 0)
                    {
                        plan.DroppedExtentBytenrs.Add(extent.DiskBytenr);
                    }
                }
                else if (!ItemValidator.IsClientType(key.Type))
                {
                    return CommitOutcome.Reject(WireError.Invalid, $"{op} would delete {key}, a server-owned {ItemTypeNames.Name(key.Type)} item");
                }
            }
        }

        foreach (ulong ino in plan.DroppedExtents)
        {
            if (!plan.DeletedInodes.Contains(ino))
            {
                return CommitOutcome.Reject(WireError.Invalid, $"the batch deletes EXTENT_DATA items of inode {ino} but not the inode; use a truncate data operation");
            }
        }

        return null;
    }

    private static CommitOutcome? CheckData(WriteTransaction tx, ulong session, CommitRequest request, LockServer locks, Plan plan)
    {
        ulong tree = plan.Tree;
        foreach (DataOperation op in request.Data)
        {
            KeyRange range = KeyRange.ForInodeGroup(tree, op.Ino);
            LockMode mode = ItemValidator.IsInodeNumber(op.Ino) ? locks.GetMode(session, range) : LockMode.Null;
            if (mode != LockMode.Write)
            {
                return CommitOutcome.Reject(WireError.NoLocks, $"{op} needs WRITE on {range}; session {session} holds {mode}");
            }

            uint inodeMode;
            if (plan.ClientInodes.TryGetValue(op.Ino, out byte[]? put))
            {
                inodeMode = new InodeItemView(put).Mode;
            }
            else if (!plan.DeletedInodes.Contains(op.Ino) && tx.TryGet(tree, InodeKey(op.Ino), out byte[] existing))
            {
                inodeMode = new InodeItemView(existing).Mode;
            }
            else
            {
                return CommitOutcome.Reject(WireError.NotFound, $"{op}: inode {op.Ino} does not exist once the batch's items are applied");
            }

            if (InodeMode.IsSymlink(inodeMode))
            {
                // A symlink's target is its one inline extent, written once, at creation.
                int maxInline = ItemValidator.MaxItemSize(tx.NodeSize) - FileExtentItemLayout.InlineDataStart;
                if (op.Kind != DataOperationKind.Write || op.Offset != 0 || op.Data.Length is 0 || op.Data.Length > maxInline
                    || op.Data.Span.IndexOf((byte)0) >= 0 || HasExtents(tx, tree, op.Ino) || !plan.Symlinks.Add(op.Ino))
                {
                    return CommitOutcome.Reject(WireError.Invalid, $"{op}: a symlink takes one write of its target (1 to {maxInline} bytes, no NUL) at offset 0, when it has no target yet");
                }
            }
            else if (!InodeMode.IsRegular(inodeMode))
            {
                return CommitOutcome.Reject(InodeMode.IsDirectory(inodeMode) ? WireError.IsDir : WireError.Invalid, $"{op}: inode {op.Ino} is not a regular file (mode 0{Convert.ToString(inodeMode, 8)})");
            }

            if (op.Kind == DataOperationKind.Write)
            {
                plan.DataBytes += (ulong)op.Data.Length + (2 * (ulong)tx.SectorSize);
            }
            else if (op.Kind == DataOperationKind.Punch)
            {
                // Punch is lowered to writing zeros over the file's existing bytes (see ApplyData).
                plan.DataBytes += Math.Min(op.Length, FileSystemWriter.MaxFileSize) + (2 * (ulong)tx.SectorSize);
            }

            plan.DataInodes.Add(op.Ino);
            plan.Keys.Add(InodeKey(op.Ino));
            plan.Keys.Add(new BtrfsKey(op.Ino, ItemType.ExtentData, op.Offset));
        }

        return null;
    }

    private static bool HasExtents(WriteTransaction tx, ulong tree, ulong ino) =>
        tx.TryFindFirst(tree, new BtrfsKey(ino, ItemType.ExtentData, 0), out BtrfsKey found, out _)
        && found.ObjectId == ino && found.Type == ItemType.ExtentData;

    /// <summary>
    /// Reserves the tree blocks the batch can add, counted from the tree rather than per item (a
    /// per-item worst case refuses an untar's batch on a small volume): every clean block on the
    /// fs-tree paths of the batch's keys is copied once; leaves split at most once per half leaf
    /// of new payload and once per touched block; file data adds EXTENT_ITEMs, checksums and free
    /// space entries, which cluster where the new extents are; the extents deleted files drop
    /// change the extent, checksum and free space trees on those extents' paths (counted there
    /// too, twice: a leaf emptied by deletions merges with a neighbour). Then probes the data space.
    /// </summary>
    private static CommitOutcome? CheckSpace(WriteTransaction tx, CommitRequest request, Plan plan)
    {
        const int PathDepth = 8;
        plan.Keys.Sort();
        int halfLeaf = tx.NodeSize / 2;
        int copies = tx.CountCleanBlocksOnPaths(plan.Tree, plan.Keys);
        int splits = (int)(plan.ItemBytes / halfLeaf) + copies + 1;
        long dataMetadataBytes = (128L * request.Data.Count) + (long)(plan.DataBytes / 1024);
        int data = request.Data.Count == 0 ? 0 : (3 * 2 * (int)(dataMetadataBytes / halfLeaf)) + (3 * PathDepth);
        int freed = 0;
        if (plan.DroppedExtentBytenrs.Count > 0)
        {
            ulong[] bytenrs = [.. plan.DroppedExtentBytenrs.Order()];
            freed += 2 * tx.CountCleanBlocksOnPaths(ObjectIds.ExtentTree, bytenrs.Select(b => new BtrfsKey(b, ItemType.ExtentItem, 0)));
            freed += 2 * tx.CountCleanBlocksOnPaths(ObjectIds.CsumTree, bytenrs.Select(b => new BtrfsKey(ObjectIds.ExtentCsum, ItemType.ExtentCsum, b)));
            if (tx.TreeExists(ObjectIds.FreeSpaceTree))
            {
                freed += 2 * tx.CountCleanBlocksOnPaths(ObjectIds.FreeSpaceTree, bytenrs.Select(b => new BtrfsKey(b, ItemType.FreeSpaceExtent, 0)));
            }
        }

        int blocks = copies + splits + data + freed + PathDepth;
        if (!tx.TryReserveMetadataBlocks(blocks, isRemoval: request.Data.Count == 0 && plan.ClientInodes.Count == 0))
        {
            return CommitOutcome.Reject(WireError.NoSpace, $"no metadata space for a batch of {plan.ItemCount} items and {request.Data.Count} data operations (about {blocks} tree blocks)");
        }

        // Probe the data space the writes may need (allocation may add a chunk), then give it back.
        var probed = new List<(ulong Start, ulong Length)>();
        ulong got = 0;
        try
        {
            while (got < plan.DataBytes)
            {
                if (tx.AllocateData(Math.Min(plan.DataBytes - got, WriteTransaction.MaxExtentSize)) is not { } extent)
                {
                    return CommitOutcome.Reject(WireError.NoSpace, $"no data space for {plan.DataBytes} bytes of writes ({got} available)");
                }

                probed.Add(extent);
                got += extent.Length;
            }
        }
        finally
        {
            foreach ((ulong start, ulong length) in probed)
            {
                tx.ReleaseData(start, length);
            }
        }

        return null;
    }

    private static void ApplyItem(WriteTransaction tx, ulong tree, ItemOperation op, Plan plan)
    {
        switch (op.Kind)
        {
            case ItemOperationKind.Put:
                tx.Put(tree, op.Key, ServerFields(tx, tree, op.Key, op.Value.Span, plan));
                break;
            case ItemOperationKind.Delete:
                tx.Delete(tree, op.Key);
                break;
            default:
                foreach ((BtrfsKey key, byte[] data) in tx.Scan(tree, op.Key, op.EndKey))
                {
                    if (key.Type == ItemType.ExtentData)
                    {
                        DropExtentRef(tx, tree, key, data);
                    }
                }

                tx.DeleteRange(tree, op.Key, op.EndKey);
                break;
        }
    }

    /// <summary>Drops the data reference of one EXTENT_DATA item being deleted (inline items and holes have none).</summary>
    private static void DropExtentRef(WriteTransaction tx, ulong tree, BtrfsKey key, byte[] data)
    {
        var view = new FileExtentItemView(data);
        if (view.Type == FileExtentType.Inline || view.DiskBytenr == 0)
        {
            return;
        }

        tx.DropDataRef(view.DiskBytenr, view.DiskNumBytes, tree, key.ObjectId, key.Offset - view.Offset);
    }

    /// <summary>The value as stored: the client's bytes with the server-owned fields set.</summary>
    private static byte[] ServerFields(WriteTransaction tx, ulong tree, BtrfsKey key, ReadOnlySpan<byte> value, Plan plan)
    {
        byte[] stored = value.ToArray();
        switch (key.Type)
        {
            case ItemType.InodeItem:
                {
                    var w = new InodeItemWriter(stored);
                    if (tx.TryGet(tree, key, out byte[] existing))
                    {
                        var old = new InodeItemView(existing);
                        w.Nbytes = old.Nbytes;
                        w.Generation = old.Generation;
                    }
                    else
                    {
                        w.Nbytes = 0;
                        w.Generation = tx.Generation;
                    }

                    w.Transid = tx.Generation;
                    plan.ClientInodes[key.ObjectId] = stored;
                    break;
                }

            case ItemType.DirItem or ItemType.DirIndex:
                for (int at = 0; at < stored.Length;)
                {
                    var w = new DirItemWriter(stored.AsSpan(at));
                    w.Transid = tx.Generation;
                    at += DirItemLayout.EntrySize(w.NameLength, w.DataLength);
                }

                break;
        }

        return stored;
    }

    private static void ApplyData(WriteTransaction tx, FileSystemWriter files, DataOperation op, Plan plan)
    {
        WriteStatus status;
        if (plan.Symlinks.Contains(op.Ino))
        {
            tx.Insert(plan.Tree, new BtrfsKey(op.Ino, ItemType.ExtentData, 0), FsItemPayloads.InlineExtent(tx.Generation, op.Data.Span));
            tx.TryGet(plan.Tree, InodeKey(op.Ino), out byte[] inode);
            new InodeItemWriter(inode).Nbytes = (ulong)op.Data.Length;
            tx.Put(plan.Tree, InodeKey(op.Ino), inode);
            return;
        }

        switch (op.Kind)
        {
            case DataOperationKind.Write:
                status = files.Write(tx, op.Ino, op.Offset, op.Data.Span);
                break;
            case DataOperationKind.Truncate:
                status = files.Truncate(tx, op.Ino, op.Offset);
                break;
            default:
                status = Punch(tx, files, op);
                break;
        }

        if (status != WriteStatus.Ok)
        {
            throw new WriterFaultException($"{op} in tree {plan.Tree} failed with {status} after the batch was checked; the batch is half applied");
        }
    }

    /// <summary>
    /// A hole punch, lowered to zeros written over the part of the range inside the file: reads
    /// are exactly those of a hole, but the space is allocated (FileSystemWriter has no punch yet).
    /// </summary>
    private static WriteStatus Punch(WriteTransaction tx, FileSystemWriter files, DataOperation op)
    {
        if (!files.TryGetInode(tx, op.Ino, out InodeItem inode) || op.Offset >= inode.Size)
        {
            return WriteStatus.Ok;
        }

        ulong end = Math.Min(inode.Size, op.Offset + op.Length);
        byte[] zeros = new byte[WriteChunk];
        for (ulong at = op.Offset; at < end;)
        {
            int n = (int)Math.Min((ulong)WriteChunk, end - at);
            WriteStatus s = files.Write(tx, op.Ino, at, zeros.AsSpan(0, n));
            if (s != WriteStatus.Ok)
            {
                return s;
            }

            at += (ulong)n;
        }

        return WriteStatus.Ok;
    }

    private static List<WireItem> ServerItems(WriteTransaction tx, ulong tree, Plan plan)
    {
        var keys = new SortedDictionary<BtrfsKey, byte[]>();
        foreach (ulong ino in plan.ClientInodes.Keys.Concat(plan.DataInodes))
        {
            if (tx.TryGet(tree, InodeKey(ino), out byte[] inode))
            {
                keys[InodeKey(ino)] = inode;
            }

            if (plan.DataInodes.Contains(ino))
            {
                foreach ((BtrfsKey key, byte[] data) in tx.Scan(tree, new BtrfsKey(ino, ItemType.ExtentData, 0), new BtrfsKey(ino, ItemType.ExtentData, ulong.MaxValue)))
                {
                    keys[key] = data;
                }
            }
        }

        return [.. keys.Select(kv => new WireItem(kv.Key, kv.Value))];
    }

    private FileSystemWriter Files(ulong tree)
    {
        if (!_files.TryGetValue(tree, out FileSystemWriter? files))
        {
            files = new FileSystemWriter(tree);
            _files[tree] = files;
        }

        return files;
    }

    /// <summary>What the checks learned about a batch, used again while applying it.</summary>
    private sealed class Plan(ulong tree)
    {
        public ulong Tree { get; } = tree;

        /// <summary>INODE_ITEMs the client puts, by inode; after apply, the stored value.</summary>
        public Dictionary<ulong, byte[]> ClientInodes { get; } = [];

        public HashSet<ulong> DeletedInodes { get; } = [];

        public HashSet<ulong> DroppedExtents { get; } = [];

        public HashSet<ulong> DataInodes { get; } = [];

        public HashSet<ulong> Symlinks { get; } = [];

        public int ItemCount { get; set; }

        /// <summary>Every key the batch puts or deletes in the fs tree, and those its data operations write.</summary>
        public List<BtrfsKey> Keys { get; } = [];

        public long ItemBytes { get; set; }

        /// <summary>Disk extents the deleted EXTENT_DATA items referenced.</summary>
        public HashSet<ulong> DroppedExtentBytenrs { get; } = [];

        public ulong DataBytes { get; set; }
    }
}
