// SPDX-License-Identifier: MIT
using System.Text;
using Crfs.Fuse;
using Crfs.Posix;

namespace Crfs.Fuse.Tests;

/// <summary>
/// A complete in-memory file system for the mount tests: directories, files (sparse, chunked so a
/// 1 GiB file is cheap), symlinks, device nodes, hard links, xattrs, POSIX and flock locks, and
/// exact kernel lookup counts. One monitor guards everything; lock waits use it too.
/// </summary>
/// <remarks>
/// Node ids are allocated from a counter and never reused. A node lives while it has a name or a
/// kernel reference (lookup count) or an open handle, so unlink-while-open keeps working.
/// </remarks>
internal sealed class MemoryFileSystem : IFuseFileSystem
{
    private const int ChunkSize = 256 * 1024;

    /// <summary>Writes and truncates beyond this fail with EFBIG (a fuzzed offset must not eat the machine's memory).</summary>
    private const long MaxFileSize = 16L << 30;

    private readonly object _gate = new();
    private readonly Dictionary<ulong, Node> _nodes = [];
    private readonly Dictionary<ulong, ulong> _handles = [];
    private ulong _nextNode = 2;
    private ulong _nextHandle = 1;

    public MemoryFileSystem(TimeSpan? timeout = null)
    {
        Timeout = timeout ?? TimeSpan.FromSeconds(1);
        var root = new Node(IFuseFileSystem.RootId, (uint)FileType.Directory | 0x1ED) { Nlink = 2 };
        root.Children = new SortedDictionary<string, ulong>(StringComparer.Ordinal);
        _nodes[root.Id] = root;
    }

    public TimeSpan Timeout { get; set; }

