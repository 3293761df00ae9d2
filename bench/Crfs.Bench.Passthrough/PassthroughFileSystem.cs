// SPDX-License-Identifier: MIT
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Crfs.Fuse;
using Crfs.Posix;

namespace Crfs.Bench.Passthrough;

/// <summary>
/// A minimal passthrough file system over a backing directory, for measuring the FUSE layer (it
/// is a benchmark tool, not a product). Every request rebuilds the backing path from the node
/// table and makes the matching syscall; open files are backing descriptors, and the file handle
/// is the descriptor number itself.
/// </summary>
/// <remarks>
/// Caching follows libfuse's passthrough_hp: long entry and attribute timeouts, negative entries
/// cached, KEEP_CACHE on every open, since nothing else writes the backing directory during a run.
/// FLUSH and ACCESS are left unimplemented: their ENOSYS is sticky, so the kernel stops sending
/// them after the first one (with default_permissions the kernel checks access itself).
/// HANDLE_KILLPRIV_V2 is honoured by clearing set-uid/set-gid when a request says so, because the
/// daemon runs as root and the backing file system would not clear them for it.
/// </remarks>
internal sealed unsafe class PassthroughFileSystem : IFuseFileSystem
{
    private const int PathMax = 4096;
    private const int DirentBufferSize = 32 * 1024;

    [ThreadStatic]
    private static byte[]? s_direntBuffer;

    private readonly NodeTable _nodes;
    private readonly TimeSpan _timeout;
    private readonly bool _writeback;

    /// <param name="writeback">
    /// The kernel's writeback cache is on: it may read pages of files opened write-only and
    /// handles O_APPEND itself, so opens become read-write and lose O_APPEND.
    /// </param>
    public PassthroughFileSystem(string root, TimeSpan timeout, bool writeback)
    {
        _nodes = new NodeTable(System.Text.Encoding.UTF8.GetBytes(Path.GetFullPath(root).TrimEnd('/')));
        _timeout = timeout;
        _writeback = writeback;
    }

    public int NodeCount => _nodes.Count;

    public Errno Lookup(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, out FuseEntry entry)
    {
        entry = default;
        Span<byte> path = stackalloc byte[PathMax];
        if (Resolve(parent, name, path) is Errno e and not Errno.Ok)
        {
            return e;
        }

        Native.StatxBuffer st;
        if (StatPath(path, &st) is Errno err and not Errno.Ok)
        {
            if (err == Errno.ENOENT)
            {
                // Cached negative entry: the next lookup of the name costs nothing.
                entry = FuseEntry.Negative(_timeout);
                return Errno.Ok;
            }

            return err;
        }

        entry = MakeEntry(parent, name, st, references: 1);
        return Errno.Ok;
    }

    public void Forget(ulong nodeId, ulong lookupCount) => _nodes.Forget(nodeId, lookupCount);

    public Errno GetAttr(in FuseContext context, ulong nodeId, ulong? fileHandle, out FuseAttrReply reply)
    {
        reply = default;
        Native.StatxBuffer st;
        Errno e = fileHandle is ulong fh ? StatFd((int)fh, &st) : StatNode(nodeId, &st);
        if (e != Errno.Ok)
        {
            return e;
        }

        reply = new FuseAttrReply(ToAttributes(st), _timeout);
        return Errno.Ok;
    }

