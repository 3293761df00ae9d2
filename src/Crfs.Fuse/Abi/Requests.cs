// SPDX-License-Identifier: MIT
using System.Runtime.InteropServices;

namespace Crfs.Fuse.Abi;

// Request bodies: the fixed struct that follows InHeader. Names, link targets and WRITE data
// follow the fixed struct. Sizes are those of protocol 7.45; the dispatcher's opcode table records
// the shorter forms older minors send (FuseOpcodeTable).

/// <summary><c>fuse_forget_in</c>, 8 bytes (FORGET; the node is the header's).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct ForgetIn
{
    public const int SizeOf = 8;

    public ulong NLookup;
}

/// <summary><c>fuse_forget_one</c>, 16 bytes: one element of a BATCH_FORGET.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct ForgetOne
{
    public const int SizeOf = 16;

    public ulong NodeId;
    public ulong NLookup;
}

/// <summary><c>fuse_batch_forget_in</c>, 8 bytes, followed by <see cref="Count"/> <see cref="ForgetOne"/>.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct BatchForgetIn
{
    public const int SizeOf = 8;

    public uint Count;
    public uint Dummy;
}

/// <summary><c>fuse_getattr_in</c>, 16 bytes (7.9). Flag 1 (FUSE_GETATTR_FH): <see cref="Fh"/> is valid.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct GetAttrIn
{
    public const int SizeOf = 16;
    public const uint FlagFh = 1;

    public uint GetAttrFlags;
    public uint Dummy;
    public ulong Fh;
}

/// <summary><c>fuse_setattr_in</c>, 88 bytes. <see cref="Valid"/> says which fields carry a change.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SetAttrIn
{
    public const int SizeOf = 88;

    public uint Valid;
    public uint Padding;
    public ulong Fh;
    public ulong Size;
    public ulong LockOwner;
    public ulong Atime;
    public ulong Mtime;
    public ulong Ctime;
    public uint AtimeNsec;
    public uint MtimeNsec;
    public uint CtimeNsec;
    public uint Mode;
    public uint Unused4;
    public uint Uid;
    public uint Gid;
    public uint Unused5;
}

/// <summary><c>fuse_mknod_in</c>, 16 bytes (8 before 7.12: no umask), followed by the name.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct MkNodIn
{
    public const int SizeOf = 16;

    public uint Mode;
    public uint Rdev;
    public uint Umask;
    public uint Padding;
}

/// <summary><c>fuse_mkdir_in</c>, 8 bytes, followed by the name.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct MkDirIn
{
    public const int SizeOf = 8;

    public uint Mode;
    public uint Umask;
}

/// <summary><c>fuse_rename_in</c>, 8 bytes, followed by old name and new name.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct RenameIn
{
    public const int SizeOf = 8;

    public ulong NewDir;
}

/// <summary><c>fuse_rename2_in</c>, 16 bytes (7.23), followed by old name and new name.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct Rename2In
{
    public const int SizeOf = 16;

    public ulong NewDir;
    public uint Flags;
    public uint Padding;
}

/// <summary><c>fuse_link_in</c>, 8 bytes, followed by the new name.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct LinkIn
{
    public const int SizeOf = 8;

    public ulong OldNodeId;
}

/// <summary>
/// <c>fuse_open_in</c>, 8 bytes (OPEN, OPENDIR). <see cref="OpenFlags"/> (7.38, was unused) carries
/// FUSE_OPEN_KILL_SUIDGID.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct OpenIn
{
    public const int SizeOf = 8;
    public const uint OpenKillSuidGid = 1;

    public uint Flags;
    public uint OpenFlags;
}

/// <summary><c>fuse_create_in</c>, 16 bytes (8 before 7.12), followed by the name (CREATE, TMPFILE).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct CreateIn
{
    public const int SizeOf = 16;

    public uint Flags;
    public uint Mode;
    public uint Umask;
    public uint OpenFlags;
}

/// <summary><c>fuse_release_in</c>, 24 bytes (RELEASE, RELEASEDIR).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct ReleaseIn
{
    public const int SizeOf = 24;

    public ulong Fh;
    public uint Flags;
    public uint ReleaseFlags;
    public ulong LockOwner;
}

/// <summary><c>fuse_flush_in</c>, 24 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FlushIn
{
    public const int SizeOf = 24;

    public ulong Fh;
    public uint Unused;
    public uint Padding;
    public ulong LockOwner;
}

/// <summary><c>fuse_read_in</c>, 40 bytes (READ, READDIR, READDIRPLUS).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct ReadIn
{
    public const int SizeOf = 40;

    public ulong Fh;
    public ulong Offset;
    public uint Size;
    public uint ReadFlags;
    public ulong LockOwner;
    public uint Flags;
    public uint Padding;
}

