// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using Crfs.Format.Btrfs;
using Crfs.Format.Checksums;

namespace Crfs.Server.Items;

/// <summary>
/// Judges the items a client puts into an fs tree, once, before anything is applied. A client may
/// write only the items POSIX logic produces — INODE_ITEM, INODE_REF, INODE_EXTREF, XATTR_ITEM,
/// DIR_ITEM, DIR_INDEX and ORPHAN_ITEM — and each must parse exactly with the Format layouts:
/// lengths that add up, names that are legal file names, hashes that match the key. Everything
/// else (EXTENT_DATA, checksums, extent items, root items) is server-owned: it describes disk
/// space only the server allocates. A failure is an expected outcome (a buggy or hostile client),
/// returned as a one-line reason naming the key.
/// </summary>
internal static class ItemValidator
{
    /// <summary>The largest item a leaf of <paramref name="nodeSize"/> holds (BTRFS_MAX_ITEM_SIZE).</summary>
    public static int MaxItemSize(int nodeSize) => nodeSize - HeaderLayout.Size - ItemHeaderLayout.Size;

    /// <summary>Whether a client may put or delete items of this type (false: server-owned or unknown).</summary>
    public static bool IsClientType(ItemType type) => type is ItemType.InodeItem or ItemType.InodeRef or ItemType.InodeExtref
        or ItemType.XattrItem or ItemType.DirItem or ItemType.DirIndex or ItemType.OrphanItem;

    /// <summary>Whether <paramref name="objectId"/> is an inode number a client may create items for.</summary>
    public static bool IsInodeNumber(ulong objectId) => objectId is >= ObjectIds.FirstFree and <= ObjectIds.LastFree;

    /// <summary>Null when <paramref name="value"/> is a well-formed item for <paramref name="key"/>, else why not.</summary>
    public static string? ValidatePut(BtrfsKey key, ReadOnlySpan<byte> value, int nodeSize)
    {
        if (value.Length > MaxItemSize(nodeSize))
        {
            return $"item {key} has {value.Length} bytes, more than the {MaxItemSize(nodeSize)} a {nodeSize}-byte leaf holds";
        }

        if (key.Type == ItemType.OrphanItem)
        {
            return key.ObjectId != ObjectIds.Orphan ? $"ORPHAN_ITEM {key} must have objectid ORPHAN (-5)"
                : !IsInodeNumber(key.Offset) ? $"ORPHAN_ITEM {key} names {key.Offset}, not an inode number"
                : value.Length != 0 ? $"ORPHAN_ITEM {key} carries {value.Length} bytes; it must be empty"
                : null;
        }

        if (!IsInodeNumber(key.ObjectId))
        {
            return $"item {key}: objectid {key.ObjectId} is not an inode number in [{ObjectIds.FirstFree}, {ObjectIds.LastFree}]";
        }

        return key.Type switch
        {
            ItemType.InodeItem => ValidateInode(key, value),
            ItemType.InodeRef => ValidateInodeRef(key, value),
            ItemType.InodeExtref => ValidateInodeExtref(key, value),
            ItemType.DirItem or ItemType.DirIndex or ItemType.XattrItem => ValidateDirEntries(key, value),
            _ => $"item {key}: {ItemTypeNames.Name(key.Type)} items are server-owned or unsupported; a client may not write them",
        };
    }

    private static string? ValidateInode(BtrfsKey key, ReadOnlySpan<byte> value)
    {
        if (key.Offset != 0)
        {
            return $"INODE_ITEM {key} must have offset 0";
        }

        if (value.Length != InodeItemLayout.Size)
        {
            return $"INODE_ITEM {key} has {value.Length} bytes, not {InodeItemLayout.Size}";
        }

        var inode = new InodeItemView(value);
        uint type = inode.Mode & InodeMode.TypeMask;
        if ((inode.Mode & ~InodeMode.ValidMask) != 0 || type is not (InodeMode.Regular or InodeMode.Directory or InodeMode.Symlink
            or InodeMode.CharDevice or InodeMode.BlockDevice or InodeMode.Fifo or InodeMode.Socket))
        {
            return $"INODE_ITEM {key} has mode 0{Convert.ToString(inode.Mode, 8)}, not a valid file type and permission bits";
        }

        return inode.Size > long.MaxValue ? $"INODE_ITEM {key} has size {inode.Size}, beyond the largest file" : null;
    }

    private static string? ValidateInodeRef(BtrfsKey key, ReadOnlySpan<byte> value)
    {
        if (key.Offset != key.ObjectId && !IsInodeNumber(key.Offset))
        {
            return $"INODE_REF {key}: parent {key.Offset} is not an inode number";
        }

        if (value.IsEmpty)
        {
            return $"INODE_REF {key} is empty";
        }

        for (ReadOnlySpan<byte> rest = value; !rest.IsEmpty;)
        {
            if (rest.Length < InodeRefLayout.Size)
            {
                return $"INODE_REF {key}: {rest.Length} trailing bytes are too short for an entry header ({InodeRefLayout.Size})";
            }

            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(rest[InodeRefLayout.NameLength..]);
            if (rest.Length < InodeRefLayout.EntrySize(nameLength))
            {
                return $"INODE_REF {key}: a {nameLength}-byte name overruns the item";
            }

            var entry = new InodeRefView(rest[..InodeRefLayout.EntrySize(nameLength)]);
            bool isRootBackPointer = key.Offset == key.ObjectId;
            string? bad = isRootBackPointer
                ? entry.Name.SequenceEqual(".."u8) ? null : $"INODE_REF {key}: a self-parented ref must be named \"..\""
                : ValidateName(entry.Name, $"INODE_REF {key}");
            if (bad is not null)
            {
                return bad;
            }

            rest = rest[entry.EntrySize..];
        }

        return null;
    }

