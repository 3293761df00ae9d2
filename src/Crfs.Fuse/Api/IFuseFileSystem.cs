// SPDX-License-Identifier: MIT
using Crfs.Posix;

namespace Crfs.Fuse;

/// <summary>
/// A file system as the FUSE kernel protocol sees it: nodes named by 64-bit ids, one method per
/// opcode, results as <see cref="Errno"/> values. Every method has a default that answers ENOSYS,
/// so an implementation overrides only what it supports; the dispatcher notices which methods are
/// overridden and negotiates INIT accordingly (locks, READDIRPLUS, zero-message opens).
/// </summary>
/// <remarks>
/// <para><b>Node ids.</b> The file system chooses them. The root is always 1 (<see cref="RootId"/>)
/// and is never forgotten. Every successful reply that carries a <see cref="FuseEntry"/> with a
/// non-zero node id (LOOKUP, MKNOD, MKDIR, SYMLINK, LINK, CREATE, TMPFILE, and each accepted
/// READDIRPLUS entry other than "." and "..") adds one to that node's lookup count;
/// <see cref="Forget"/> subtracts. Keep the node until its count is zero, even after the last name
/// is gone: the kernel still sends GETATTR and READ for unlinked open files. Do not hold an OS
/// resource per node (file descriptors are capped at 20000 on the target machines).</para>
/// <para><b>Threads.</b> Methods are called from several reader threads at once, also for the same
/// directory when PARALLEL_DIROPS is on; they must be thread-safe. A method may block (the reader
/// pool grows so that one reader always waits for new requests), but must never wait for a
/// kernel notification it queued itself (see <see cref="IFuseNotifier"/>): the kernel holds the
/// inode locks of the request being handled until the reply is written.</para>
/// <para><b>Errors.</b> Return an errno; never throw for an expected outcome. An exception becomes EIO
/// and one log line. Do not return ENOSYS transiently (for a network error, say): for most opcodes
/// the kernel remembers ENOSYS for the rest of the mount.</para>
/// <para><b>Names and data</b> are spans into the reader's request buffer, valid only during the
/// call. Copy what you keep.</para>
/// </remarks>
public interface IFuseFileSystem
{
    public const ulong RootId = 1;

    /// <summary>
    /// INIT is about to be answered with <paramref name="connection"/>. Throwing fails INIT, and
    /// so the mount. No other request arrives before this returns.
    /// </summary>
    void Init(FuseConnectionInfo connection)
    {
    }

    /// <summary>DESTROY (sent for fuseblk/virtiofs only), or the connection ended.</summary>
    void Destroy()
    {
    }

    /// <summary>Looks a name up in a directory. Success with NodeId 0 caches a negative entry.</summary>
    Errno Lookup(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, out FuseEntry entry)
    {
        entry = default;
        return Errno.ENOSYS;
    }

    /// <summary>The kernel dropped <paramref name="lookupCount"/> references to the node (FORGET and BATCH_FORGET). No reply.</summary>
    void Forget(ulong nodeId, ulong lookupCount)
    {
    }

    /// <param name="fileHandle">Set when the caller asked through an open file (fstat).</param>
    Errno GetAttr(in FuseContext context, ulong nodeId, ulong? fileHandle, out FuseAttrReply reply)
    {
        reply = default;
        return Errno.ENOSYS;
    }

    Errno SetAttr(in FuseContext context, ulong nodeId, in FuseSetAttr changes, out FuseAttrReply reply)
    {
        reply = default;
        return Errno.ENOSYS;
    }

    /// <summary>Copies the link target into <paramref name="target"/> (no NUL); ENAMETOOLONG if it does not fit.</summary>
    Errno ReadLink(in FuseContext context, ulong nodeId, Span<byte> target, out int length)
    {
        length = 0;
        return Errno.ENOSYS;
    }

    Errno SymLink(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, out FuseEntry entry)
    {
        entry = default;
        return Errno.ENOSYS;
    }

    /// <param name="mode">File type and permissions, umask already applied unless DONT_MASK was negotiated.</param>
    Errno MkNod(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, uint mode, uint rdev, uint umask, out FuseEntry entry)
    {
        entry = default;
        return Errno.ENOSYS;
    }

    Errno MkDir(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, uint mode, uint umask, out FuseEntry entry)
    {
        entry = default;
        return Errno.ENOSYS;
    }

    Errno Unlink(in FuseContext context, ulong parent, ReadOnlySpan<byte> name) => Errno.ENOSYS;

