// SPDX-License-Identifier: MIT
using Crfs.FileSystem;
using Crfs.Fuse;
using Crfs.Posix;

namespace Crfs.Mount;

/// <summary>
/// Presents a <see cref="CrfsFileSystem"/> to the kernel through <see cref="IFuseFileSystem"/>:
/// every FUSE opcode the file system can answer is forwarded with the caller's fsuid/fsgid from
/// the request header, and its errno comes back unchanged.
/// </summary>
/// <remarks>
/// <para><b>Node ids.</b> A FUSE node id is the btrfs inode number, except that the kernel's root
/// (node 1) is the subvolume's root directory (inode 256 by default). Inode 1 never names a file
/// in an fs tree, so the mapping is a bijection with no table. The generation handed out is 0:
/// btrfs allocates inode numbers upwards and does not reuse them while the volume is mounted by one
/// writer, which is what a generation would otherwise guard against.</para>
/// <para><b>Lookup counts.</b> <see cref="CrfsFileSystem"/> keeps no per-inode state that the
/// kernel's references pin (open handles and orphans are its own business), so the counts here
/// are bookkeeping: they make leaks visible (<see cref="NodeCount"/>) and let a later coherence
/// layer know which inodes the kernel still caches, and so which to invalidate.</para>
/// <para><b>Caching.</b> The kernel's caches follow the locks (FuseBridge.Coherence.cs): names and
/// attributes get long timeouts (<see cref="CacheTimeout"/>) only while the covering inode-group
/// lock is held, else 0, and when a revoke drops a range the bridge queues NOTIFY_INVAL_ENTRY (expire-only
/// for directories) and NOTIFY_INVAL_INODE for everything the kernel cached under it. So what another
/// client's system call returned is what the next system call here sees. Opens do not keep the page cache.</para>
/// <para><b>Threads.</b> The FUSE interface is synchronous and the file system asynchronous; each
/// call blocks its reader thread on the operation (the FUSE reader pool grows so one reader always
/// waits for new requests). An INTERRUPT cancels the operation and answers EINTR.</para>
/// </remarks>
public sealed partial class FuseBridge : IFuseFileSystem
{
    /// <summary>How many directory entries one READDIR asks the file system for at a time.</summary>
    private const int ReadDirBatch = 128;

    private readonly CrfsFileSystem _fs;
    private readonly Lock _countsGate = new();
    private readonly Dictionary<ulong, ulong> _lookupCounts = [];

    public FuseBridge(CrfsFileSystem fileSystem)
    {
        ArgumentNullException.ThrowIfNull(fileSystem);
        _fs = fileSystem;
        _fs.Session.Invalidated += OnInvalidated;
        _fs.Session.Locks.LocksReset += OnLocksReset;
    }

    /// <summary>Nodes the kernel currently holds references to (the root not counted).</summary>
    public int NodeCount
    {
        get
        {
            lock (_countsGate)
            {
                return _lookupCounts.Count;
            }
        }
    }

    /// <summary>The kernel's references to the node of <paramref name="ino"/> (0 when it holds none).</summary>
    public ulong LookupCount(ulong ino)
    {
        lock (_countsGate)
        {
            return _lookupCounts.GetValueOrDefault(ToNodeId(ino));
        }
    }

    // ---------------- node ids ----------------

    private ulong ToIno(ulong nodeId) => nodeId == IFuseFileSystem.RootId ? _fs.RootIno : nodeId;

    private ulong ToNodeId(ulong ino) => ino == _fs.RootIno ? IFuseFileSystem.RootId : ino;

    /// <summary>
    /// The caller's ids. FUSE passes only fsuid and fsgid; the supplementary groups are read from
    /// <c>/proc/PID/status</c>, lazily, the first time a check gets past the owner and primary group
    /// (root never needs them). The kernel's SECURITY_CTX/CREATE_SUPP_GROUP extension carries one
    /// group and only for creates, so /proc is the complete source. The header's pid is the calling
    /// thread's id, whose status shows that thread's credentials; a caller that changes its groups
    /// while its own request is in flight may be judged by either set.
    /// </summary>
    private static Caller CallerOf(in FuseContext context) =>
        context.Uid == 0 || context.Pid == 0 ? new(context.Uid, context.Gid) : new(context.Uid, context.Gid, new ProcessGroups(context.Pid));

