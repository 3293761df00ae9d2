// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Format.Checksums;

namespace Crfs.FileSystem.Items;

/// <summary>
/// The bytes of fs-tree item values, built and taken apart through the Crfs.Format views: inode
/// items, directory and xattr entries (which share <c>btrfs_dir_item</c>), inode refs and extrefs,
/// inline extents. Pure functions; the namespace logic lives in <see cref="NamespaceItems"/>.
/// </summary>
public static class FsItemCodec
{
    public static BtrfsKey InodeKey(ulong ino) => new(ino, ItemType.InodeItem, 0);

    public static BtrfsKey DirItemKey(ulong dir, ReadOnlySpan<byte> name) => new(dir, ItemType.DirItem, NameHash.DirItem(name));

    public static BtrfsKey DirIndexKey(ulong dir, ulong index) => new(dir, ItemType.DirIndex, index);

    public static BtrfsKey InodeRefKey(ulong ino, ulong parent) => new(ino, ItemType.InodeRef, parent);

    public static BtrfsKey InodeExtrefKey(ulong ino, ulong parent, ReadOnlySpan<byte> name) => new(ino, ItemType.InodeExtref, NameHash.InodeExtref(parent, name));

    public static BtrfsKey XattrKey(ulong ino, ReadOnlySpan<byte> name) => new(ino, ItemType.XattrItem, NameHash.DirItem(name));

    public static BtrfsKey OrphanKey(ulong ino) => new(ObjectIds.Orphan, ItemType.OrphanItem, ino);

    public static byte[] Inode(in InodeItem inode)
    {
        byte[] b = new byte[InodeItemLayout.Size];
        new InodeItemWriter(b).Set(inode);
        return b;
    }

    public static InodeItem ReadInode(ulong ino, byte[] value)
    {
        if (value.Length < InodeItemLayout.Size)
        {
            throw new InvalidDataException($"INODE_ITEM of inode {ino} is {value.Length} bytes, expected {InodeItemLayout.Size}");
        }

        return new InodeItemView(value).ToInodeItem();
    }

    public static byte[] DirEntry(BtrfsKey location, ulong transid, DirEntryType type, ReadOnlySpan<byte> name, ReadOnlySpan<byte> data)
    {
        byte[] b = new byte[DirItemLayout.EntrySize(name.Length, data.Length)];
        var w = new DirItemWriter(b);
        w.Location = location;
        w.Transid = transid;
        w.DataLength = (ushort)data.Length;
        w.NameLength = (ushort)name.Length;
        w.Type = type;
        name.CopyTo(w.Name);
        data.CopyTo(w.Data);
        return b;
    }

    public static byte[] InodeRefEntry(ulong index, ReadOnlySpan<byte> name)
    {
        byte[] b = new byte[InodeRefLayout.EntrySize(name.Length)];
        var w = new InodeRefWriter(b);
        w.Index = index;
        w.NameLength = (ushort)name.Length;
        name.CopyTo(w.Name);
        return b;
    }

    public static byte[] InodeExtrefEntry(ulong parent, ulong index, ReadOnlySpan<byte> name)
    {
        byte[] b = new byte[InodeExtrefLayout.EntrySize(name.Length)];
        var w = new InodeExtrefWriter(b);
        w.ParentObjectId = parent;
        w.Index = index;
        w.NameLength = (ushort)name.Length;
        name.CopyTo(w.Name);
        return b;
    }

    public static byte[] InlineExtent(ulong generation, ReadOnlySpan<byte> data)
    {
        byte[] b = new byte[FileExtentItemLayout.InlineDataStart + data.Length];
        var w = new FileExtentItemWriter(b);
        w.Generation = generation;
        w.RamBytes = (ulong)data.Length;
        w.Compression = CompressionType.None;
        w.Type = FileExtentType.Inline;
        data.CopyTo(w.InlineData);
        return b;
    }

    /// <summary>The entry named <paramref name="name"/> in a DIR_ITEM or XATTR_ITEM value: its location, type and data.</summary>
    public static bool TryFindEntry(byte[]? item, ReadOnlySpan<byte> name, out BtrfsKey location, out DirEntryType type, out byte[] data)
    {
        if (item is not null)
        {
            foreach (DirItemView e in new DirItemEnumerator(item))
            {
                if (e.Name.SequenceEqual(name))
                {
                    location = e.Location;
                    type = e.Type;
                    data = e.Data.ToArray();
                    return true;
                }
            }
        }

        location = default;
        type = default;
        data = [];
        return false;
    }

    /// <summary>The value without the entry named <paramref name="name"/> (empty when nothing is left).</summary>
    public static byte[] WithoutEntry(byte[] item, ReadOnlySpan<byte> name, out bool existed)
    {
        existed = false;
        var rest = new List<byte>(item.Length);
        int offset = 0;
        foreach (DirItemView e in new DirItemEnumerator(item))
        {
            if (e.Name.SequenceEqual(name))
            {
                existed = true;
            }
            else
            {
                rest.AddRange(item.AsSpan(offset, e.EntrySize));
            }

            offset += e.EntrySize;
        }

        return [.. rest];
    }

    public static byte[] Concat(byte[]? a, byte[] b) => a is null ? b : [.. a, .. b];
}