    public Errno SetAttr(in FuseContext context, ulong nodeId, in FuseSetAttr changes, out FuseAttrReply reply)
    {
        reply = default;
        Span<byte> path = stackalloc byte[PathMax];
        bool haveFd = changes.Has(SetAttrFields.FileHandle);
        int fd = (int)changes.FileHandle;
        if (!haveFd && Resolve(nodeId, default, path) is Errno re and not Errno.Ok)
        {
            return re;
        }

        fixed (byte* p = path)
        {
            if (changes.Has(SetAttrFields.Mode) && Check(haveFd ? Native.FChmod(fd, changes.Mode) : Native.Chmod(p, changes.Mode)) is Errno e1 and not Errno.Ok)
            {
                return e1;
            }

            if (changes.Has(SetAttrFields.Uid) || changes.Has(SetAttrFields.Gid))
            {
                uint uid = changes.Has(SetAttrFields.Uid) ? changes.Uid : uint.MaxValue;
                uint gid = changes.Has(SetAttrFields.Gid) ? changes.Gid : uint.MaxValue;
                if (Check(haveFd ? Native.FChown(fd, uid, gid) : Native.LChown(p, uid, gid)) is Errno e2 and not Errno.Ok)
                {
                    return e2;
                }
            }

            if (changes.Has(SetAttrFields.Size))
            {
                if (Check(haveFd ? Native.FTruncate(fd, (long)changes.Size) : Native.Truncate(p, (long)changes.Size)) is Errno e3 and not Errno.Ok)
                {
                    return e3;
                }
            }

            if (changes.Has(SetAttrFields.Atime) || changes.Has(SetAttrFields.AtimeNow) || changes.Has(SetAttrFields.Mtime) || changes.Has(SetAttrFields.MtimeNow))
            {
                Native.Timespec* times = stackalloc Native.Timespec[2];
                times[0] = Time(changes.Has(SetAttrFields.AtimeNow), changes.Has(SetAttrFields.Atime), changes.Atime);
                times[1] = Time(changes.Has(SetAttrFields.MtimeNow), changes.Has(SetAttrFields.Mtime), changes.Mtime);
                int rc = haveFd ? Native.FUtimens(fd, times) : Native.UtimensAt(Native.AT_FDCWD, p, times, Native.AT_SYMLINK_NOFOLLOW);
                if (Check(rc) is Errno e4 and not Errno.Ok)
                {
                    return e4;
                }
            }

            Native.StatxBuffer st;
            Errno e = haveFd ? StatFd(fd, &st) : StatPath(path, &st);
            if (e != Errno.Ok)
            {
                return e;
            }

            if (changes.Has(SetAttrFields.KillSuidGid))
            {
                KillSuidGid(haveFd ? fd : -1, p, ref st);
            }

            reply = new FuseAttrReply(ToAttributes(st), _timeout);
            return Errno.Ok;
        }
    }

    public Errno ReadLink(in FuseContext context, ulong nodeId, Span<byte> target, out int length)
    {
        length = 0;
        Span<byte> path = stackalloc byte[PathMax];
        if (Resolve(nodeId, default, path) is Errno e and not Errno.Ok)
        {
            return e;
        }

        fixed (byte* p = path)
        fixed (byte* t = target)
        {
            nint n = Native.ReadLink(p, t, target.Length);
            if (n < 0)
            {
                return Native.Errno;
            }

            length = (int)n;
            return Errno.Ok;
        }
    }

    public Errno SymLink(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, out FuseEntry entry)
    {
        entry = default;
        Span<byte> path = stackalloc byte[PathMax];
        if (Resolve(parent, name, path) is Errno e and not Errno.Ok)
        {
            return e;
        }

        Span<byte> targetZ = stackalloc byte[target.Length + 1];
        target.CopyTo(targetZ);
        targetZ[^1] = 0;
        fixed (byte* p = path)
        fixed (byte* t = targetZ)
        {
            if (Check(Native.SymLink(t, p)) is Errno se and not Errno.Ok)
            {
                return se;
            }
        }

        return Created(context, parent, name, path, out entry, chownLink: true);
    }

    public Errno MkNod(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, uint mode, uint rdev, uint umask, out FuseEntry entry)
    {
        entry = default;
        Span<byte> path = stackalloc byte[PathMax];
        if (Resolve(parent, name, path) is Errno e and not Errno.Ok)
        {
            return e;
        }

        fixed (byte* p = path)
        {
            if (Check(Native.MkNod(p, mode, rdev)) is Errno me and not Errno.Ok)
            {
                return me;
            }
        }

        return Created(context, parent, name, path, out entry, chownLink: false);
    }

    public Errno MkDir(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, uint mode, uint umask, out FuseEntry entry)
    {
        entry = default;
        Span<byte> path = stackalloc byte[PathMax];
        if (Resolve(parent, name, path) is Errno e and not Errno.Ok)
        {
            return e;
        }

        fixed (byte* p = path)
        {
            if (Check(Native.MkDir(p, mode & ModeBits.ChmodMask)) is Errno me and not Errno.Ok)
            {
                return me;
            }
        }

        return Created(context, parent, name, path, out entry, chownLink: false);
    }

