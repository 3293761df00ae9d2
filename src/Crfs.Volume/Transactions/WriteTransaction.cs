// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Format.Checksums;
using Crfs.Volume.Allocation;

namespace Crfs.Volume.Transactions;

/// <summary>
/// The running transaction of a <see cref="VolumeWriter"/>: every change made through it lands
/// in the same set of dirty tree blocks, and the next commit makes all of it durable at once.
/// </summary>
/// <remarks>
/// <para>
/// A transaction edits any tree by key (<see cref="Insert"/>, <see cref="Update"/>,
/// <see cref="Delete"/>, <see cref="DeleteRange"/>, reads through <see cref="TryGet"/> and
/// <see cref="Scan"/> see its own changes). Derived state is not edited directly: tree-block
/// allocations and frees become pending metadata references, data extent references are
/// counted per extent (<see cref="AddDataRef"/>, <see cref="DropDataRef"/>), and the commit
/// applies them to the extent tree, the checksum tree, the block group items and the free space
/// tree in a loop until nothing changes (those trees are copy-on-write too, so applying
/// references allocates blocks, which are references again).
/// </para>
/// <para>
/// Data is written to newly allocated extents straight away (<see cref="WriteData"/>); it is
/// unreachable until the commit's superblock is on disk, and the commit flushes the device
/// before writing the superblock, so it is durable by then. Not thread-safe: the writer lock
/// guards it.
/// </para>
/// </remarks>
public sealed partial class WriteTransaction
{
    private readonly VolumeWriter _writer;
    private readonly Dictionary<ulong, DataExtentRefs> _dataRefs = [];
    private readonly TaskCompletionSource _durable = new(TaskCreationOptions.RunContinuationsAsynchronously);

    internal WriteTransaction(VolumeWriter writer, ulong generation)
    {
        _writer = writer;
        Generation = generation;
    }

    /// <summary>The transaction id this transaction commits as (T).</summary>
    public ulong Generation { get; }

    public VolumeWriter Writer => _writer;

    public int NodeSize => _writer.NodeSize;

    public int SectorSize => _writer.SectorSize;

    /// <summary>Completes when the superblock of the commit holding this transaction is durable.</summary>
    public Task Durable => _durable.Task;

    internal TaskCompletionSource DurableSource => _durable;

    /// <summary>Dirty tree blocks so far (a measure of how much the commit will write).</summary>
    public int DirtyBlocks => _dirty.Count;

    /// <summary>True once anything changed.</summary>
    public bool HasChanges => _dirty.Count > 0 || _dataRefs.Count > 0 || _metaRefs.Count > 0;

    internal TreeRoot Root(ulong treeId)
    {
        if (_writer.Roots.TryGetValue(treeId, out TreeRoot? root))
        {
            return root;
        }

        if (!TryFindFirst(ObjectIds.RootTree, new BtrfsKey(treeId, ItemType.RootItem, 0), out BtrfsKey key, out byte[] data)
            || key.ObjectId != treeId || key.Type != ItemType.RootItem)
        {
            throw new WriterFaultException($"tree {treeId} has no ROOT_ITEM in the root tree");
        }

        var item = new RootItemView(data);
        root = new TreeRoot(treeId, item.Bytenr, item.Level, item.Generation);
        _writer.Roots[treeId] = root;
        return root;
    }

    public bool TreeExists(ulong treeId) =>
        _writer.Roots.ContainsKey(treeId)
        || (TryFindFirst(ObjectIds.RootTree, new BtrfsKey(treeId, ItemType.RootItem, 0), out BtrfsKey key, out _)
            && key.ObjectId == treeId && key.Type == ItemType.RootItem);

    /// <summary>
    /// Creates an empty tree (a new root leaf) and registers it. Its ROOT_ITEM must be inserted by
    /// the caller (except for the root and chunk trees); the commit keeps it up to date.
    /// </summary>
    internal void CreateTree(ulong treeId)
    {
        var root = new TreeRoot(treeId, 0, 0, Generation);
        _writer.Roots[treeId] = root;
        TreeNode leaf = NewBlock(root, 0);
        SetRoot(root, leaf);
        root.RecordedBytenr = 0;
        root.Changed = true;
    }

    // ---- data extents ----

    /// <summary>
    /// Allocates a data extent of at most <paramref name="maxLength"/> bytes (rounded up to
    /// sectors), adding a data chunk when the groups are full. Null when no space is left: the
    /// ENOSPC outcome. The extent is freed at commit unless a reference is added.
    /// </summary>
    public (ulong Start, ulong Length)? AllocateData(ulong maxLength)
    {
        ulong sector = (ulong)SectorSize;
        maxLength = Math.Min((maxLength + sector - 1) / sector * sector, MaxExtentSize);
        (ulong, ulong)? got = _writer.Allocator.AllocateData(maxLength);
        if (got is null && TryAddChunk(SpaceKind.Data, maxLength))
        {
            got = _writer.Allocator.AllocateData(maxLength);
        }

        if (got is (ulong start, ulong length))
        {
            _dataRefs[start] = new DataExtentRefs(start, length, isNew: true);
            return (start, length);
        }

        return null;
    }

