// SPDX-License-Identifier: MIT
using Crfs.FileSystem.Items;
using Crfs.Format.Btrfs;
using Crfs.Posix;
using Crfs.Protocol.Messages;

namespace Crfs.FileSystem;

public sealed partial class CrfsFileSystem
{
    /// <summary>fallocate mode bits (Linux values).</summary>
    public const int FallocKeepSize = 0x01;
    public const int FallocPunchHole = 0x02;

    /// <summary>Opens a file or directory: checks access for the flags, applies O_TRUNC, and registers the handle.</summary>
    public async ValueTask<FsResult<OpenedFile>> OpenAsync(Caller caller, ulong ino, OpenFlags flags, CancellationToken cancellationToken = default)
    {
        bool truncate = (flags & OpenFlags.Truncate) != 0 && (flags & OpenFlags.AccessModeMask) != OpenFlags.ReadOnly;

        // In use before the locks are taken, not after they are let go: in between, another
        // client's last unlink would ask this one, hear "unused" and delete the file just opened.
        // A failed open gives it back (an orphan it kept meanwhile waits for the server's scan).
        _session.InUse.Acquire(TreeId, ino);
        FsResult<InodeAttributes> opened;
        try
        {
            opened = await RunAsync<InodeAttributes>(truncate, [ino], async items =>
            {
                if (await items.GetInodeAsync(ino) is not InodeItem inode || inode.Nlink == 0)
                {
                    return Errno.ENOENT;
                }

                OpenFlags access = flags & OpenFlags.AccessModeMask;
                uint want = access switch
                {
                    OpenFlags.ReadOnly => 4u,
                    OpenFlags.WriteOnly => 2u,
                    _ => 6u,
                };
                if (InodeMode.IsDirectory(inode.Mode) && access != OpenFlags.ReadOnly)
                {
                    return Errno.EISDIR;
                }

                if (!MayAccess(caller, inode, want))
                {
                    return Errno.EACCES;
                }

                if (truncate && InodeMode.IsRegular(inode.Mode) && inode.Size != 0)
                {
                    BtrfsTimespec now = Now();
                    items.Operation.Data(DataOperation.Truncate(ino, 0));
                    inode = inode with { Size = 0, Nbytes = 0, Mtime = now, Ctime = now };
                    if (!caller.IsRoot)
                    {
                        // As for truncate(2): an unprivileged truncation drops the set-id bits.
                        inode = inode with { Mode = KillSetId(inode.Mode) };
                    }

                    items.PutInode(ino, inode);
                }

                return FsResult<InodeAttributes>.Ok(ToAttributes(ino, inode));
            }, cancellationToken);
        }
        catch
        {
            _session.InUse.Release(TreeId, ino);
            throw;
        }

        if (!opened.IsOk)
        {
            _session.InUse.Release(TreeId, ino);
            return opened.Error;
        }

        ulong handle;
        lock (_handlesGate)
        {
            handle = _nextHandle++;
            _handles.Add(handle, new OpenHandle(ino, flags, InodeMode.IsDirectory(opened.Value.Mode)));
            _openCounts[ino] = _openCounts.GetValueOrDefault(ino) + 1;
        }

        return FsResult<OpenedFile>.Ok(new OpenedFile(handle, opened.Value));
    }

    /// <summary>Creates and opens a regular file in one step (FUSE CREATE).</summary>
    public async ValueTask<FsResult<OpenedFile>> CreateAndOpenAsync(Caller caller, ulong parent, byte[] name, uint mode, OpenFlags flags, CancellationToken cancellationToken = default)
    {
        FsResult<InodeAttributes> created = await CreateAsync(caller, parent, name, mode, cancellationToken);
        if (!created.IsOk)
        {
            return created.Error;
        }

        ulong handle;
        ulong ino = created.Value.Ino;
        lock (_handlesGate)
        {
            handle = _nextHandle++;
            _handles.Add(handle, new OpenHandle(ino, flags & ~OpenFlags.Truncate, false));
            _openCounts[ino] = _openCounts.GetValueOrDefault(ino) + 1;
        }

        _session.InUse.Acquire(TreeId, ino);
        return FsResult<OpenedFile>.Ok(new OpenedFile(handle, created.Value));
    }

    public ValueTask<FsResult<byte[]>> ReadAsync(ulong handle, ulong offset, uint length, CancellationToken cancellationToken = default)
    {
        if (!TryGetHandle(handle, out OpenHandle? h) || !h.CanRead)
        {
            return ValueTask.FromResult<FsResult<byte[]>>(Errno.EBADF);
        }

        if (h.IsDirectory)
        {
            return ValueTask.FromResult<FsResult<byte[]>>(Errno.EISDIR);
        }

        return RunAsync<byte[]>(false, [h.Ino], async items =>
        {
            if (await items.GetInodeAsync(h.Ino) is not InodeItem inode)
            {
                return Errno.ENOENT;
            }

            return FsResult<byte[]>.Ok(await _session.ReadDataAsync(TreeId, h.Ino, offset, length, inode.Size, cancellationToken));
        }, cancellationToken);
    }