    Errno RmDir(in FuseContext context, ulong parent, ReadOnlySpan<byte> name) => Errno.ENOSYS;

    /// <summary>RENAME (flags 0) and RENAME2.</summary>
    Errno Rename(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, ulong newParent, ReadOnlySpan<byte> newName, RenameFlags flags) =>
        Errno.ENOSYS;

    /// <summary>Makes <paramref name="newName"/> in <paramref name="newParent"/> a hard link to <paramref name="nodeId"/>.</summary>
    Errno Link(in FuseContext context, ulong nodeId, ulong newParent, ReadOnlySpan<byte> newName, out FuseEntry entry)
    {
        entry = default;
        return Errno.ENOSYS;
    }

    /// <summary>
    /// Opens a file. Not overriding it negotiates NO_OPEN_SUPPORT: the kernel then opens without a
    /// request and passes handle 0. <paramref name="flags"/> contains O_TRUNC only when
    /// <see cref="FuseOptions.AtomicOTrunc"/> is on, and then the file system must truncate.
    /// </summary>
    /// <param name="killSuidGid">(HANDLE_KILLPRIV_V2) An unprivileged O_TRUNC: clear set-uid/set-gid.</param>
    Errno Open(in FuseContext context, ulong nodeId, OpenFlags flags, bool killSuidGid, out FuseOpenReply reply)
    {
        reply = default;
        return Errno.ENOSYS;
    }

    /// <summary>Reads into <paramref name="buffer"/> (sized to the request); fewer bytes than asked means end of file.</summary>
    Errno Read(in FuseContext context, ulong nodeId, ulong fileHandle, long offset, Span<byte> buffer, out int bytesRead)
    {
        bytesRead = 0;
        return Errno.ENOSYS;
    }

    Errno Write(in FuseContext context, ulong nodeId, ulong fileHandle, long offset, ReadOnlySpan<byte> data, FuseWriteFlags flags, out int bytesWritten)
    {
        bytesWritten = 0;
        return Errno.ENOSYS;
    }

    Errno StatFs(in FuseContext context, ulong nodeId, out FuseStatFs stat)
    {
        stat = default;
        return Errno.ENOSYS;
    }

    /// <summary>Called once per FLUSH: on every close(2) of a descriptor (the kernel may send several per open).</summary>
    Errno Flush(in FuseContext context, ulong nodeId, ulong fileHandle, ulong lockOwner) => Errno.ENOSYS;

    /// <summary>The last reference to an open file went away. The reply's errno is ignored by the kernel.</summary>
    Errno Release(in FuseContext context, ulong nodeId, ulong fileHandle, OpenFlags flags, FuseReleaseFlags releaseFlags, ulong lockOwner) =>
        Errno.ENOSYS;

    Errno Fsync(in FuseContext context, ulong nodeId, ulong fileHandle, bool dataOnly) => Errno.ENOSYS;

