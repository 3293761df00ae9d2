// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;

namespace Crfs.Volume.Files;

/// <summary>
/// A directory entry. <see cref="Index"/> is the DIR_INDEX offset (readdir order and cookie); it is
/// 0 for entries found by name, because DIR_ITEM does not record it.
/// </summary>
public readonly record struct DirEntry(byte[] Name, BtrfsKey Location, DirEntryType Type, ulong Index)
{
    /// <summary>True when the entry names a subvolume (its location is a ROOT_ITEM key).</summary>
    public bool IsSubvolume => Location.Type == ItemType.RootItem;

    /// <summary>The inode number in this subvolume, or the subvolume id when <see cref="IsSubvolume"/>.</summary>
    public ulong Target => Location.ObjectId;
}

/// <summary>One name of an inode: a (parent directory, DIR_INDEX index, name) triple from INODE_REF or INODE_EXTREF.</summary>
public readonly record struct InodeName(ulong Parent, ulong Index, byte[] Name);

/// <summary>An extended attribute: full name (with namespace prefix, e.g. <c>user.x</c>) and value.</summary>
public readonly record struct Xattr(byte[] Name, byte[] Value);

/// <summary>
/// A decoded EXTENT_DATA item: which file bytes <c>[FileOffset, End)</c> it covers and where they
/// come from. Inline data is copied out of the leaf so the value outlives the block.
/// </summary>
public readonly record struct FileExtent(
    ulong FileOffset,
    FileExtentType Type,
    CompressionType Compression,
    ulong RamBytes,
    ulong DiskBytenr,
    ulong DiskNumBytes,
    ulong Offset,
    ulong NumBytes,
    byte[]? InlineData)
{
    /// <summary>File bytes covered: ram_bytes for inline extents, num_bytes otherwise.</summary>
    public ulong Length => Type == FileExtentType.Inline ? RamBytes : NumBytes;

    public ulong End => FileOffset + Length;

    /// <summary>True when the range reads as zeros without touching the disk (prealloc, explicit hole).</summary>
    public bool ReadsAsZeros => Type == FileExtentType.Prealloc || (Type == FileExtentType.Regular && DiskBytenr == 0);

    /// <summary>Decodes a validated EXTENT_DATA item.</summary>
    public static FileExtent FromItem(ulong fileOffset, ReadOnlySpan<byte> item)
    {
        var view = new FileExtentItemView(item);
        if (view.Type == FileExtentType.Inline)
        {
            return new FileExtent(fileOffset, FileExtentType.Inline, view.Compression, view.RamBytes, 0, 0, 0, 0, view.InlineData.ToArray());
        }

        return new FileExtent(fileOffset, view.Type, view.Compression, view.RamBytes, view.DiskBytenr, view.DiskNumBytes, view.Offset, view.NumBytes, null);
    }
}

/// <summary>An inode with the items a full copy needs, read in one pass over its keys.</summary>
public sealed class InodeSnapshot
{
    public InodeSnapshot(ulong inode, InodeItem item, List<Xattr> xattrs, List<FileExtent> extents)
    {
        Inode = inode;
        Item = item;
        Xattrs = xattrs;
        Extents = extents;
    }

    public ulong Inode { get; }

    public InodeItem Item { get; }

    public List<Xattr> Xattrs { get; }

    /// <summary>The file extents in file-offset order (holes between them are implicit).</summary>
    public List<FileExtent> Extents { get; }
}

/// <summary>
/// Where a path leads: an inode of a subvolume, or (<see cref="IsPlaceholder"/>) the empty
/// directory the kernel shows for a subvolume entry it cannot follow, with inode number 2.
/// </summary>
public readonly record struct ResolvedPath(Subvolume Subvolume, ulong Inode, bool IsPlaceholder);

/// <summary>Why a path did not resolve.</summary>
public enum PathError
{
    None = 0,
    NotFound,
    NotADirectory,
}
