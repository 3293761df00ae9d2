// SPDX-License-Identifier: MIT
using System.Runtime.InteropServices;

namespace Crfs.Fuse.Abi;

// Reply bodies: what follows OutHeader in a successful reply. A fixed-size reply must be exactly
// its struct's size (the kernel rejects anything else with EINVAL).

/// <summary>
/// <c>fuse_entry_out</c>, 128 bytes: a name's node, generation, cache timeouts and attributes.
/// NodeId 0 in a LOOKUP reply is a negative entry, cached for <see cref="EntryValid"/>.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct EntryOut
{
    public const int SizeOf = 128;

    public ulong NodeId;
    public ulong Generation;
    public ulong EntryValid;
    public ulong AttrValid;
    public uint EntryValidNsec;
    public uint AttrValidNsec;
    public Attr Attr;
}

/// <summary><c>fuse_attr_out</c>, 104 bytes (GETATTR, SETATTR).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct AttrOut
{
    public const int SizeOf = 104;

    public ulong AttrValid;
    public uint AttrValidNsec;
    public uint Dummy;
    public Attr Attr;
}

/// <summary>
/// <c>fuse_open_out</c>, 16 bytes (OPEN, OPENDIR, and after the entry in CREATE/TMPFILE).
/// <see cref="BackingId"/> (7.40, was padding) names a passthrough backing file.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct OpenOut
{
    public const int SizeOf = 16;

    public ulong Fh;
    public uint OpenFlags;
    public int BackingId;
}

/// <summary><c>fuse_write_out</c>, 8 bytes (WRITE, COPY_FILE_RANGE).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct WriteOut
{
    public const int SizeOf = 8;

    public uint Size;
    public uint Padding;
}

/// <summary><c>fuse_getxattr_out</c>, 8 bytes: the value size, for a GETXATTR/LISTXATTR with size 0.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct GetXattrOut
{
    public const int SizeOf = 8;

    public uint Size;
    public uint Padding;
}

/// <summary><c>fuse_lk_out</c>, 24 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct LkOut
{
    public const int SizeOf = 24;

    public FileLock Lk;
}

/// <summary><c>fuse_bmap_out</c>, 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct BmapOut
{
    public const int SizeOf = 8;

    public ulong Block;
}

/// <summary><c>fuse_poll_out</c>, 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct PollOut
{
    public const int SizeOf = 8;

    public uint Revents;
    public uint Padding;
}

/// <summary><c>fuse_lseek_out</c>, 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct LseekOut
{
    public const int SizeOf = 8;

    public ulong Offset;
}

/// <summary><c>fuse_copy_file_range_out</c>, 8 bytes (7.45, COPY_FILE_RANGE_64).</summary>
[StructLayout(LayoutKind.Sequential)]
public struct CopyFileRangeOut
{
    public const int SizeOf = 8;

    public ulong BytesCopied;
}