    /// <summary>
    /// Counts one kernel reference to the node of <paramref name="attributes"/>, reached as
    /// <paramref name="name"/> in <paramref name="parentNode"/>, and describes it with the timeouts the
    /// locks allow (<paramref name="mark"/>: the invalidation clock before the operation ran).
    /// </summary>
    private FuseEntry Reference(ulong parentNode, ReadOnlySpan<byte> name, in InodeAttributes attributes, long mark)
    {
        ulong nodeId = ToNodeId(attributes.Ino);
        if (nodeId != IFuseFileSystem.RootId)
        {
            lock (_countsGate)
            {
                _lookupCounts[nodeId] = _lookupCounts.GetValueOrDefault(nodeId) + 1;
            }
        }

        // Counted before the timeouts are decided, so a concurrent invalidation either sees the node or stamps its range.
        bool isDirectory = (attributes.Mode & 0xF000) == 0x4000;
        TimeSpan entryTimeout = TrackEntry(parentNode, name, isDirectory ? EntryKind.Directory : EntryKind.File, mark);
        TimeSpan attrTimeout = AttrTimeoutFor(attributes.Ino, mark);
        return new FuseEntry { NodeId = nodeId, Attributes = attributes, EntryTimeout = entryTimeout, AttrTimeout = attrTimeout };
    }

    public void Forget(ulong nodeId, ulong lookupCount)
    {
        lock (_countsGate)
        {
            if (_lookupCounts.TryGetValue(nodeId, out ulong count))
            {
                if (count <= lookupCount)
                {
                    _lookupCounts.Remove(nodeId);
                }
                else
                {
                    _lookupCounts[nodeId] = count - lookupCount;
                }
            }
        }
    }

    // ---------------- blocking on the file system ----------------

    /// <summary>
    /// Waits for an operation. Cancellation by INTERRUPT is an expected outcome (EINTR); any other
    /// exception is a bug or a lost server and propagates (the dispatcher answers EIO and logs it).
    /// </summary>
    private static T Wait<T>(ValueTask<T> operation, CancellationToken cancellationToken, T interrupted)
    {
        try
        {
            return operation.IsCompletedSuccessfully ? operation.Result : operation.AsTask().GetAwaiter().GetResult();
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            return interrupted;
        }
    }

    private static FsResult<T> Wait<T>(ValueTask<FsResult<T>> operation, CancellationToken cancellationToken) =>
        Wait(operation, cancellationToken, (FsResult<T>)Errno.EINTR);

    private static Errno Wait(ValueTask<Errno> operation, CancellationToken cancellationToken) =>
        Wait(operation, cancellationToken, Errno.EINTR);

    /// <summary>The reply naming a node; <paramref name="mark"/> must be taken before the operation (arguments run left to right).</summary>
    private Errno EntryReply(ulong parentNode, ReadOnlySpan<byte> name, long mark, FsResult<InodeAttributes> result, out FuseEntry entry)
    {
        entry = result.IsOk ? Reference(parentNode, name, result.Value, mark) : default;
        return result.Error;
    }

    // ---------------- names ----------------

    public Errno Lookup(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, out FuseEntry entry)
    {
        long mark = CoherenceMark();
        FsResult<InodeAttributes> result = Wait(_fs.LookupAsync(CallerOf(context), ToIno(parent), name.ToArray(), context.CancellationToken), context.CancellationToken);
        return result.Error == Errno.ENOENT ? NegativeEntry(parent, name, mark, out entry) : EntryReply(parent, name, mark, result, out entry);
    }

    public Errno GetAttr(in FuseContext context, ulong nodeId, ulong? fileHandle, out FuseAttrReply reply)
    {
        long mark = CoherenceMark();
        FsResult<InodeAttributes> result = Wait(_fs.GetAttrAsync(ToIno(nodeId), context.CancellationToken), context.CancellationToken);
        reply = result.IsOk ? new FuseAttrReply(result.Value, AttrTimeoutFor(result.Value.Ino, mark)) : default;
        return result.Error;
    }

