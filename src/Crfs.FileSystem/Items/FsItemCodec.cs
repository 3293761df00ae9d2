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

    public static InodeItem ReadInode(ulong ino, byte[] value)
    {
        if (value.Length < InodeItemLayout.Size)
        {
            throw new InvalidDataException($"INODE_ITEM of inode {ino} is {value.Length} bytes, expected {InodeItemLayout.Size}");
        }

        return new InodeItemView(value).ToInodeItem();
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
