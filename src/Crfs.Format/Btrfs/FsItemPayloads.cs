// SPDX-License-Identifier: MIT
namespace Crfs.Format.Btrfs;

/// <summary>
/// Builds the payloads of fs-tree items (INODE_ITEM, INODE_REF and INODE_EXTREF entries,
/// DIR_ITEM/DIR_INDEX/XATTR_ITEM entries, file extents) through the writer views. The one place
/// where the writer on the server, the POSIX layer on the client and the tests make these bytes.
/// </summary>
public static class FsItemPayloads
{
    public static byte[] Inode(in InodeItem inode)
    {
        byte[] b = new byte[InodeItemLayout.Size];
        new InodeItemWriter(b).Set(inode);
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

    public static byte[] RegularExtent(ulong generation, FileExtentType type, ulong diskBytenr, ulong diskNumBytes, ulong offset, ulong numBytes, ulong ramBytes, CompressionType compression = CompressionType.None)
    {
        byte[] b = new byte[FileExtentItemLayout.Size];
        var w = new FileExtentItemWriter(b);
        w.Generation = generation;
        w.RamBytes = ramBytes;
        w.Compression = compression;
        w.Type = type;
        w.DiskBytenr = diskBytenr;
        w.DiskNumBytes = diskNumBytes;
        w.Offset = offset;
        w.NumBytes = numBytes;
        return b;
    }
}