    public Errno Unlink(in FuseContext context, ulong parent, ReadOnlySpan<byte> name) => Remove(parent, name, directory: false);

    public Errno RmDir(in FuseContext context, ulong parent, ReadOnlySpan<byte> name) => Remove(parent, name, directory: true);

    public Errno Rename(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ulong newParent, ReadOnlySpan<byte> newName, RenameFlags flags)
    {
        Span<byte> from = stackalloc byte[PathMax];
        Span<byte> to = stackalloc byte[PathMax];
        if (Resolve(parent, name, from) is Errno e1 and not Errno.Ok)
        {
            return e1;
        }

        if (Resolve(newParent, newName, to) is Errno e2 and not Errno.Ok)
        {
            return e2;
        }

        Native.StatxBuffer moved;
        Native.StatxBuffer displaced;
        bool hadTarget = StatPath(to, &displaced) == Errno.Ok;
        if (StatPath(from, &moved) is Errno se and not Errno.Ok)
        {
            return se;
        }

        fixed (byte* f = from)
        fixed (byte* t = to)
        {
            if (Check(Native.RenameAt2(Native.AT_FDCWD, f, Native.AT_FDCWD, t, (uint)flags)) is Errno re and not Errno.Ok)
            {
                return re;
            }
        }

        if ((flags & RenameFlags.Exchange) != 0)
        {
            _nodes.Moved(Dev(moved), moved.Ino, newParent, newName);
            _nodes.Moved(Dev(displaced), displaced.Ino, parent, name);
        }
        else
        {
            if (hadTarget)
            {
                _nodes.Unlinked(newParent, newName, Dev(displaced), displaced.Ino);
            }

            _nodes.Moved(Dev(moved), moved.Ino, newParent, newName);
        }

        return Errno.Ok;
    }

    public Errno Link(in FuseContext context, ulong nodeId, ulong newParent, ReadOnlySpan<byte> newName, out FuseEntry entry)
    {
        entry = default;
        Span<byte> from = stackalloc byte[PathMax];
        Span<byte> to = stackalloc byte[PathMax];
        if (Resolve(nodeId, default, from) is Errno e1 and not Errno.Ok)
        {
            return e1;
        }

        if (Resolve(newParent, newName, to) is Errno e2 and not Errno.Ok)
        {
            return e2;
        }

        fixed (byte* f = from)
        fixed (byte* t = to)
        {
            if (Check(Native.Link(f, t)) is Errno le and not Errno.Ok)
            {
                return le;
            }
        }

        Native.StatxBuffer st;
        if (StatPath(to, &st) is Errno e and not Errno.Ok)
        {
            return e;
        }

        entry = MakeEntry(newParent, newName, st, references: 1);
        return Errno.Ok;
    }

    public Errno Open(in FuseContext context, ulong nodeId, OpenFlags flags, bool killSuidGid, out FuseOpenReply reply)
    {
        reply = default;
        Span<byte> path = stackalloc byte[PathMax];
        if (Resolve(nodeId, default, path) is Errno e and not Errno.Ok)
        {
            return e;
        }

        fixed (byte* p = path)
        {
            int fd = Native.Open(p, (BackingFlags(flags) & ~Native.O_CREAT) | Native.O_CLOEXEC, 0);
            if (fd < 0)
            {
                return Native.Errno;
            }

            if (killSuidGid)
            {
                Native.StatxBuffer st;
                if (StatFd(fd, &st) == Errno.Ok)
                {
                    KillSuidGid(fd, p, ref st);
                }
            }

            reply = new FuseOpenReply((ulong)fd, FuseOpenOptions.KeepCache);
            return Errno.Ok;
        }
    }