    /// <summary>Buffers a write in the open transaction; returns the bytes accepted.</summary>
    public ValueTask<FsResult<int>> WriteAsync(Caller caller, ulong handle, ulong offset, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        if (!TryGetHandle(handle, out OpenHandle? h) || !h.CanWrite)
        {
            return ValueTask.FromResult<FsResult<int>>(Errno.EBADF);
        }

        if (offset > long.MaxValue - (ulong)data.Length)
        {
            return ValueTask.FromResult<FsResult<int>>(Errno.EFBIG);
        }

        byte[] copy = data.ToArray();
        return RunAsync<int>(true, [h.Ino], async items =>
        {
            if (await items.GetInodeAsync(h.Ino) is not InodeItem inode)
            {
                return Errno.ENOENT;
            }

            ulong at = (h.Flags & OpenFlags.Append) != 0 ? inode.Size : offset;
            if (copy.Length == 0)
            {
                return FsResult<int>.Ok(0);
            }

            BtrfsTimespec now = Now();
            items.Operation.Data(DataOperation.Write(h.Ino, at, copy));
            ulong size = Math.Max(inode.Size, at + (ulong)copy.Length);
            // A write past a hole allocates only what it writes (a sparse file's st_blocks stay small).
            ulong nbytes = Math.Min(EstimateNbytes(size), inode.Nbytes + EstimateNbytes((ulong)copy.Length + 4095));
            InodeItem written = inode with { Size = size, Nbytes = nbytes, Mtime = now, Ctime = now };
            if (!caller.IsRoot)
            {
                // A write by anyone but root drops set-user-id (and set-group-id on executables).
                written = written with { Mode = KillSetId(written.Mode) };
            }

            items.PutInode(h.Ino, written);
            return FsResult<int>.Ok(copy.Length);
        }, cancellationToken);
    }

    /// <summary>fallocate: mode 0 extends the size (reads as zeros), KEEP_SIZE alone is a no-op, PUNCH_HOLE|KEEP_SIZE punches.</summary>
    public ValueTask<Errno> FallocateAsync(ulong handle, int mode, ulong offset, ulong length, CancellationToken cancellationToken = default)
    {
        if (!TryGetHandle(handle, out OpenHandle? h) || !h.CanWrite)
        {
            return ValueTask.FromResult(Errno.EBADF);
        }

        if (length == 0 || offset > long.MaxValue - length)
        {
            return ValueTask.FromResult(Errno.EINVAL);
        }

        if (mode is not (0 or FallocKeepSize or (FallocPunchHole | FallocKeepSize)))
        {
            return ValueTask.FromResult(Errno.EOPNOTSUPP);
        }

        return RunErrnoAsync(RunAsync<bool>(true, [h.Ino], async items =>
        {
            if (await items.GetInodeAsync(h.Ino) is not InodeItem inode)
            {
                return Errno.ENOENT;
            }

            if (!InodeMode.IsRegular(inode.Mode))
            {
                return Errno.ENODEV;
            }

            BtrfsTimespec now = Now();
            if (mode == 0 && offset + length > inode.Size)
            {
                ulong size = offset + length;
                items.Operation.Data(DataOperation.Truncate(h.Ino, size));
                items.PutInode(h.Ino, inode with { Size = size, Nbytes = EstimateNbytes(size), Ctime = now });
            }
            else if (mode == (FallocPunchHole | FallocKeepSize) && offset < inode.Size)
            {
                items.Operation.Data(DataOperation.Punch(h.Ino, offset, Math.Min(length, inode.Size - offset)));
                items.PutInode(h.Ino, inode with { Mtime = now, Ctime = now });
            }

            return FsResult<bool>.Ok(true);
        }, cancellationToken));
    }

    /// <summary>Closes a handle; the last close of an unlinked inode deletes its items and its orphan item.</summary>
    public async ValueTask<Errno> ReleaseAsync(ulong handle, CancellationToken cancellationToken = default)
    {
        OpenHandle h;
        bool last;
        lock (_handlesGate)
        {
            if (!_handles.Remove(handle, out OpenHandle? found))
            {
                return Errno.EBADF;
            }

            h = found;
            int n = _openCounts[h.Ino] - 1;
            last = n == 0;
            if (last)
            {
                _openCounts.Remove(h.Ino);
            }
            else
            {
                _openCounts[h.Ino] = n;
            }
        }

        _session.InUse.Release(TreeId, h.Ino);
        if (!last)
        {
            return Errno.Ok;
        }

        FsResult<bool> result = await RunAsync<bool>(true, [h.Ino, ObjectIds.Orphan], async items =>
        {
            if (IsOpen(h.Ino))
            {
                // Opened again (by a handle on the orphan) while we waited for the locks.
                return FsResult<bool>.Ok(false);
            }

            // The last close here; another client may still use it (then its last close, or the
            // server's orphan scan, deletes it).
            if (await items.GetInodeAsync(h.Ino) is InodeItem inode && inode.Nlink == 0
                && !await _session.IsInUseElsewhereAsync(TreeId, h.Ino, cancellationToken))
            {
                items.DeleteInode(h.Ino, orphaned: true);
            }

            return FsResult<bool>.Ok(true);
        }, cancellationToken);
        return result.Error;
    }

    private bool TryGetHandle(ulong handle, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out OpenHandle? h)
    {
        lock (_handlesGate)
        {
            return _handles.TryGetValue(handle, out h);
        }
    }

    private bool IsOpen(ulong ino)
    {
        lock (_handlesGate)
        {
            return _openCounts.ContainsKey(ino);
        }
    }

    private static async ValueTask<Errno> RunErrnoAsync<T>(ValueTask<FsResult<T>> pending) => (await pending).Error;
}
