// SPDX-License-Identifier: MIT
namespace Crfs.Fuse;

/// <summary>
/// What a file system asks of the kernel for one open file or directory (<c>FOPEN_*</c> in
/// <c>fuse_open_out.open_flags</c>). Without <see cref="KeepCache"/> every open drops the file's
/// cached pages (close-to-open consistency); with it the pages survive until a
/// NOTIFY_INVAL_INODE, a size change, or AUTO_INVAL_DATA sees a new mtime.
/// </summary>
[Flags]
public enum FuseOpenOptions : uint
{
    None = 0,

    /// <summary>Bypass the page cache: every read(2)/write(2) becomes one READ/WRITE request.</summary>
    DirectIo = 1 << 0,

    /// <summary>Keep the page cache across opens.</summary>
    KeepCache = 1 << 1,

    /// <summary>The file is not seekable.</summary>
    NonSeekable = 1 << 2,

    /// <summary>(OPENDIR, 7.28) Cache the READDIR stream in the kernel; pair with <see cref="KeepCache"/>.</summary>
    CacheDir = 1 << 3,

    /// <summary>(7.31) A stream: no file position.</summary>
    Stream = 1 << 4,

    /// <summary>(7.35) Do not send FLUSH on close.</summary>
    NoFlush = 1 << 5,

    /// <summary>(7.37) Allow concurrent direct writes on the same inode.</summary>
    ParallelDirectWrites = 1 << 6,

    /// <summary>(7.40) Reads and writes go to the backing file in <see cref="FuseOpenReply.BackingId"/>.</summary>
    Passthrough = 1 << 7,
}

/// <summary>The fields of a SETATTR that carry a change (<c>FATTR_*</c>).</summary>
[Flags]
public enum SetAttrFields : uint
{
    None = 0,
    Mode = 1 << 0,
    Uid = 1 << 1,
    Gid = 1 << 2,
    Size = 1 << 3,
    Atime = 1 << 4,
    Mtime = 1 << 5,

    /// <summary><see cref="FuseSetAttr.FileHandle"/> is valid (the change came through an open file).</summary>
    FileHandle = 1 << 6,

    /// <summary>Set atime to the current time (the request's atime is meaningless).</summary>
    AtimeNow = 1 << 7,

    /// <summary>Set mtime to the current time.</summary>
    MtimeNow = 1 << 8,
    LockOwner = 1 << 9,
    Ctime = 1 << 10,

    /// <summary>(7.33, HANDLE_KILLPRIV_V2) Clear set-uid and set-gid as part of this change.</summary>
    KillSuidGid = 1 << 11,
}

/// <summary>Flags of a WRITE request (<c>FUSE_WRITE_*</c>).</summary>
[Flags]
public enum FuseWriteFlags : uint
{
    None = 0,

    /// <summary>A delayed write from the page cache (writeback cache); the handle is a guess.</summary>
    Cache = 1 << 0,
    LockOwner = 1 << 1,

    /// <summary>(HANDLE_KILLPRIV_V2) The writer lacks CAP_FSETID: clear set-uid and set-gid.</summary>
    KillSuidGid = 1 << 2,
}

/// <summary>Flags of a RELEASE request (<c>FUSE_RELEASE_*</c>).</summary>
[Flags]
public enum FuseReleaseFlags : uint
{
    None = 0,
    Flush = 1 << 0,

    /// <summary>Drop the flock(2) locks held by the lock owner; the dispatcher does this through Flock first.</summary>
    FlockUnlock = 1 << 1,
}

/// <summary><c>renameat2(2)</c> flags (<c>RENAME_*</c>); zero for a plain rename.</summary>
[Flags]
public enum RenameFlags : uint
{
    None = 0,
    NoReplace = 1 << 0,
    Exchange = 1 << 1,
    Whiteout = 1 << 2,
}

/// <summary><c>setxattr(2)</c> flags.</summary>
[Flags]
public enum XattrFlags : uint
{
    None = 0,

    /// <summary><c>XATTR_CREATE</c>: fail with EEXIST if the attribute exists.</summary>
    Create = 1,

    /// <summary><c>XATTR_REPLACE</c>: fail with ENODATA if the attribute does not exist.</summary>
    Replace = 2,
}

/// <summary>The type of a byte-range or flock lock (<c>F_RDLCK</c>, <c>F_WRLCK</c>, <c>F_UNLCK</c>).</summary>
public enum FuseLockType : uint
{
    Read = 0,
    Write = 1,
    Unlock = 2,
}
