// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;

namespace Crfs.Volume.Files;

/// <summary>
/// The expected outcomes of a file-level write operation. The values are the Linux errno
/// numbers, so a caller that speaks POSIX converts with a cast.
/// </summary>
public enum WriteStatus
{
    Ok = 0,
    NotPermitted = 1,      // EPERM
    NoEntry = 2,           // ENOENT
    TooBig = 7,            // E2BIG
    Exists = 17,           // EEXIST
    NotDirectory = 20,     // ENOTDIR
    IsDirectory = 21,      // EISDIR
    InvalidArgument = 22,  // EINVAL
    FileTooLarge = 27,     // EFBIG
    NoSpace = 28,          // ENOSPC
    TooManyLinks = 31,     // EMLINK
    OutOfRange = 34,       // ERANGE
    NameTooLong = 36,      // ENAMETOOLONG
    NotEmpty = 39,         // ENOTEMPTY
    NoData = 61,           // ENODATA
}

/// <summary>Attributes of a new inode. Null times mean "now" (the writer's clock).</summary>
public readonly record struct NewInode(
    uint Mode,
    uint Uid = 0,
    uint Gid = 0,
    ulong Rdev = 0,
    BtrfsTimespec? Atime = null,
    BtrfsTimespec? Mtime = null,
    BtrfsTimespec? Ctime = null,
    BtrfsTimespec? Otime = null);

/// <summary>A setattr: each non-null field is changed.</summary>
public sealed record SetAttributes
{
    /// <summary>Permission and set-id bits; the file type bits are kept.</summary>
    public uint? Mode { get; init; }

    public uint? Uid { get; init; }

    public uint? Gid { get; init; }

    public ulong? Size { get; init; }

    public BtrfsTimespec? Atime { get; init; }

    public BtrfsTimespec? Mtime { get; init; }

    /// <summary>When null, ctime becomes now (as every setattr does).</summary>
    public BtrfsTimespec? Ctime { get; init; }
}

/// <summary>How <see cref="FileSystemWriter.SetXattr"/> treats an existing attribute (XATTR_CREATE / XATTR_REPLACE).</summary>
public enum XattrMode
{
    Any = 0,
    Create = 1,
    Replace = 2,
}
