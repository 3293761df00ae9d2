// SPDX-License-Identifier: MIT
namespace Crfs.Format.Btrfs;

/// <summary>
/// INODE_ITEM <c>flags</c>: the low 32 bits are ordinary inode flags, the high 32 bits
/// "read-only compat" flags (only VERITY so far). On disk; frozen.
/// </summary>
[Flags]
public enum InodeFlags : ulong
{
    None = 0,
    NoDataSum = 1UL << 0,
    NoDataCow = 1UL << 1,
    ReadOnly = 1UL << 2,
    NoCompress = 1UL << 3,
    Prealloc = 1UL << 4,
    Sync = 1UL << 5,
    Immutable = 1UL << 6,
    Append = 1UL << 7,
    NoDump = 1UL << 8,
    NoAtime = 1UL << 9,
    DirSync = 1UL << 10,
    Compress = 1UL << 11,
    RootItemInit = 1UL << 31,

    /// <summary>Every low-32 flag the kernel's tree-checker accepts (<c>BTRFS_INODE_FLAG_MASK</c>).</summary>
    KnownMask = NoDataSum | NoDataCow | ReadOnly | NoCompress | Prealloc | Sync | Immutable | Append
        | NoDump | NoAtime | DirSync | Compress | RootItemInit,

    /// <summary>The first read-only compat flag (fs-verity), bit 32.</summary>
    Verity = 1UL << 32,
}

/// <summary>The <c>type</c> byte of DIR_ITEM/DIR_INDEX/XATTR_ITEM entries (<c>BTRFS_FT_*</c>). On disk; frozen.</summary>
public enum DirEntryType : byte
{
    Unknown = 0,
    RegularFile = 1,
    Directory = 2,
    CharDevice = 3,
    BlockDevice = 4,
    Fifo = 5,
    Socket = 6,
    Symlink = 7,
    Xattr = 8,
}

/// <summary>The <c>type</c> byte of EXTENT_DATA items. On disk; frozen.</summary>
public enum FileExtentType : byte
{
    Inline = 0,
    Regular = 1,
    Prealloc = 2,
}

/// <summary>EXTENT_ITEM/METADATA_ITEM <c>flags</c>. On disk; frozen.</summary>
[Flags]
public enum ExtentFlags : ulong
{
    None = 0,
    Data = 1UL << 0,
    TreeBlock = 1UL << 1,
    FullBackref = 1UL << 8,
}

/// <summary>ROOT_ITEM <c>flags</c>. On disk; frozen.</summary>
[Flags]
public enum RootItemFlags : ulong
{
    None = 0,
    ReadOnly = 1UL << 0,
    Dead = 1UL << 48,
}

/// <summary>The low 56 bits of a tree block header's <c>flags</c>; the top byte is the backref revision.</summary>
[Flags]
public enum TreeBlockFlags : ulong
{
    None = 0,
    Written = 1UL << 0,
    Reloc = 1UL << 1,
}

/// <summary>FREE_SPACE_INFO <c>flags</c>. On disk; frozen.</summary>
[Flags]
public enum FreeSpaceInfoFlags : uint
{
    None = 0,
    UsingBitmaps = 1,
}

/// <summary>POSIX <c>st_mode</c> file-type bits as stored in INODE_ITEM.mode.</summary>
public static class InodeMode
{
    public const uint TypeMask = 0xF000;    // S_IFMT
    public const uint Socket = 0xC000;      // S_IFSOCK
    public const uint Symlink = 0xA000;     // S_IFLNK
    public const uint Regular = 0x8000;     // S_IFREG
    public const uint BlockDevice = 0x6000; // S_IFBLK
    public const uint Directory = 0x4000;   // S_IFDIR
    public const uint CharDevice = 0x2000;  // S_IFCHR
    public const uint Fifo = 0x1000;        // S_IFIFO
    public const uint SetUid = 0x800;
    public const uint SetGid = 0x400;
    public const uint Sticky = 0x200;
    public const uint PermissionMask = 0x1FF;

    /// <summary>Every bit an INODE_ITEM mode may carry.</summary>
    public const uint ValidMask = TypeMask | SetUid | SetGid | Sticky | PermissionMask;

    public static bool IsDirectory(uint mode) => (mode & TypeMask) == Directory;

    public static bool IsRegular(uint mode) => (mode & TypeMask) == Regular;

    public static bool IsSymlink(uint mode) => (mode & TypeMask) == Symlink;

    /// <summary>The directory-entry type that matches a mode's file type.</summary>
    public static DirEntryType ToDirEntryType(uint mode) => (mode & TypeMask) switch
    {
        Regular => DirEntryType.RegularFile,
        Directory => DirEntryType.Directory,
        CharDevice => DirEntryType.CharDevice,
        BlockDevice => DirEntryType.BlockDevice,
        Fifo => DirEntryType.Fifo,
        Socket => DirEntryType.Socket,
        Symlink => DirEntryType.Symlink,
        _ => DirEntryType.Unknown,
    };
}
