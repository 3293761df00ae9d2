// SPDX-License-Identifier: MIT
namespace Crfs.Posix;

/// <summary>
/// The attributes <c>stat(2)</c> reports for an inode. <see cref="Mode"/> holds the file type and
/// the permission bits together, as <c>st_mode</c> does. <see cref="Blocks"/> counts 512-byte units
/// whatever <see cref="BlockSize"/> says (the preferred I/O size).
/// </summary>
public struct InodeAttributes
{
    public ulong Ino;
    public ulong Size;
    public ulong Blocks;
    public Timespec Atime;
    public Timespec Mtime;
    public Timespec Ctime;
    public uint Mode;
    public uint Nlink;
    public uint Uid;
    public uint Gid;
    public uint Rdev;
    public uint BlockSize;

    public readonly FileType Type => FileTypes.FromMode(Mode);
}