    /// <summary>Gives back an extent from <see cref="AllocateData"/> that was never referenced.</summary>
    public void ReleaseData(ulong start, ulong length)
    {
        if (!_dataRefs.TryGetValue(start, out DataExtentRefs? refs) || !refs.IsNew || refs.Deltas.Count != 0 || refs.Length != length)
        {
            throw new WriterFaultException($"release of data extent [{start}, {start + length}), which is not an unreferenced new extent");
        }

        _dataRefs.Remove(start);
        _writer.Allocator.FreeUncommitted(start, length);
    }

    /// <summary>The largest data extent the writer creates (<c>BTRFS_MAX_EXTENT_SIZE</c>).</summary>
    public const ulong MaxExtentSize = 128UL << 20;

    /// <summary>Bytes of data space that could still be allocated without a new chunk.</summary>
    public ulong FreeDataBytes => _writer.Allocator.FreeBytes(SpaceKind.Data);

    /// <summary>Counts one more EXTENT_DATA item of (root, inode, file offset − extent offset) on the extent.</summary>
    public void AddDataRef(ulong bytenr, ulong length, ulong root, ulong inode, ulong offset) =>
        DataRefs(bytenr, length).Add(root, inode, offset, +1);

    public void DropDataRef(ulong bytenr, ulong length, ulong root, ulong inode, ulong offset) =>
        DataRefs(bytenr, length).Add(root, inode, offset, -1);

    private DataExtentRefs DataRefs(ulong bytenr, ulong length)
    {
        if (_dataRefs.TryGetValue(bytenr, out DataExtentRefs? refs))
        {
            if (refs.Length != length)
            {
                throw new WriterFaultException($"data extent {bytenr} referenced with length {length}, but it is {refs.Length} bytes");
            }

            return refs;
        }

        refs = new DataExtentRefs(bytenr, length, isNew: false);
        _dataRefs[bytenr] = refs;
        return refs;
    }

    /// <summary>Writes file data into an extent allocated in this transaction, on every copy.</summary>
    public void WriteData(ulong logical, ReadOnlySpan<byte> data) => _writer.WriteLogical(logical, data);

    /// <summary>Reads committed or just-written data (one copy).</summary>
    public void ReadData(ulong logical, Span<byte> destination) => _writer.ReadLogical(logical, destination);

    // ---- space reservation ----

    /// <summary>
    /// Makes sure an operation touching about <paramref name="items"/> items can run and the commit
    /// after it cannot run out of metadata space, adding a metadata chunk if needed. False means
    /// ENOSPC: nothing was changed. Removals pass <paramref name="isRemoval"/> and may dip into
    /// half of the global reserve, so that space can always be freed.
    /// </summary>
    public bool TryReserveMetadata(int items, bool isRemoval = false) => TryReserveMetadataBlocks(items * 4, isRemoval);

    /// <summary>
    /// As <see cref="TryReserveMetadata"/>, for a caller that has counted the tree blocks its
    /// change can add (copies of clean blocks and split-off halves; see <see cref="CountCleanBlocksOnPaths"/>).
    /// </summary>
    public bool TryReserveMetadataBlocks(int blocks, bool isRemoval = false)
    {
        ulong node = (ulong)NodeSize;
        ulong globalReserve = _writer.GlobalReserve;
        ulong need = ((ulong)blocks * node) + ((ulong)_dirty.Count * node / 8) + (isRemoval ? globalReserve / 2 : globalReserve);
        if (_writer.Allocator.FreeBytes(SpaceKind.Metadata) >= need)
        {
            return true;
        }

        TryAddChunk(SpaceKind.Metadata, 0);
        return _writer.Allocator.FreeBytes(SpaceKind.Metadata) >= need;
    }

    private sealed class DataExtentRefs
    {
        public DataExtentRefs(ulong bytenr, ulong length, bool isNew)
        {
            Bytenr = bytenr;
            Length = length;
            IsNew = isNew;
        }

        public ulong Bytenr { get; }

        public ulong Length { get; }

        public bool IsNew { get; }

        public Dictionary<(ulong Root, ulong Inode, ulong Offset), long> Deltas { get; } = [];

        public void Add(ulong root, ulong inode, ulong offset, long delta)
        {
            var k = (root, inode, offset);
            long v = Deltas.GetValueOrDefault(k) + delta;
            if (v == 0)
            {
                Deltas.Remove(k);
            }
            else
            {
                Deltas[k] = v;
            }
        }
    }

    internal static byte[] MetadataItem(ulong generation, ulong owner)
    {
        byte[] item = new byte[ExtentItemLayout.Size + ExtentInlineRefLayout.Size];
        var w = new ExtentItemWriter(item);
        w.Refs = 1;
        w.Generation = generation;
        w.Flags = ExtentFlags.TreeBlock;
        var r = new ExtentInlineRefWriter(item.AsSpan(ExtentItemLayout.Size));
        r.Type = ItemType.TreeBlockRef;
        r.Offset = owner;
        return item;
    }

    internal int ChecksumSize => BtrfsChecksum.Size(_writer.ChecksumType);
}