    public Errno Create(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, uint mode, uint umask, OpenFlags flags, out FuseEntry entry, out FuseOpenReply reply)
    {
        entry = default;
        reply = default;
        Span<byte> path = stackalloc byte[PathMax];
        if (Resolve(parent, name, path) is Errno e and not Errno.Ok)
        {
            return e;
        }

        fixed (byte* p = path)
        {
            int fd = Native.Open(p, BackingFlags(flags) | Native.O_CREAT | Native.O_CLOEXEC, mode & ModeBits.ChmodMask);
            if (fd < 0)
            {
                return Native.Errno;
            }

            if (context.Uid != 0 || context.Gid != 0)
            {
                Native.FChown(fd, context.Uid, context.Gid);
            }

            Native.StatxBuffer st;
            if (StatFd(fd, &st) is Errno se and not Errno.Ok)
            {
                Native.Close(fd);
                return se;
            }

            entry = MakeEntry(parent, name, st, references: 1);
            reply = new FuseOpenReply((ulong)fd, FuseOpenOptions.KeepCache);
            return Errno.Ok;
        }
    }

    public Errno Read(in FuseContext context, ulong nodeId, ulong fileHandle, long offset, Span<byte> buffer, out int bytesRead)
    {
        fixed (byte* b = buffer)
        {
            nint n = Native.PRead((int)fileHandle, b, buffer.Length, offset);
            bytesRead = n < 0 ? 0 : (int)n;
            return n < 0 ? Native.Errno : Errno.Ok;
        }
    }

    public Errno Write(in FuseContext context, ulong nodeId, ulong fileHandle, long offset, ReadOnlySpan<byte> data, FuseWriteFlags flags, out int bytesWritten)
    {
        bytesWritten = 0;
        fixed (byte* d = data)
        {
            nint n = Native.PWrite((int)fileHandle, d, data.Length, offset);
            if (n < 0)
            {
                return Native.Errno;
            }

            bytesWritten = (int)n;
        }

        if ((flags & FuseWriteFlags.KillSuidGid) != 0)
        {
            Native.StatxBuffer st;
            if (StatFd((int)fileHandle, &st) == Errno.Ok)
            {
                KillSuidGid((int)fileHandle, null, ref st);
            }
        }

        return Errno.Ok;
    }

    public Errno StatFs(in FuseContext context, ulong nodeId, out FuseStatFs stat)
    {
        stat = default;
        Span<byte> path = stackalloc byte[PathMax];
        if (Resolve(IFuseFileSystem.RootId, default, path) is Errno e and not Errno.Ok)
        {
            return e;
        }

        Native.StatVfsBuffer s;
        fixed (byte* p = path)
        {
            if (Check(Native.StatVfs(p, &s)) is Errno se and not Errno.Ok)
            {
                return se;
            }
        }

        stat = new FuseStatFs
        {
            Blocks = s.Blocks,
            FreeBlocks = s.BFree,
            AvailableBlocks = s.BAvail,
            Files = s.Files,
            FreeFiles = s.FFree,
            BlockSize = (uint)s.BSize,
            FragmentSize = (uint)s.FrSize,
            MaxNameLength = (uint)s.NameMax,
        };
        return Errno.Ok;
    }

    public Errno Release(in FuseContext context, ulong nodeId, ulong fileHandle, OpenFlags flags, FuseReleaseFlags releaseFlags, ulong lockOwner) =>
        Check(Native.Close((int)fileHandle));

    public Errno Fsync(in FuseContext context, ulong nodeId, ulong fileHandle, bool dataOnly) =>
        Check(dataOnly ? Native.FDataSync((int)fileHandle) : Native.FSync((int)fileHandle));

