// SPDX-License-Identifier: MIT
using Crfs.Posix;

namespace Crfs.Fuse;

/// <summary>
/// The answer to every request that names a node (LOOKUP, MKNOD, MKDIR, SYMLINK, LINK, CREATE,
/// TMPFILE and each READDIRPLUS entry). Handing out a non-zero <see cref="NodeId"/> adds one to
/// that node's kernel lookup count; the kernel gives it back through Forget.
/// </summary>
/// <remarks>
/// A LOOKUP may answer success with <see cref="NodeId"/> 0: a negative entry that the kernel caches
/// for <see cref="EntryTimeout"/> (an ENOENT error is not cached). Timeouts of zero disable caching
/// of the name or the attributes; every path walk then costs a request.
/// </remarks>
public struct FuseEntry
{
    public ulong NodeId;

    /// <summary>With <see cref="NodeId"/>, unique over the file system's lifetime (matters for NFS export).</summary>
    public ulong Generation;
    public InodeAttributes Attributes;
    public TimeSpan EntryTimeout;
    public TimeSpan AttrTimeout;

    public static FuseEntry Negative(TimeSpan timeout) => new() { EntryTimeout = timeout };
}

/// <summary>The answer to GETATTR and SETATTR: attributes and how long the kernel may cache them.</summary>
public struct FuseAttrReply
{
    public InodeAttributes Attributes;
    public TimeSpan Timeout;

    public FuseAttrReply(in InodeAttributes attributes, TimeSpan timeout)
    {
        Attributes = attributes;
        Timeout = timeout;
    }
}

/// <summary>
/// The answer to OPEN, OPENDIR, CREATE and TMPFILE: the file system's handle for the open file
/// (echoed in every later request on it) and the kernel cache policy for this open.
/// </summary>
public struct FuseOpenReply
{
    public ulong Handle;
    public FuseOpenOptions Options;

    /// <summary>With <see cref="FuseOpenOptions.Passthrough"/>: the id FUSE_DEV_IOC_BACKING_OPEN returned.</summary>
    public int BackingId;

    public FuseOpenReply(ulong handle, FuseOpenOptions options = FuseOpenOptions.None)
    {
        Handle = handle;
        Options = options;
        BackingId = 0;
    }
}

/// <summary>The answer to STATFS (<c>struct statvfs</c>'s counters).</summary>
public struct FuseStatFs
{
    public ulong Blocks;
    public ulong FreeBlocks;
    public ulong AvailableBlocks;
    public ulong Files;
    public ulong FreeFiles;
    public uint BlockSize;
    public uint MaxNameLength;
    public uint FragmentSize;
}

/// <summary>
/// A SETATTR request: <see cref="Valid"/> says which of the other fields carry a change.
/// <see cref="SetAttrFields.AtimeNow"/>/<see cref="SetAttrFields.MtimeNow"/> mean "the current
/// time"; <see cref="SetAttrFields.Size"/> is a truncate.
/// </summary>
public readonly struct FuseSetAttr
{
    public SetAttrFields Valid { get; init; }
    public ulong FileHandle { get; init; }
    public ulong Size { get; init; }
    public ulong LockOwner { get; init; }
    public Timespec Atime { get; init; }
    public Timespec Mtime { get; init; }
    public Timespec Ctime { get; init; }
    public uint Mode { get; init; }
    public uint Uid { get; init; }
    public uint Gid { get; init; }

    public bool Has(SetAttrFields field) => (Valid & field) != 0;
}

/// <summary>
/// A POSIX byte-range lock as fcntl(2) sees it: [<see cref="Start"/>, <see cref="End"/>], the
/// end inclusive and <c>long.MaxValue</c> meaning "to the end of the file".
/// </summary>
public struct FuseFileLock
{
    public long Start;
    public long End;
    public FuseLockType Type;

    /// <summary>The owning process, reported back to F_GETLK callers.</summary>
    public uint Pid;
}

/// <summary>The negotiated connection, as INIT left it.</summary>
/// <param name="Major">Always 7.</param>
/// <param name="Minor">min(kernel's minor, <see cref="FuseDispatcher.MaxSupportedMinor"/>).</param>
/// <param name="KernelMinor">What the kernel speaks.</param>
/// <param name="Flags">The capabilities both sides agreed on.</param>
/// <param name="KernelFlags">Everything the kernel offered.</param>
/// <param name="MaxWrite">Largest WRITE (and READ) payload, in bytes.</param>
/// <param name="MaxReadahead">Readahead window.</param>
public sealed record FuseConnectionInfo(
    uint Major,
    uint Minor,
    uint KernelMinor,
    Abi.FuseInitFlags Flags,
    Abi.FuseInitFlags KernelFlags,
    uint MaxWrite,
    uint MaxReadahead)
{
    public bool Has(Abi.FuseInitFlags flag) => (Flags & flag) == flag;
}