    Errno SetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, XattrFlags flags) => Errno.ENOSYS;

    /// <summary>
    /// Reads an extended attribute. Set <paramref name="valueLength"/> to the value's full size and,
    /// when it fits, copy the value into <paramref name="value"/>; the dispatcher answers size
    /// probes and ERANGE itself. ENODATA: no such attribute.
    /// </summary>
    Errno GetXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name, Span<byte> value, out int valueLength)
    {
        valueLength = 0;
        return Errno.ENOSYS;
    }

    /// <summary>Lists attribute names, each NUL-terminated, with the same size contract as <see cref="GetXattr"/>.</summary>
    Errno ListXattr(in FuseContext context, ulong nodeId, Span<byte> names, out int namesLength)
    {
        namesLength = 0;
        return Errno.ENOSYS;
    }

    Errno RemoveXattr(in FuseContext context, ulong nodeId, ReadOnlySpan<byte> name) => Errno.ENOSYS;

    /// <summary>Opens a directory. Not overriding it negotiates NO_OPENDIR_SUPPORT (handle 0, no RELEASEDIR).</summary>
    Errno OpenDir(in FuseContext context, ulong nodeId, OpenFlags flags, out FuseOpenReply reply)
    {
        reply = default;
        return Errno.ENOSYS;
    }

    /// <summary>Lists entries after cookie <paramref name="offset"/> until the writer is full or the directory ends.</summary>
    Errno ReadDir(in FuseContext context, ulong nodeId, ulong fileHandle, ulong offset, ref FuseDirectoryWriter writer) => Errno.ENOSYS;

    /// <summary>READDIR with a <see cref="FuseEntry"/> per name. Overriding it negotiates DO_READDIRPLUS.</summary>
    Errno ReadDirPlus(in FuseContext context, ulong nodeId, ulong fileHandle, ulong offset, ref FuseDirectoryPlusWriter writer) => Errno.ENOSYS;

    Errno ReleaseDir(in FuseContext context, ulong nodeId, ulong fileHandle) => Errno.ENOSYS;

    Errno FsyncDir(in FuseContext context, ulong nodeId, ulong fileHandle, bool dataOnly) => Errno.ENOSYS;

    /// <summary>F_GETLK: the first lock that would conflict with <paramref name="lk"/>, or Type = Unlock.</summary>
    Errno GetLk(in FuseContext context, ulong nodeId, ulong fileHandle, ulong owner, in FuseFileLock lk, out FuseFileLock conflict)
    {
        conflict = default;
        return Errno.ENOSYS;
    }

    /// <summary>
    /// F_SETLK/F_SETLKW (and unlocking). Overriding it negotiates POSIX_LOCKS; otherwise the kernel
    /// keeps fcntl locks local to this machine. A waiting call must observe the context's token.
    /// </summary>
    Errno SetLk(in FuseContext context, ulong nodeId, ulong fileHandle, ulong owner, in FuseFileLock lk, bool wait) => Errno.ENOSYS;

    /// <summary>flock(2) on an open file (owner = the open file). Overriding it negotiates FLOCK_LOCKS.</summary>
    Errno Flock(in FuseContext context, ulong nodeId, ulong fileHandle, ulong owner, FuseLockType type, bool wait) => Errno.ENOSYS;

    /// <summary>access(2). ENOSYS makes the kernel treat every later ACCESS as granted.</summary>
    Errno Access(in FuseContext context, ulong nodeId, uint mask) => Errno.ENOSYS;

    /// <summary>Creates and opens a regular file. ENOSYS makes the kernel fall back to MKNOD + OPEN.</summary>
    Errno Create(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, uint mode, uint umask, OpenFlags flags, out FuseEntry entry, out FuseOpenReply reply)
    {
        entry = default;
        reply = default;
        return Errno.ENOSYS;
    }

    /// <summary>O_TMPFILE: an unnamed regular file in <paramref name="parent"/>, opened.</summary>
    Errno TmpFile(in FuseContext context, ulong parent, uint mode, uint umask, OpenFlags flags, out FuseEntry entry, out FuseOpenReply reply)
    {
        entry = default;
        reply = default;
        return Errno.ENOSYS;
    }

    /// <param name="mode">fallocate(2) mode bits (FALLOC_FL_KEEP_SIZE 1, PUNCH_HOLE 2, ...).</param>
    Errno Fallocate(in FuseContext context, ulong nodeId, ulong fileHandle, long offset, long length, int mode) => Errno.ENOSYS;

    /// <summary>SEEK_DATA (3) / SEEK_HOLE (4). ENOSYS: the kernel uses its generic answer from then on.</summary>
    Errno Lseek(in FuseContext context, ulong nodeId, ulong fileHandle, long offset, int whence, out long resultOffset)
    {
        resultOffset = 0;
        return Errno.ENOSYS;
    }

    /// <summary>COPY_FILE_RANGE and COPY_FILE_RANGE_64. ENOSYS: the kernel copies through READ/WRITE.</summary>
    Errno CopyFileRange(in FuseContext context, ulong nodeIn, ulong fileHandleIn, long offsetIn, ulong nodeOut, ulong fileHandleOut, long offsetOut, ulong length, ulong flags, out ulong bytesCopied)
    {
        bytesCopied = 0;
        return Errno.ENOSYS;
    }

    /// <summary>
    /// poll(2) on an open file. With <paramref name="scheduleNotify"/>, remember
    /// <paramref name="pollHandle"/> and call <see cref="IFuseNotifier.PollWakeup"/> when readiness changes.
    /// </summary>
    Errno Poll(in FuseContext context, ulong nodeId, ulong fileHandle, ulong pollHandle, bool scheduleNotify, uint events, out uint readyEvents)
    {
        readyEvents = 0;
        return Errno.ENOSYS;
    }

    /// <summary>syncfs(2) on the mount (7.34).</summary>
    Errno SyncFs(in FuseContext context, ulong nodeId) => Errno.ENOSYS;
}
