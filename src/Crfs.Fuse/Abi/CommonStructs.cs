// SPDX-License-Identifier: MIT
using System.Runtime.InteropServices;

namespace Crfs.Fuse.Abi;

/// <summary>
/// <c>fuse_attr</c>, 88 bytes: the inode attributes inside <see cref="EntryOut"/> and
/// <see cref="AttrOut"/>. <see cref="BlkSize"/> (7.9) and <see cref="Flags"/> (7.9, FUSE_ATTR_*)
/// complete the struct.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct Attr
{
    public const int SizeOf = 88;

    public ulong Ino;
    public ulong Size;
    public ulong Blocks;
    public ulong Atime;
    public ulong Mtime;
    public ulong Ctime;
    public uint AtimeNsec;
    public uint MtimeNsec;
    public uint CtimeNsec;
    public uint Mode;
    public uint Nlink;
    public uint Uid;
    public uint Gid;
    public uint Rdev;
    public uint BlkSize;
    public uint Flags;
}

/// <summary><c>fuse_kstatfs</c>, 80 bytes (the body of STATFS's reply).</summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct KStatFs
{
    public const int SizeOf = 80;

    public ulong Blocks;
    public ulong BFree;
    public ulong BAvail;
    public ulong Files;
    public ulong FFree;
    public uint BSize;
    public uint NameLen;
    public uint FrSize;
    public uint Padding;
    public fixed uint Spare[6];
}

/// <summary>
/// <c>fuse_file_lock</c>, 24 bytes: a POSIX byte-range lock. <see cref="End"/> is inclusive, with
/// <c>OFFSET_MAX</c> (<c>long.MaxValue</c>) for "to end of file". <see cref="Type"/> is F_RDLCK 0,
/// F_WRLCK 1 or F_UNLCK 2.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct FileLock
{
    public const int SizeOf = 24;

    public ulong Start;
    public ulong End;
    public uint Type;
    public uint Pid;
}

/// <summary>
/// <c>fuse_dirent</c>, 24 bytes followed by the name, the record padded to 8 bytes. <see cref="Off"/>
/// is the cookie of the entry that follows this one (what the next READDIR passes back).
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct Dirent
{
    public const int SizeOf = 24;

    public ulong Ino;
    public ulong Off;
    public uint NameLen;
    public uint Type;
}