    public Errno SetAttr(in FuseContext context, ulong nodeId, in FuseSetAttr changes, out FuseAttrReply reply)
    {
        // Ctime and KILL_SUIDGID have no field in SetAttributes: the file system sets ctime itself
        // on every change and clears set-id bits on unprivileged truncates and chowns.
        var change = new SetAttributes
        {
            Mode = changes.Has(SetAttrFields.Mode) ? changes.Mode : null,
            Uid = changes.Has(SetAttrFields.Uid) ? changes.Uid : null,
            Gid = changes.Has(SetAttrFields.Gid) ? changes.Gid : null,
            Size = changes.Has(SetAttrFields.Size) ? changes.Size : null,
            Atime = changes.Has(SetAttrFields.Atime) && !changes.Has(SetAttrFields.AtimeNow) ? changes.Atime : null,
            Mtime = changes.Has(SetAttrFields.Mtime) && !changes.Has(SetAttrFields.MtimeNow) ? changes.Mtime : null,
            AtimeNow = changes.Has(SetAttrFields.AtimeNow),
            MtimeNow = changes.Has(SetAttrFields.MtimeNow),
        };
        long mark = CoherenceMark();
        FsResult<InodeAttributes> result = Wait(_fs.SetAttrAsync(CallerOf(context), ToIno(nodeId), change, context.CancellationToken), context.CancellationToken);
        reply = result.IsOk ? new FuseAttrReply(result.Value, AttrTimeoutFor(result.Value.Ino, mark)) : default;
        return result.Error;
    }

    public Errno MkNod(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, uint mode, uint rdev, uint umask, out FuseEntry entry) =>
        EntryReply(parent, name, CoherenceMark(), Wait(_fs.MkNodAsync(CallerOf(context), ToIno(parent), name.ToArray(), mode, rdev, context.CancellationToken), context.CancellationToken), out entry);

    public Errno MkDir(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, uint mode, uint umask, out FuseEntry entry) =>
        EntryReply(parent, name, CoherenceMark(), Wait(_fs.MkDirAsync(CallerOf(context), ToIno(parent), name.ToArray(), mode, context.CancellationToken), context.CancellationToken), out entry);

    public Errno SymLink(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, out FuseEntry entry) =>
        EntryReply(parent, name, CoherenceMark(), Wait(_fs.SymlinkAsync(CallerOf(context), ToIno(parent), name.ToArray(), target.ToArray(), context.CancellationToken), context.CancellationToken), out entry);

    public Errno ReadLink(in FuseContext context, ulong nodeId, Span<byte> target, out int length)
    {
        length = 0;
        FsResult<byte[]> result = Wait(_fs.ReadLinkAsync(ToIno(nodeId), context.CancellationToken), context.CancellationToken);
        if (!result.IsOk)
        {
            return result.Error;
        }

        byte[] bytes = result.Value!;
        if (bytes.Length > target.Length)
        {
            return Errno.ENAMETOOLONG;
        }

        bytes.CopyTo(target);
        length = bytes.Length;
        return Errno.Ok;
    }

    public Errno Link(in FuseContext context, ulong nodeId, ulong newParent, ReadOnlySpan<byte> newName, out FuseEntry entry) =>
        EntryReply(newParent, newName, CoherenceMark(), Wait(_fs.LinkAsync(CallerOf(context), ToIno(nodeId), ToIno(newParent), newName.ToArray(), context.CancellationToken), context.CancellationToken), out entry);

    public Errno Unlink(in FuseContext context, ulong parent, ReadOnlySpan<byte> name) =>
        Wait(_fs.UnlinkAsync(CallerOf(context), ToIno(parent), name.ToArray(), context.CancellationToken), context.CancellationToken);

    public Errno RmDir(in FuseContext context, ulong parent, ReadOnlySpan<byte> name) =>
        Wait(_fs.RmDirAsync(CallerOf(context), ToIno(parent), name.ToArray(), context.CancellationToken), context.CancellationToken);