    /// <summary>How long a waiting lock request may wait before it gives up with EAGAIN.</summary>
    public TimeSpan LockWaitLimit { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>Called inside Lookup before answering (tests use it to block a handler).</summary>
    public Action<string>? OnLookup { get; set; }

    /// <summary>Called inside Create (tests queue notifications from it).</summary>
    public Action<ulong, string>? OnCreate { get; set; }

    /// <summary>How many times Destroy was called.</summary>
    public int Destroyed { get; private set; }

    /// <summary>What the kernel currently holds, by node id (lookup counts).</summary>
    public Dictionary<ulong, ulong> LookupCounts()
    {
        lock (_gate)
        {
            return _nodes.Values.Where(n => n.Lookups > 0).ToDictionary(n => n.Id, n => n.Lookups);
        }
    }

    public int NodeCount
    {
        get
        {
            lock (_gate)
            {
                return _nodes.Count;
            }
        }
    }

    /// <summary>Creates a file or directory directly (no kernel involved), for fixtures.</summary>
    public ulong AddFile(ulong parent, string name, byte[] content)
    {
        lock (_gate)
        {
            Node node = NewNode((uint)FileType.RegularFile | 0x1A4);
            node.Write(0, content);
            Attach(_nodes[parent], name, node);
            return node.Id;
        }
    }

    public ulong AddDirectory(ulong parent, string name)
    {
        lock (_gate)
        {
            Node node = NewNode((uint)FileType.Directory | 0x1ED);
            node.Children = new SortedDictionary<string, ulong>(StringComparer.Ordinal);
            node.Nlink = 2;
            _nodes[parent].Nlink++;
            Attach(_nodes[parent], name, node);
            return node.Id;
        }
    }

    /// <summary>Changes a file behind the kernel's back (the "server" side of coherence tests).</summary>
    public void ReplaceContent(ulong nodeId, byte[] content)
    {
        lock (_gate)
        {
            Node node = _nodes[nodeId];
            node.Truncate(0);
            node.Write(0, content);
            node.Mtime = node.Ctime = Timespec.Now;
        }
    }

    public void RemoveBehindKernel(ulong parent, string name)
    {
        lock (_gate)
        {
            Node dir = _nodes[parent];
            ulong id = dir.Children![name];
            dir.Children.Remove(name);
            Node child = _nodes[id];
            child.Nlink--;
            MaybeFree(child);
        }
    }

    public ulong? Find(ulong parent, string name)
    {
        lock (_gate)
        {
            return _nodes[parent].Children!.TryGetValue(name, out ulong id) ? id : null;
        }
    }

    public void Destroy() => Destroyed++;

    /// <summary>Reads a file's content directly (for checking what the kernel wrote).</summary>
    public int ReadContent(ulong nodeId, long offset, Span<byte> buffer)
    {
        lock (_gate)
        {
            return _nodes[nodeId].Read(offset, buffer);
        }
    }

    public long SizeOf(ulong nodeId)
    {
        lock (_gate)
        {
            return _nodes[nodeId].Size;
        }
    }

    public Errno Lookup(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, out FuseEntry entry)
    {
        string n = Encoding.UTF8.GetString(name);
        OnLookup?.Invoke(n);
        lock (_gate)
        {
            entry = default;
            if (!_nodes.TryGetValue(parent, out Node? dir) || dir.Children is null)
            {
                return Errno.ENOTDIR;
            }

            if (!dir.Children.TryGetValue(n, out ulong id))
            {
                return Errno.ENOENT;
            }

            entry = Hand(_nodes[id]);
            return Errno.Ok;
        }
    }

    public void Forget(ulong nodeId, ulong lookupCount)
    {
        lock (_gate)
        {
            if (_nodes.TryGetValue(nodeId, out Node? node))
            {
                if (lookupCount > node.Lookups)
                {
                    throw new InvalidOperationException($"FORGET of {lookupCount} for node {nodeId} holding {node.Lookups}");
                }

                node.Lookups -= lookupCount;
                MaybeFree(node);
            }
        }
    }

    public Errno GetAttr(in FuseContext context, ulong nodeId, ulong? fileHandle, out FuseAttrReply reply)
    {
        lock (_gate)
        {
            reply = default;
            if (!_nodes.TryGetValue(nodeId, out Node? node))
            {
                return Errno.ENOENT;
            }

            reply = new FuseAttrReply(node.Attributes(), Timeout);
            return Errno.Ok;
        }
    }

    public Errno SetAttr(in FuseContext context, ulong nodeId, in FuseSetAttr changes, out FuseAttrReply reply)
    {
        lock (_gate)
        {
            reply = default;
            Node node = _nodes[nodeId];
            Timespec now = Timespec.Now;
            if (changes.Has(SetAttrFields.Mode))
            {
                node.Mode = (node.Mode & ModeBits.TypeMask) | (changes.Mode & ModeBits.ChmodMask);
            }

            if (changes.Has(SetAttrFields.Uid))
            {
                node.Uid = changes.Uid;
            }

            if (changes.Has(SetAttrFields.Gid))
            {
                node.Gid = changes.Gid;
            }

            if (changes.Has(SetAttrFields.Size))
            {
                if (node.Type != FileType.RegularFile)
                {
                    return Errno.EISDIR;
                }

                if (changes.Size > MaxFileSize)
                {
                    return Errno.EFBIG;
                }

                node.Truncate((long)changes.Size);
                node.Mtime = now;
            }

            if (changes.Has(SetAttrFields.Atime))
            {
                node.Atime = changes.Atime;
            }

            if (changes.Has(SetAttrFields.AtimeNow))
            {
                node.Atime = now;
            }

            if (changes.Has(SetAttrFields.Mtime))
            {
                node.Mtime = changes.Mtime;
            }

            if (changes.Has(SetAttrFields.MtimeNow))
            {
                node.Mtime = now;
            }

            node.Ctime = changes.Has(SetAttrFields.Ctime) ? changes.Ctime : now;
            reply = new FuseAttrReply(node.Attributes(), Timeout);
            return Errno.Ok;
        }
    }

    public Errno ReadLink(in FuseContext context, ulong nodeId, Span<byte> target, out int length)
    {
        lock (_gate)
        {
            byte[] link = _nodes[nodeId].LinkTarget ?? [];
            length = link.Length;
            if (link.Length > target.Length)
            {
                return Errno.ENAMETOOLONG;
            }

            link.CopyTo(target);
            return Errno.Ok;
        }
    }

    public Errno SymLink(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, out FuseEntry entry) =>
        MakeNode(context, parent, name, (uint)FileType.SymbolicLink | 0x1FF, 0, target.ToArray(), out entry);

    public Errno MkNod(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, uint mode, uint rdev, uint umask, out FuseEntry entry) =>
        MakeNode(context, parent, name, mode, rdev, null, out entry);

    public Errno MkDir(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, uint mode, uint umask, out FuseEntry entry) =>
        MakeNode(context, parent, name, mode, 0, null, out entry);

    public Errno Unlink(in FuseContext context, ulong parent, ReadOnlySpan<byte> name) => RemoveName(parent, name, directory: false);

    public Errno RmDir(in FuseContext context, ulong parent, ReadOnlySpan<byte> name) => RemoveName(parent, name, directory: true);

    public Errno Rename(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ulong newParent, ReadOnlySpan<byte> newName, RenameFlags flags)
    {
        string from = Encoding.UTF8.GetString(name);
        string to = Encoding.UTF8.GetString(newName);
        lock (_gate)
        {
            Node src = _nodes[parent];
            Node dst = _nodes[newParent];
            if (!src.Children!.TryGetValue(from, out ulong movingId))
            {
                return Errno.ENOENT;
            }

            bool exists = dst.Children!.TryGetValue(to, out ulong existingId);
            if ((flags & RenameFlags.NoReplace) != 0 && exists)
            {
                return Errno.EEXIST;
            }

            if ((flags & RenameFlags.Exchange) != 0)
            {
                if (!exists)
                {
                    return Errno.ENOENT;
                }

                src.Children[from] = existingId;
                dst.Children[to] = movingId;
                return Errno.Ok;
            }

            if ((flags & RenameFlags.Whiteout) != 0)
            {
                return Errno.EINVAL;
            }

            Node moving = _nodes[movingId];
            if (exists)
            {
                if (existingId == movingId)
                {
                    return Errno.Ok;
                }

                Node existing = _nodes[existingId];
                if (existing.Children is { Count: > 0 })
                {
                    return Errno.ENOTEMPTY;
                }

                if ((existing.Children is null) != (moving.Children is null))
                {
                    return existing.Children is null ? Errno.ENOTDIR : Errno.EISDIR;
                }

                dst.Children.Remove(to);
                existing.Nlink = existing.Children is null ? existing.Nlink - 1 : 0;
                if (existing.Children is not null)
                {
                    dst.Nlink--;
                }

                MaybeFree(existing);
            }

            src.Children.Remove(from);
            dst.Children[to] = movingId;
            if (moving.Children is not null && src != dst)
            {
                src.Nlink--;
                dst.Nlink++;
            }

            moving.Ctime = src.Mtime = dst.Mtime = Timespec.Now;
            return Errno.Ok;
        }
    }

    public Errno Link(in FuseContext context, ulong nodeId, ulong newParent, ReadOnlySpan<byte> newName, out FuseEntry entry)
    {
        string n = Encoding.UTF8.GetString(newName);
        lock (_gate)
        {
            entry = default;
            Node dir = _nodes[newParent];
            if (dir.Children!.ContainsKey(n))
            {
                return Errno.EEXIST;
            }

            Node node = _nodes[nodeId];
            node.Nlink++;
            node.Ctime = Timespec.Now;
            dir.Children[n] = nodeId;
            entry = Hand(node);
            return Errno.Ok;
        }
    }

    public Errno Open(in FuseContext context, ulong nodeId, OpenFlags flags, bool killSuidGid, out FuseOpenReply reply)
    {
        lock (_gate)
        {
            Node node = _nodes[nodeId];
            if ((flags & OpenFlags.Truncate) != 0)
            {
                node.Truncate(0);
            }

            reply = new FuseOpenReply(NewHandle(node), FuseOpenOptions.KeepCache);
            return Errno.Ok;
        }
    }

    public Errno Read(in FuseContext context, ulong nodeId, ulong fileHandle, long offset, Span<byte> buffer, out int bytesRead)
    {
        lock (_gate)
        {
            bytesRead = _nodes[nodeId].Read(offset, buffer);
            return Errno.Ok;
        }
    }

    public Errno Write(in FuseContext context, ulong nodeId, ulong fileHandle, long offset, ReadOnlySpan<byte> data, FuseWriteFlags flags, out int bytesWritten)
    {
        bytesWritten = 0;
        if (offset < 0 || offset > MaxFileSize - data.Length)
        {
            return Errno.EFBIG;
        }

        lock (_gate)
        {
            Node node = _nodes[nodeId];
            node.Write(offset, data);
            node.Mtime = node.Ctime = Timespec.Now;
            bytesWritten = data.Length;
            return Errno.Ok;
        }
    }

    public Errno StatFs(in FuseContext context, ulong nodeId, out FuseStatFs stat)
    {
        stat = new FuseStatFs
        {
            Blocks = 1 << 24,
            FreeBlocks = 1 << 23,
            AvailableBlocks = 1 << 23,
            Files = 1 << 20,
            FreeFiles = (1 << 20) - (ulong)NodeCount,
            BlockSize = 4096,
            FragmentSize = 4096,
            MaxNameLength = 255,
        };
        return Errno.Ok;
    }

    public Errno Flush(in FuseContext context, ulong nodeId, ulong fileHandle, ulong lockOwner) => Errno.Ok;

    public Errno Release(in FuseContext context, ulong nodeId, ulong fileHandle, OpenFlags flags, FuseReleaseFlags releaseFlags, ulong lockOwner)
    {
        lock (_gate)
        {
            if (_handles.Remove(fileHandle, out ulong id) && _nodes.TryGetValue(id, out Node? node))
            {
                node.OpenHandles--;
                MaybeFree(node);
            }

            return Errno.Ok;
        }
    }

    public Errno Fsync(in FuseContext context, ulong nodeId, ulong fileHandle, bool dataOnly) => Errno.Ok;

    public Errno SetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, XattrFlags flags)
    {
        string n = Encoding.UTF8.GetString(name);
        lock (_gate)
        {
            Dictionary<string, byte[]> xattrs = _nodes[nodeId].Xattrs;
            bool exists = xattrs.ContainsKey(n);
            if ((flags & XattrFlags.Create) != 0 && exists)
            {
                return Errno.EEXIST;
            }

            if ((flags & XattrFlags.Replace) != 0 && !exists)
            {
                return Errno.ENODATA;
            }

            xattrs[n] = value.ToArray();
            return Errno.Ok;
        }
    }