/// <summary><c>fuse_write_in</c>, 40 bytes, followed by <see cref="Size"/> bytes of data.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct WriteIn
{
    public const int SizeOf = 40;

    public ulong Fh;
    public ulong Offset;
    public uint Size;
    public uint WriteFlags;
    public ulong LockOwner;
    public uint Flags;
    public uint Padding;
}

/// <summary><c>fuse_fsync_in</c>, 16 bytes (FSYNC, FSYNCDIR). Flag 1 = datasync.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FsyncIn
{
    public const int SizeOf = 16;

    public ulong Fh;
    public uint FsyncFlags;
    public uint Padding;
}

/// <summary>
/// <c>fuse_setxattr_in</c>: 16 bytes with <see cref="FuseInitFlags.SetXattrExt"/> (7.33), else the
/// first 8 (<see cref="CompatSizeOf"/>). Followed by the name and <see cref="Size"/> value bytes.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct SetXattrIn
{
    public const int SizeOf = 16;
    public const int CompatSizeOf = 8;

    public uint Size;
    public uint Flags;
    public uint SetXattrFlags;
    public uint Padding;
}

/// <summary><c>fuse_getxattr_in</c>, 8 bytes (GETXATTR followed by the name, LISTXATTR).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct GetXattrIn
{
    public const int SizeOf = 8;

    public uint Size;
    public uint Padding;
}

/// <summary><c>fuse_lk_in</c>, 48 bytes (GETLK, SETLK, SETLKW). Flag 1 (FUSE_LK_FLOCK): flock(2) semantics.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct LkIn
{
    public const int SizeOf = 48;
    public const uint FlagFlock = 1;

    public ulong Fh;
    public ulong Owner;
    public FileLock Lk;
    public uint LkFlags;
    public uint Padding;
}

/// <summary><c>fuse_access_in</c>, 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct AccessIn
{
    public const int SizeOf = 8;

    public uint Mask;
    public uint Padding;
}

/// <summary><c>fuse_interrupt_in</c>, 8 bytes: the unique of the request to interrupt.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct InterruptIn
{
    public const int SizeOf = 8;

    public ulong Unique;
}

/// <summary><c>fuse_bmap_in</c>, 16 bytes (fuseblk only).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct BmapIn
{
    public const int SizeOf = 16;

    public ulong Block;
    public uint BlockSize;
    public uint Padding;
}

/// <summary><c>fuse_ioctl_in</c>, 32 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct IoctlIn
{
    public const int SizeOf = 32;

    public ulong Fh;
    public uint Flags;
    public uint Cmd;
    public ulong Arg;
    public uint InSize;
    public uint OutSize;
}

/// <summary><c>fuse_poll_in</c>, 24 bytes. Flag 1 (FUSE_POLL_SCHEDULE_NOTIFY): wake <see cref="Kh"/> on change.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct PollIn
{
    public const int SizeOf = 24;
    public const uint FlagScheduleNotify = 1;

    public ulong Fh;
    public ulong Kh;
    public uint Flags;
    public uint Events;
}

/// <summary><c>fuse_fallocate_in</c>, 32 bytes (7.19).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct FallocateIn
{
    public const int SizeOf = 32;

    public ulong Fh;
    public ulong Offset;
    public ulong Length;
    public uint Mode;
    public uint Padding;
}

/// <summary><c>fuse_lseek_in</c>, 24 bytes (7.24).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct LseekIn
{
    public const int SizeOf = 24;

    public ulong Fh;
    public ulong Offset;
    public uint Whence;
    public uint Padding;
}

/// <summary><c>fuse_copy_file_range_in</c>, 56 bytes (7.28; also COPY_FILE_RANGE_64, 7.45).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct CopyFileRangeIn
{
    public const int SizeOf = 56;

    public ulong FhIn;
    public ulong OffIn;
    public ulong NodeIdOut;
    public ulong FhOut;
    public ulong OffOut;
    public ulong Len;
    public ulong Flags;
}

/// <summary><c>fuse_syncfs_in</c>, 8 bytes (7.34).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct SyncFsIn
{
    public const int SizeOf = 8;

    public ulong Padding;
}

/// <summary><c>fuse_statx_in</c>, 24 bytes (7.39).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct StatxIn
{
    public const int SizeOf = 24;

    public uint GetAttrFlags;
    public uint Reserved;
    public ulong Fh;
    public uint SxFlags;
    public uint SxMask;
}

/// <summary>
/// <c>fuse_notify_retrieve_in</c>, 40 bytes: the body of a NOTIFY_REPLY request (the kernel's
/// answer to a RETRIEVE), followed by <see cref="Size"/> bytes of page-cache data.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct NotifyRetrieveIn
{
    public const int SizeOf = 40;

    public ulong Dummy1;
    public ulong Offset;
    public uint Size;
    public uint Dummy2;
    public ulong Dummy3;
    public ulong Dummy4;
}