    public Errno Rename(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ulong newParent, ReadOnlySpan<byte> newName, Fuse.RenameFlags flags) =>
        Wait(
            _fs.RenameAsync(CallerOf(context), ToIno(parent), name.ToArray(), ToIno(newParent), newName.ToArray(), (FileSystem.RenameFlags)(uint)flags, context.CancellationToken),
            context.CancellationToken);

    /// <summary>
    /// access(2), and the kernel's checks for chdir and exec, by the file system's own permission
    /// rules. <see cref="CrfsMount"/> mounts with default_permissions, and then the kernel checks
    /// these itself from attributes that follow the locks (FuseBridge.Coherence) and never sends
    /// ACCESS; this answers a bridge mounted without it, where ENOSYS would make the kernel grant
    /// every later access. The price of default_permissions is a GETATTR before a permission check
    /// on attributes a WRITE invalidated (about one more request per file in an untar).
    /// </summary>
    public Errno Access(in FuseContext context, ulong nodeId, uint mask) =>
        Wait(_fs.AccessAsync(CallerOf(context), ToIno(nodeId), mask, context.CancellationToken), context.CancellationToken);

    // ---------------- files ----------------

    public Errno Open(in FuseContext context, ulong nodeId, OpenFlags flags, bool killSuidGid, out FuseOpenReply reply)
    {
        FsResult<OpenedFile> result = Wait(_fs.OpenAsync(CallerOf(context), ToIno(nodeId), flags, context.CancellationToken), context.CancellationToken);
        reply = result.IsOk ? new FuseOpenReply(result.Value.Handle) : default;
        return result.Error;
    }

    public Errno Create(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, uint mode, uint umask, OpenFlags flags, out FuseEntry entry, out FuseOpenReply reply)
    {
        long mark = CoherenceMark();
        FsResult<OpenedFile> result = Wait(_fs.CreateAndOpenAsync(CallerOf(context), ToIno(parent), name.ToArray(), mode, flags, context.CancellationToken), context.CancellationToken);
        if (!result.IsOk)
        {
            entry = default;
            reply = default;
            return result.Error;
        }

        entry = Reference(parent, name, result.Value.Attributes, mark);
        reply = new FuseOpenReply(result.Value.Handle);
        return Errno.Ok;
    }

    public Errno Read(in FuseContext context, ulong nodeId, ulong fileHandle, long offset, Span<byte> buffer, out int bytesRead)
    {
        bytesRead = 0;
        if (offset < 0)
        {
            return Errno.EINVAL;
        }

        FsResult<byte[]> result = Wait(_fs.ReadAsync(fileHandle, (ulong)offset, (uint)buffer.Length, context.CancellationToken), context.CancellationToken);
        if (!result.IsOk)
        {
            return result.Error;
        }

        byte[] data = result.Value!;
        int n = Math.Min(data.Length, buffer.Length);
        data.AsSpan(0, n).CopyTo(buffer);
        bytesRead = n;
        return Errno.Ok;
    }

    public Errno Write(in FuseContext context, ulong nodeId, ulong fileHandle, long offset, ReadOnlySpan<byte> data, FuseWriteFlags flags, out int bytesWritten)
    {
        bytesWritten = 0;
        if (offset < 0)
        {
            return Errno.EINVAL;
        }

        // The span lives in the reader's buffer only for this call; the file system keeps the bytes.
        FsResult<int> result = Wait(_fs.WriteAsync(CallerOf(context), fileHandle, (ulong)offset, data.ToArray(), context.CancellationToken), context.CancellationToken);
        bytesWritten = result.IsOk ? result.Value : 0;
        return result.Error;
    }

    /// <summary>close(2): nothing to do. Written data lives in the session's transaction; fsync makes it durable.</summary>
    // No Flush: close(2) makes nothing durable here (fsync, crfs sync, the commit timer and unmount
    // do), and POSIX locks are the kernel's own on this mount. The default ENOSYS tells the kernel
    // once, and it stops sending a FLUSH with every close.

    public Errno Release(in FuseContext context, ulong nodeId, ulong fileHandle, OpenFlags flags, FuseReleaseFlags releaseFlags, ulong lockOwner) =>
        Wait(_fs.ReleaseAsync(fileHandle, context.CancellationToken), context.CancellationToken);