    public Errno SetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, XattrFlags flags)
    {
        Span<byte> path = stackalloc byte[PathMax];
        Span<byte> nameZ = stackalloc byte[name.Length + 1];
        if (Resolve(nodeId, default, path) is Errno e and not Errno.Ok)
        {
            return e;
        }

        name.CopyTo(nameZ);
        nameZ[^1] = 0;
        fixed (byte* p = path)
        fixed (byte* n = nameZ)
        fixed (byte* v = value)
        {
            return Check(Native.LSetXattr(p, n, v, value.Length, (int)flags));
        }
    }

    public Errno GetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, Span<byte> value, out int valueLength)
    {
        valueLength = 0;
        Span<byte> path = stackalloc byte[PathMax];
        Span<byte> nameZ = stackalloc byte[name.Length + 1];
        if (Resolve(nodeId, default, path) is Errno e and not Errno.Ok)
        {
            return e;
        }

        name.CopyTo(nameZ);
        nameZ[^1] = 0;
        fixed (byte* p = path)
        fixed (byte* n = nameZ)
        fixed (byte* v = value)
        {
            nint size = Native.LGetXattr(p, n, value.IsEmpty ? null : v, value.Length);
            if (size < 0)
            {
                return Native.Errno;
            }

            valueLength = (int)size;
            return Errno.Ok;
        }
    }

    public Errno ListXattr(in FuseContext context, ulong nodeId, Span<byte> names, out int namesLength)
    {
        namesLength = 0;
        Span<byte> path = stackalloc byte[PathMax];
        if (Resolve(nodeId, default, path) is Errno e and not Errno.Ok)
        {
            return e;
        }

        fixed (byte* p = path)
        fixed (byte* l = names)
        {
            nint size = Native.LListXattr(p, names.IsEmpty ? null : l, names.Length);
            if (size < 0)
            {
                return Native.Errno;
            }

            namesLength = (int)size;
            return Errno.Ok;
        }
    }

    public Errno RemoveXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name)
    {
        Span<byte> path = stackalloc byte[PathMax];
        Span<byte> nameZ = stackalloc byte[name.Length + 1];
        if (Resolve(nodeId, default, path) is Errno e and not Errno.Ok)
        {
            return e;
        }

        name.CopyTo(nameZ);
        nameZ[^1] = 0;
        fixed (byte* p = path)
        fixed (byte* n = nameZ)
        {
            return Check(Native.LRemoveXattr(p, n));
        }
    }

    public Errno OpenDir(in FuseContext context, ulong nodeId, OpenFlags flags, out FuseOpenReply reply)
    {
        reply = default;
        Span<byte> path = stackalloc byte[PathMax];
        if (Resolve(nodeId, default, path) is Errno e and not Errno.Ok)
        {
            return e;
        }

        fixed (byte* p = path)
        {
            int fd = Native.Open(p, Native.O_RDONLY | Native.O_DIRECTORY | Native.O_CLOEXEC, 0);
            if (fd < 0)
            {
                return Native.Errno;
            }

            reply = new FuseOpenReply((ulong)fd, FuseOpenOptions.KeepCache | FuseOpenOptions.CacheDir);
            return Errno.Ok;
        }
    }

    public Errno ReadDir(in FuseContext context, ulong nodeId, ulong fileHandle, ulong offset, ref FuseDirectoryWriter writer)
    {
        int fd = (int)fileHandle;
        byte[] buffer = s_direntBuffer ??= GC.AllocateUninitializedArray<byte>(DirentBufferSize, pinned: true);
        if (Native.LSeek(fd, (long)offset, Native.SEEK_SET) < 0)
        {
            return Native.Errno;
        }

        while (true)
        {
            int n = GetDents(fd, buffer);
            if (n <= 0)
            {
                return n < 0 ? Native.Errno : Errno.Ok;
            }

            for (int at = 0; at < n;)
            {
                ref Dirent64 d = ref Unsafe.As<byte, Dirent64>(ref buffer[at]);
                ReadOnlySpan<byte> name = DirentName(buffer, at, d.RecordLength);
                if (!writer.TryAdd(name, d.Ino, FileTypes.FromDirentType(d.Type), d.Off))
                {
                    return Errno.Ok;
                }

                at += d.RecordLength;
            }
        }
    }

    public Errno ReadDirPlus(in FuseContext context, ulong nodeId, ulong fileHandle, ulong offset, ref FuseDirectoryPlusWriter writer)
    {
        int fd = (int)fileHandle;
        byte[] buffer = s_direntBuffer ??= GC.AllocateUninitializedArray<byte>(DirentBufferSize, pinned: true);
        if (Native.LSeek(fd, (long)offset, Native.SEEK_SET) < 0)
        {
            return Native.Errno;
        }

        while (true)
        {
            int n = GetDents(fd, buffer);
            if (n <= 0)
            {
                return n < 0 ? Native.Errno : Errno.Ok;
            }

            for (int at = 0; at < n;)
            {
                ref Dirent64 d = ref Unsafe.As<byte, Dirent64>(ref buffer[at]);
                ReadOnlySpan<byte> name = DirentName(buffer, at, d.RecordLength);
                bool dots = name.SequenceEqual("."u8) || name.SequenceEqual(".."u8);
                Native.StatxBuffer st;
                FuseEntry entry;
                if (dots || StatAt(fd, name, &st) != Errno.Ok)
                {
                    // Listed without attributes (node 0): the kernel looks it up when it needs to.
                    entry = new FuseEntry { Attributes = new InodeAttributes { Ino = d.Ino, Mode = (uint)FileTypes.FromDirentType(d.Type) } };
                    if (!writer.TryAdd(name, entry, d.Off))
                    {
                        return Errno.Ok;
                    }
                }
                else
                {
                    // Count the reference first (so the node exists with this id) and give it
                    // back if the kernel's buffer has no room: only delivered entries count.
                    entry = MakeEntry(nodeId, name, st, references: 1);
                    if (!writer.TryAdd(name, entry, d.Off))
                    {
                        _nodes.Forget(entry.NodeId, 1);
                        return Errno.Ok;
                    }
                }

                at += d.RecordLength;
            }
        }
    }

    public Errno ReleaseDir(in FuseContext context, ulong nodeId, ulong fileHandle) => Check(Native.Close((int)fileHandle));

    public Errno FsyncDir(in FuseContext context, ulong nodeId, ulong fileHandle, bool dataOnly) =>
        Check(dataOnly ? Native.FDataSync((int)fileHandle) : Native.FSync((int)fileHandle));

    public Errno Fallocate(in FuseContext context, ulong nodeId, ulong fileHandle, long offset, long length, int mode) =>
        Check(Native.FAllocate((int)fileHandle, mode, offset, length));

    private int BackingFlags(OpenFlags flags)
    {
        if (!_writeback)
        {
            return (int)flags;
        }

        OpenFlags f = flags & ~OpenFlags.Append;
        if ((f & OpenFlags.AccessModeMask) == OpenFlags.WriteOnly)
        {
            f = (f & ~OpenFlags.AccessModeMask) | OpenFlags.ReadWrite;
        }

        return (int)f;
    }

    private Errno Remove(ulong parent, ReadOnlySpan<byte> name, bool directory)
    {
        Span<byte> path = stackalloc byte[PathMax];
        if (Resolve(parent, name, path) is Errno e and not Errno.Ok)
        {
            return e;
        }

        Native.StatxBuffer st;
        bool known = StatPath(path, &st) == Errno.Ok;
        fixed (byte* p = path)
        {
            if (Check(directory ? Native.RmDir(p) : Native.Unlink(p)) is Errno re and not Errno.Ok)
            {
                return re;
            }
        }

        if (known)
        {
            _nodes.Unlinked(parent, name, Dev(st), st.Ino);
        }

        return Errno.Ok;
    }

    private Errno Created(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, Span<byte> path, out FuseEntry entry, bool chownLink)
    {
        entry = default;
        fixed (byte* p = path)
        {
            if (context.Uid != 0 || context.Gid != 0 || chownLink)
            {
                Native.LChown(p, context.Uid, context.Gid);
            }
        }

        Native.StatxBuffer st;
        if (StatPath(path, &st) is Errno e and not Errno.Ok)
        {
            return e;
        }

        entry = MakeEntry(parent, name, st, references: 1);
        return Errno.Ok;
    }

    private FuseEntry MakeEntry(ulong parent, ReadOnlySpan<byte> name, in Native.StatxBuffer st, long references)
    {
        ulong id = _nodes.Remember(parent, name, Dev(st), st.Ino, references);
        return new FuseEntry { NodeId = id, Attributes = ToAttributes(st), EntryTimeout = _timeout, AttrTimeout = _timeout };
    }

    private Errno Resolve(ulong nodeId, ReadOnlySpan<byte> name, Span<byte> path)
    {
        int length = _nodes.BuildPath(nodeId, name, path);
        return length switch
        {
            -1 => Errno.ESTALE,
            -2 => Errno.ENAMETOOLONG,
            _ => Errno.Ok,
        };
    }

    private Errno StatNode(ulong nodeId, Native.StatxBuffer* st)
    {
        Span<byte> path = stackalloc byte[PathMax];
        return Resolve(nodeId, default, path) is Errno e and not Errno.Ok ? e : StatPath(path, st);
    }

    private static Errno StatPath(Span<byte> path, Native.StatxBuffer* st)
    {
        fixed (byte* p = path)
        {
            return Check(Native.Statx(Native.AT_FDCWD, p, Native.AT_SYMLINK_NOFOLLOW, Native.STATX_BASIC_STATS, st));
        }
    }

    private static Errno StatFd(int fd, Native.StatxBuffer* st)
    {
        byte empty = 0;
        return Check(Native.Statx(fd, &empty, Native.AT_EMPTY_PATH, Native.STATX_BASIC_STATS, st));
    }

    private static Errno StatAt(int dirFd, ReadOnlySpan<byte> name, Native.StatxBuffer* st)
    {
        Span<byte> nameZ = stackalloc byte[name.Length + 1];
        name.CopyTo(nameZ);
        nameZ[^1] = 0;
        fixed (byte* n = nameZ)
        {
            return Check(Native.Statx(dirFd, n, Native.AT_SYMLINK_NOFOLLOW, Native.STATX_BASIC_STATS, st));
        }
    }

    private static void KillSuidGid(int fd, byte* path, ref Native.StatxBuffer st)
    {
        uint mode = st.Mode;
        if ((mode & (ModeBits.SetUid | ModeBits.SetGid)) == 0)
        {
            return;
        }

        // set-gid without group execute is mandatory locking, not privilege: leave it.
        uint cleared = mode & ~ModeBits.SetUid;
        if ((mode & ModeBits.GroupExecute) != 0)
        {
            cleared &= ~ModeBits.SetGid;
        }

        cleared &= ModeBits.ChmodMask;
        if ((fd >= 0 ? Native.FChmod(fd, cleared) : Native.Chmod(path, cleared)) == 0)
        {
            st.Mode = (ushort)((mode & ModeBits.TypeMask) | cleared);
        }
    }

    private static int GetDents(int fd, byte[] buffer)
    {
        fixed (byte* b = buffer)
        {
            return (int)Native.GetDents64(fd, b, buffer.Length);
        }
    }

    private static ReadOnlySpan<byte> DirentName(byte[] buffer, int at, int recordLength)
    {
        ReadOnlySpan<byte> raw = buffer.AsSpan(at + Dirent64.NameOffset, recordLength - Dirent64.NameOffset);
        int nul = raw.IndexOf((byte)0);
        return nul < 0 ? raw : raw[..nul];
    }

    private static Native.Timespec Time(bool now, bool set, Timespec value) =>
        now ? new Native.Timespec { Nanoseconds = Native.UTIME_NOW }
        : set ? new Native.Timespec { Seconds = value.Seconds, Nanoseconds = value.Nanoseconds }
        : new Native.Timespec { Nanoseconds = Native.UTIME_OMIT };

    private static ulong Dev(in Native.StatxBuffer st) => ((ulong)st.DevMajor << 32) | st.DevMinor;

    private static InodeAttributes ToAttributes(in Native.StatxBuffer st) => new()
    {
        Ino = st.Ino,
        Size = st.Size,
        Blocks = st.Blocks,
        Atime = new Timespec(st.AtimeSeconds, st.AtimeNanoseconds),
        Mtime = new Timespec(st.MtimeSeconds, st.MtimeNanoseconds),
        Ctime = new Timespec(st.CtimeSeconds, st.CtimeNanoseconds),
        Mode = st.Mode,
        Nlink = st.Nlink,
        Uid = st.Uid,
        Gid = st.Gid,
        Rdev = (st.RdevMajor << 8) | (st.RdevMinor & 0xFF) | ((st.RdevMinor & ~0xFFu) << 12),
        BlockSize = st.BlkSize,
    };

    private static Errno Check(int rc) => rc == 0 ? Errno.Ok : Native.Errno;

    /// <summary><c>struct linux_dirent64</c> header: the name follows at offset 19.</summary>
    [StructLayout(LayoutKind.Sequential, Pack = 1)]
    private struct Dirent64
    {
        public const int NameOffset = 19;

        public ulong Ino;
        public ulong Off;
        public ushort RecordLength;
        public byte Type;
    }
}