    private static string? ValidateInodeExtref(BtrfsKey key, ReadOnlySpan<byte> value)
    {
        if (value.IsEmpty)
        {
            return $"INODE_EXTREF {key} is empty";
        }

        for (ReadOnlySpan<byte> rest = value; !rest.IsEmpty;)
        {
            if (rest.Length < InodeExtrefLayout.Size)
            {
                return $"INODE_EXTREF {key}: {rest.Length} trailing bytes are too short for an entry header ({InodeExtrefLayout.Size})";
            }

            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(rest[InodeExtrefLayout.NameLength..]);
            if (rest.Length < InodeExtrefLayout.EntrySize(nameLength))
            {
                return $"INODE_EXTREF {key}: a {nameLength}-byte name overruns the item";
            }

            ulong parent = BinaryPrimitives.ReadUInt64LittleEndian(rest[InodeExtrefLayout.ParentObjectId..]);
            ReadOnlySpan<byte> name = rest.Slice(InodeExtrefLayout.Size, nameLength);
            if (!IsInodeNumber(parent))
            {
                return $"INODE_EXTREF {key}: parent {parent} is not an inode number";
            }

            if (ValidateName(name, $"INODE_EXTREF {key}") is string bad)
            {
                return bad;
            }

            ulong hash = NameHash.InodeExtref(parent, name);
            if (hash != key.Offset)
            {
                return $"INODE_EXTREF {key}: entry hash 0x{hash:x} does not match the key offset 0x{key.Offset:x}";
            }

            rest = rest[InodeExtrefLayout.EntrySize(nameLength)..];
        }

        return null;
    }

    private static string? ValidateDirEntries(BtrfsKey key, ReadOnlySpan<byte> value)
    {
        string what = $"{ItemTypeNames.Name(key.Type)} {key}";
        if (value.IsEmpty)
        {
            return $"{what} is empty";
        }

        int entries = 0;
        for (ReadOnlySpan<byte> rest = value; !rest.IsEmpty; entries++)
        {
            if (rest.Length < DirItemLayout.Size)
            {
                return $"{what}: {rest.Length} trailing bytes are too short for an entry header ({DirItemLayout.Size})";
            }

            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(rest[DirItemLayout.NameLength..]);
            int dataLength = BinaryPrimitives.ReadUInt16LittleEndian(rest[DirItemLayout.DataLength..]);
            int size = DirItemLayout.EntrySize(nameLength, dataLength);
            if (rest.Length < size)
            {
                return $"{what}: an entry of {size} bytes (name {nameLength}, data {dataLength}) overruns the item";
            }

            var entry = new DirItemView(rest[..size]);
            string? bad = key.Type == ItemType.XattrItem ? ValidateXattrEntry(what, entry) : ValidateDirEntry(what, key, entry);
            if (bad is not null)
            {
                return bad;
            }

            if (key.Type != ItemType.DirIndex && NameHash.DirItem(entry.Name) != key.Offset)
            {
                return $"{what}: name hash 0x{NameHash.DirItem(entry.Name):x} does not match the key offset 0x{key.Offset:x}";
            }

            rest = rest[size..];
        }

        return key.Type == ItemType.DirIndex && entries != 1 ? $"{what} holds {entries} entries; a DIR_INDEX holds exactly one" : null;
    }

    private static string? ValidateDirEntry(string what, BtrfsKey key, DirItemView entry)
    {
        if (entry.DataLength != 0)
        {
            return $"{what}: a directory entry carries {entry.DataLength} data bytes";
        }

        if (entry.Type is DirEntryType.Unknown or > DirEntryType.Symlink)
        {
            return $"{what}: entry type {(byte)entry.Type} is not a file type";
        }

        BtrfsKey location = entry.Location;
        bool isInode = location.Type == ItemType.InodeItem && location.Offset == 0 && IsInodeNumber(location.ObjectId);
        bool isSubvolume = location.Type == ItemType.RootItem && entry.Type == DirEntryType.Directory;
        if (!isInode && !isSubvolume)
        {
            return $"{what}: location {location} is neither an inode nor a subvolume root";
        }

        if (key.Type == ItemType.DirIndex && key.Offset < 2)
        {
            return $"{what}: index {key.Offset} is reserved (indexes start at 2)";
        }

        return ValidateName(entry.Name, what);
    }

    private static string? ValidateXattrEntry(string what, DirItemView entry)
    {
        if (entry.Type != DirEntryType.Xattr)
        {
            return $"{what}: entry type {(byte)entry.Type} is not XATTR";
        }

        if (entry.Location != default)
        {
            return $"{what}: an xattr entry has location {entry.Location}; it must be zero";
        }

        return entry.NameLength is 0 or > DirItemLayout.MaxNameLength
            ? $"{what}: xattr name length {entry.NameLength} outside [1, {DirItemLayout.MaxNameLength}]"
            : null;
    }

    /// <summary>A file name: 1–255 bytes, no '/', no NUL, not "." or "..".</summary>
    private static string? ValidateName(ReadOnlySpan<byte> name, string what)
    {
        if (name.Length is 0 or > DirItemLayout.MaxNameLength)
        {
            return $"{what}: name length {name.Length} outside [1, {DirItemLayout.MaxNameLength}]";
        }

        if (name.IndexOfAny((byte)'/', (byte)0) >= 0)
        {
            return $"{what}: name contains '/' or NUL";
        }

        return name.SequenceEqual("."u8) || name.SequenceEqual(".."u8) ? $"{what}: name \".\" or \"..\" is reserved" : null;
    }
}