    public Errno Fsync(in FuseContext context, ulong nodeId, ulong fileHandle, bool dataOnly) => Sync();

    public Errno FsyncDir(in FuseContext context, ulong nodeId, ulong fileHandle, bool dataOnly) => Sync();

    public Errno SyncFs(in FuseContext context, ulong nodeId) => Sync();

    public Errno Fallocate(in FuseContext context, ulong nodeId, ulong fileHandle, long offset, long length, int mode)
    {
        if (offset < 0 || length <= 0)
        {
            return Errno.EINVAL;
        }

        return Wait(_fs.FallocateAsync(fileHandle, mode, (ulong)offset, (ulong)length, context.CancellationToken), context.CancellationToken);
    }

    /// <summary>Commits the session's transaction; not cancellable (a commit in flight finishes either way).</summary>
    private Errno Sync() => _fs.SyncAsync().AsTask().GetAwaiter().GetResult();

    // ---------------- directories ----------------

    /// <summary>
    /// opendir(3) must fail with EACCES on a directory the caller may not read, as open(2) on a file
    /// does; with OPENDIR unanswered (NO_OPENDIR_SUPPORT) the refusal would only come at the first
    /// READDIR. The handle is 0: listings are read by offset, nothing is kept per open directory.
    /// </summary>
    public Errno OpenDir(in FuseContext context, ulong nodeId, OpenFlags flags, out FuseOpenReply reply)
    {
        reply = new FuseOpenReply(0);
        return Wait(_fs.AccessAsync(CallerOf(context), ToIno(nodeId), 4, context.CancellationToken), context.CancellationToken);
    }

    public Errno ReleaseDir(in FuseContext context, ulong nodeId, ulong fileHandle) => Errno.Ok;

    public Errno ReadDir(in FuseContext context, ulong nodeId, ulong fileHandle, ulong offset, ref FuseDirectoryWriter writer)
    {
        ulong ino = ToIno(nodeId);
        while (true)
        {
            FsResult<IReadOnlyList<DirectoryEntry>> result = Wait(
                _fs.ReadDirAsync(CallerOf(context), ino, offset, ReadDirBatch, plus: false, context.CancellationToken), context.CancellationToken);
            if (!result.IsOk)
            {
                // Entries already in the buffer are delivered; the error shows on the next call.
                return writer.Count > 0 ? Errno.Ok : result.Error;
            }

            foreach (DirectoryEntry e in result.Value!)
            {
                if (!writer.TryAdd(e.Name, e.Ino, e.Type, e.NextOffset))
                {
                    return Errno.Ok;
                }

                offset = e.NextOffset;
            }

            if (result.Value!.Count < ReadDirBatch)
            {
                return Errno.Ok;
            }
        }
    }

    public Errno ReadDirPlus(in FuseContext context, ulong nodeId, ulong fileHandle, ulong offset, ref FuseDirectoryPlusWriter writer)
    {
        ulong ino = ToIno(nodeId);
        while (true)
        {
            long mark = CoherenceMark();
            FsResult<IReadOnlyList<DirectoryEntry>> result = Wait(
                _fs.ReadDirAsync(CallerOf(context), ino, offset, ReadDirBatch, plus: true, context.CancellationToken), context.CancellationToken);
            if (!result.IsOk)
            {
                return writer.Count > 0 ? Errno.Ok : result.Error;
            }

            foreach (DirectoryEntry e in result.Value!)
            {
                bool dots = e.Name.AsSpan().SequenceEqual("."u8) || e.Name.AsSpan().SequenceEqual(".."u8);
                FuseEntry entry;
                if (dots || e.Attributes is null)
                {
                    // Node 0: listed without a reference; the kernel looks the name up when needed.
                    entry = new FuseEntry { Attributes = new InodeAttributes { Ino = e.Ino, Mode = (uint)e.Type } };
                    if (!writer.TryAdd(e.Name, entry, e.NextOffset))
                    {
                        return Errno.Ok;
                    }
                }
                else
                {
                    // Count first, give back if the kernel's buffer is full: only delivered entries count.
                    entry = Reference(nodeId, e.Name, e.Attributes.Value, mark);
                    if (!writer.TryAdd(e.Name, entry, e.NextOffset))
                    {
                        Forget(entry.NodeId, 1);
                        return Errno.Ok;
                    }
                }

                offset = e.NextOffset;
            }

            if (result.Value!.Count < ReadDirBatch)
            {
                return Errno.Ok;
            }
        }
    }