    public Errno GetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, Span<byte> value, out int valueLength)
    {
        string n = Encoding.UTF8.GetString(name);
        lock (_gate)
        {
            valueLength = 0;
            if (!_nodes[nodeId].Xattrs.TryGetValue(n, out byte[]? v))
            {
                return Errno.ENODATA;
            }

            valueLength = v.Length;
            if (v.Length <= value.Length)
            {
                v.CopyTo(value);
            }

            return Errno.Ok;
        }
    }

    public Errno ListXattr(in FuseContext context, ulong nodeId, Span<byte> names, out int namesLength)
    {
        lock (_gate)
        {
            byte[] all = [.. _nodes[nodeId].Xattrs.Keys.SelectMany(k => Encoding.UTF8.GetBytes(k + "\0"))];
            namesLength = all.Length;
            if (all.Length <= names.Length)
            {
                all.CopyTo(names);
            }

            return Errno.Ok;
        }
    }

    public Errno RemoveXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name)
    {
        lock (_gate)
        {
            return _nodes[nodeId].Xattrs.Remove(Encoding.UTF8.GetString(name)) ? Errno.Ok : Errno.ENODATA;
        }
    }

    public Errno OpenDir(in FuseContext context, ulong nodeId, OpenFlags flags, out FuseOpenReply reply)
    {
        lock (_gate)
        {
            Node node = _nodes[nodeId];
            reply = new FuseOpenReply(NewHandle(node));

            // Snapshot the names at open: cookies are indexes into this stable list.
            node.Listing = [.. node.Children!];
            return Errno.Ok;
        }
    }

    public Errno ReadDir(in FuseContext context, ulong nodeId, ulong fileHandle, ulong offset, ref FuseDirectoryWriter writer)
    {
        lock (_gate)
        {
            Node dir = _nodes[nodeId];
            List<KeyValuePair<string, ulong>> listing = dir.Listing ?? [.. dir.Children!];
            for (int i = (int)offset; i < listing.Count; i++)
            {
                Node child = _nodes.GetValueOrDefault(listing[i].Value) ?? dir;
                if (!writer.TryAdd(Encoding.UTF8.GetBytes(listing[i].Key), child.Id, child.Type, (ulong)(i + 1)))
                {
                    break;
                }
            }

            return Errno.Ok;
        }
    }

    public Errno ReadDirPlus(in FuseContext context, ulong nodeId, ulong fileHandle, ulong offset, ref FuseDirectoryPlusWriter writer)
    {
        lock (_gate)
        {
            Node dir = _nodes[nodeId];
            List<KeyValuePair<string, ulong>> listing = dir.Listing ?? [.. dir.Children!];
            for (int i = (int)offset; i < listing.Count; i++)
            {
                if (!_nodes.TryGetValue(listing[i].Value, out Node? child))
                {
                    continue;
                }

                FuseEntry entry = Entry(child);
                if (!writer.TryAdd(Encoding.UTF8.GetBytes(listing[i].Key), entry, (ulong)(i + 1)))
                {
                    break;
                }

                child.Lookups++;
            }

            return Errno.Ok;
        }
    }

    public Errno ReleaseDir(in FuseContext context, ulong nodeId, ulong fileHandle) =>
        Release(context, nodeId, fileHandle, OpenFlags.ReadOnly, FuseReleaseFlags.None, 0);

    public Errno FsyncDir(in FuseContext context, ulong nodeId, ulong fileHandle, bool dataOnly) => Errno.Ok;

    public Errno GetLk(in FuseContext context, ulong nodeId, ulong fileHandle, ulong owner, in FuseFileLock lk, out FuseFileLock conflict)
    {
        lock (_gate)
        {
            Held? c = FindConflict(_nodes[nodeId], owner, lk.Start, lk.End, lk.Type, flock: false);
            conflict = c is null
                ? new FuseFileLock { Type = FuseLockType.Unlock, Start = lk.Start, End = lk.End }
                : new FuseFileLock { Type = c.Type, Start = c.Start, End = c.End, Pid = c.Pid };
            return Errno.Ok;
        }
    }

    public Errno SetLk(in FuseContext context, ulong nodeId, ulong fileHandle, ulong owner, in FuseFileLock lk, bool wait) =>
        Lock(context, nodeId, owner, lk.Start, lk.End, lk.Type, lk.Pid, flock: false, wait);

    public Errno Flock(in FuseContext context, ulong nodeId, ulong fileHandle, ulong owner, FuseLockType type, bool wait) =>
        Lock(context, nodeId, owner, 0, long.MaxValue, type, context.Pid, flock: true, wait);

    public Errno Create(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, uint mode, uint umask, OpenFlags flags, out FuseEntry entry, out FuseOpenReply reply)
    {
        reply = default;
        Errno e = MakeNode(context, parent, name, mode, 0, null, out entry);
        if (e != Errno.Ok)
        {
            return e;
        }

        lock (_gate)
        {
            reply = new FuseOpenReply(NewHandle(_nodes[entry.NodeId]), FuseOpenOptions.KeepCache);
        }

        OnCreate?.Invoke(parent, Encoding.UTF8.GetString(name));
        return Errno.Ok;
    }

    public Errno TmpFile(in FuseContext context, ulong parent, uint mode, uint umask, OpenFlags flags, out FuseEntry entry, out FuseOpenReply reply)
    {
        lock (_gate)
        {
            // No name: nlink 0 until a LINK (linkat of /proc/self/fd/N) gives it one.
            Node node = NewNode(mode);
            node.Nlink = 0;
            node.Uid = context.Uid;
            node.Gid = context.Gid;
            entry = Hand(node);
            reply = new FuseOpenReply(NewHandle(node), FuseOpenOptions.KeepCache);
            return Errno.Ok;
        }
    }

    public Errno Fallocate(in FuseContext context, ulong nodeId, ulong fileHandle, long offset, long length, int mode)
    {
        if (mode != 0)
        {
            return Errno.EOPNOTSUPP;
        }

        if (offset < 0 || length < 0 || offset > MaxFileSize - length)
        {
            return Errno.EFBIG;
        }

        lock (_gate)
        {
            Node node = _nodes[nodeId];
            if (offset + length > node.Size)
            {
                node.Truncate(offset + length);
            }

            return Errno.Ok;
        }
    }

    private Errno Lock(in FuseContext context, ulong nodeId, ulong owner, long start, long end, FuseLockType type, uint pid, bool flock, bool wait)
    {
        long deadline = Environment.TickCount64 + (long)Math.Min(LockWaitLimit.TotalMilliseconds, int.MaxValue);
        lock (_gate)
        {
            Node node = _nodes[nodeId];
            while (true)
            {
                if (type == FuseLockType.Unlock)
                {
                    node.Locks.RemoveAll(l => l.Owner == owner && l.Flock == flock && l.Start <= end && l.End >= start);
                    Monitor.PulseAll(_gate);
                    return Errno.Ok;
                }

                if (FindConflict(node, owner, start, end, type, flock) is null)
                {
                    node.Locks.RemoveAll(l => l.Owner == owner && l.Flock == flock && l.Start <= end && l.End >= start);
                    node.Locks.Add(new Held(owner, start, end, type, pid, flock));
                    return Errno.Ok;
                }

                if (!wait || Environment.TickCount64 >= deadline)
                {
                    return Errno.EAGAIN;
                }

                if (context.CancellationToken.IsCancellationRequested)
                {
                    return Errno.EINTR;
                }

                Monitor.Wait(_gate, 20);
            }
        }
    }

    private static Held? FindConflict(Node node, ulong owner, long start, long end, FuseLockType type, bool flock) =>
        node.Locks.FirstOrDefault(l => l.Flock == flock && l.Owner != owner && l.Start <= end && l.End >= start
            && (type == FuseLockType.Write || l.Type == FuseLockType.Write));

    private Errno MakeNode(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, uint mode, uint rdev, byte[]? link, out FuseEntry entry)
    {
        string n = Encoding.UTF8.GetString(name);
        lock (_gate)
        {
            entry = default;
            Node dir = _nodes[parent];
            if (dir.Children!.ContainsKey(n))
            {
                return Errno.EEXIST;
            }

            Node node = NewNode(mode);
            node.Rdev = rdev;
            node.Uid = context.Uid;
            node.Gid = context.Gid;
            node.LinkTarget = link;
            if (FileTypes.FromMode(mode) == FileType.Directory)
            {
                node.Children = new SortedDictionary<string, ulong>(StringComparer.Ordinal);
                node.Nlink = 2;
                dir.Nlink++;
            }

            Attach(dir, n, node);
            entry = Hand(node);
            return Errno.Ok;
        }
    }

    private Errno RemoveName(ulong parent, ReadOnlySpan<byte> name, bool directory)
    {
        string n = Encoding.UTF8.GetString(name);
        lock (_gate)
        {
            Node dir = _nodes[parent];
            if (!dir.Children!.TryGetValue(n, out ulong id))
            {
                return Errno.ENOENT;
            }

            Node node = _nodes[id];
            if (directory != (node.Children is not null))
            {
                return directory ? Errno.ENOTDIR : Errno.EISDIR;
            }

            if (directory && node.Children!.Count > 0)
            {
                return Errno.ENOTEMPTY;
            }

            dir.Children.Remove(n);
            dir.Mtime = dir.Ctime = Timespec.Now;
            if (directory)
            {
                dir.Nlink--;
                node.Nlink = 0;
            }
            else
            {
                node.Nlink--;
            }

            node.Ctime = Timespec.Now;
            MaybeFree(node);
            return Errno.Ok;
        }
    }

    private Node NewNode(uint mode)
    {
        var node = new Node(_nextNode++, mode);
        _nodes[node.Id] = node;
        return node;
    }

    private static void Attach(Node dir, string name, Node node)
    {
        dir.Children![name] = node.Id;
        dir.Mtime = dir.Ctime = Timespec.Now;
    }

    private ulong NewHandle(Node node)
    {
        ulong h = _nextHandle++;
        _handles[h] = node.Id;
        node.OpenHandles++;
        return h;
    }

    /// <summary>An entry that hands the kernel one more reference.</summary>
    private FuseEntry Hand(Node node)
    {
        node.Lookups++;
        return Entry(node);
    }

    private FuseEntry Entry(Node node) =>
        new() { NodeId = node.Id, Attributes = node.Attributes(), EntryTimeout = Timeout, AttrTimeout = Timeout };

    private void MaybeFree(Node node)
    {
        if (node.Id != IFuseFileSystem.RootId && node.Nlink == 0 && node.Lookups == 0 && node.OpenHandles == 0)
        {
            _nodes.Remove(node.Id);
        }
    }

    private sealed record Held(ulong Owner, long Start, long End, FuseLockType Type, uint Pid, bool Flock);

    private sealed class Node(ulong id, uint mode)
    {
        private readonly List<byte[]?> _chunks = [];

        public ulong Id { get; } = id;
        public uint Mode { get; set; } = mode;
        public uint Nlink { get; set; } = 1;
        public uint Uid { get; set; }
        public uint Gid { get; set; }
        public uint Rdev { get; set; }
        public long Size { get; private set; }
        public Timespec Atime { get; set; } = Timespec.Now;
        public Timespec Mtime { get; set; } = Timespec.Now;
        public Timespec Ctime { get; set; } = Timespec.Now;
        public ulong Lookups { get; set; }
        public int OpenHandles { get; set; }
        public byte[]? LinkTarget { get; set; }
        public SortedDictionary<string, ulong>? Children { get; set; }
        public List<KeyValuePair<string, ulong>>? Listing { get; set; }
        public Dictionary<string, byte[]> Xattrs { get; } = new(StringComparer.Ordinal);
        public List<Held> Locks { get; } = [];

        public FileType Type => FileTypes.FromMode(Mode);

        public InodeAttributes Attributes() => new()
        {
            Ino = Id,
            Size = (ulong)(LinkTarget?.Length ?? (Children is null ? Size : 4096)),
            Blocks = (ulong)((Size + 511) / 512),
            Atime = Atime,
            Mtime = Mtime,
            Ctime = Ctime,
            Mode = Mode,
            Nlink = Nlink,
            Uid = Uid,
            Gid = Gid,
            Rdev = Rdev,
            BlockSize = 4096,
        };

        public int Read(long offset, Span<byte> buffer)
        {
            if (offset < 0 || offset >= Size)
            {
                return 0;
            }

            int total = (int)Math.Min(buffer.Length, Size - offset);
            int done = 0;
            while (done < total)
            {
                long position = offset + done;
                int chunk = (int)(position / ChunkSize);
                int within = (int)(position % ChunkSize);
                int n = Math.Min(total - done, ChunkSize - within);
                byte[]? data = chunk < _chunks.Count ? _chunks[chunk] : null;
                if (data is null)
                {
                    buffer.Slice(done, n).Clear();
                }
                else
                {
                    data.AsSpan(within, n).CopyTo(buffer[done..]);
                }

                done += n;
            }

            return total;
        }

        public void Write(long offset, ReadOnlySpan<byte> data)
        {
            int done = 0;
            while (done < data.Length)
            {
                long position = offset + done;
                int chunk = (int)(position / ChunkSize);
                int within = (int)(position % ChunkSize);
                int n = Math.Min(data.Length - done, ChunkSize - within);
                while (_chunks.Count <= chunk)
                {
                    _chunks.Add(null);
                }

                byte[] target = _chunks[chunk] ??= new byte[ChunkSize];
                data.Slice(done, n).CopyTo(target.AsSpan(within));
                done += n;
            }

            Size = Math.Max(Size, offset + data.Length);
        }

        public void Truncate(long size)
        {
            int keep = (int)((size + ChunkSize - 1) / ChunkSize);
            if (_chunks.Count > keep)
            {
                _chunks.RemoveRange(keep, _chunks.Count - keep);
            }

            int within = (int)(size % ChunkSize);
            if (within != 0 && keep - 1 < _chunks.Count && _chunks[keep - 1] is byte[] last)
            {
                last.AsSpan(within).Clear();
            }

            Size = size;
        }
    }
}