    public Errno StatFs(in FuseContext context, ulong nodeId, out FuseStatFs stat)
    {
        FsResult<FsStatistics> result = Wait(_fs.StatfsAsync(context.CancellationToken), context.CancellationToken);
        if (!result.IsOk)
        {
            stat = default;
            return result.Error;
        }

        FsStatistics s = result.Value;
        stat = new FuseStatFs
        {
            Blocks = s.Blocks,
            FreeBlocks = s.FreeBlocks,
            AvailableBlocks = s.AvailableBlocks,
            Files = s.Files,
            FreeFiles = s.FreeFiles,
            BlockSize = s.BlockSize,
            FragmentSize = s.BlockSize,
            MaxNameLength = s.NameMax,
        };
        return Errno.Ok;
    }

    // ---------------- extended attributes ----------------

    public Errno SetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, XattrFlags flags)
    {
        XattrSetMode mode = flags switch
        {
            XattrFlags.None => XattrSetMode.Any,
            XattrFlags.Create => XattrSetMode.Create,
            XattrFlags.Replace => XattrSetMode.Replace,
            _ => (XattrSetMode)(-1),
        };
        if (mode < 0)
        {
            return Errno.EINVAL;
        }

        return Wait(_fs.SetXattrAsync(CallerOf(context), ToIno(nodeId), name.ToArray(), value.ToArray(), mode, context.CancellationToken), context.CancellationToken);
    }

    public Errno GetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, Span<byte> value, out int valueLength) =>
        CopyOut(Wait(_fs.GetXattrAsync(CallerOf(context), ToIno(nodeId), name.ToArray(), context.CancellationToken), context.CancellationToken), value, out valueLength);

    public Errno ListXattr(in FuseContext context, ulong nodeId, Span<byte> names, out int namesLength) =>
        CopyOut(Wait(_fs.ListXattrAsync(CallerOf(context), ToIno(nodeId), context.CancellationToken), context.CancellationToken), names, out namesLength);

    public Errno RemoveXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name) =>
        Wait(_fs.RemoveXattrAsync(CallerOf(context), ToIno(nodeId), name.ToArray(), context.CancellationToken), context.CancellationToken);

    /// <summary>The xattr size contract: report the full length, copy only when it fits (the dispatcher answers probes and ERANGE).</summary>
    private static Errno CopyOut(FsResult<byte[]> result, Span<byte> destination, out int length)
    {
        length = 0;
        if (!result.IsOk)
        {
            return result.Error;
        }

        byte[] bytes = result.Value!;
        length = bytes.Length;
        if (bytes.Length <= destination.Length)
        {
            bytes.CopyTo(destination);
        }

        return Errno.Ok;
    }

    /// <summary>
    /// The supplementary groups of a calling process, read from the <c>Groups:</c> line of
    /// <c>/proc/PID/status</c> on first use. A process that has exited meanwhile has none.
    /// </summary>
    private sealed class ProcessGroups(uint pid) : IReadOnlyList<uint>
    {
        private uint[]? _groups;

        private uint[] Groups => _groups ??= Read(pid);

        public int Count => Groups.Length;

        public uint this[int index] => Groups[index];

        public IEnumerator<uint> GetEnumerator() => ((IEnumerable<uint>)Groups).GetEnumerator();

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

        private static uint[] Read(uint pid)
        {
            try
            {
                foreach (string line in File.ReadLines($"/proc/{pid}/status"))
                {
                    if (line.StartsWith("Groups:", StringComparison.Ordinal))
                    {
                        return [.. line["Groups:".Length..].Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries)
                            .Select(g => uint.Parse(g, System.Globalization.CultureInfo.InvariantCulture))];
                    }
                }
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // The process is gone (or /proc is not readable): no supplementary groups.
            }

            return [];
        }
    }
}
