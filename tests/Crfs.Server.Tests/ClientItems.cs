// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Format.Checksums;
using Crfs.Protocol.Messages;

namespace Crfs.Server.Tests;

/// <summary>The item values a CRFS client sends for a create, built with the Format write views.</summary>
internal static class ClientItems
{
    public const ulong RootDir = 256;

    public static readonly BtrfsTimespec Time = new(1_700_000_000, 0);

    public static byte[] Inode(uint mode, ulong size, uint nlink = 1, ulong nbytes = 0)
    {
        byte[] b = new byte[InodeItemLayout.Size];
        var w = new InodeItemWriter(b);
        w.Mode = mode;
        w.Size = size;
        w.Nlink = nlink;
        w.Nbytes = nbytes;
        w.Atime = Time;
        w.Ctime = Time;
        w.Mtime = Time;
        w.Otime = Time;
        return b;
    }

    public static byte[] InodeRef(ulong index, ReadOnlySpan<byte> name) => FsItemPayloads.InodeRefEntry(index, name);

    public static byte[] DirEntry(ulong ino, DirEntryType type, ReadOnlySpan<byte> name) =>
        FsItemPayloads.DirEntry(new BtrfsKey(ino, ItemType.InodeItem, 0), 0, type, name, []);

    /// <summary>
    /// The item operations of creating <paramref name="name"/> (a regular file, or a directory)
    /// as inode <paramref name="ino"/> in <paramref name="parent"/>, whose current INODE_ITEM is
    /// <paramref name="parentInode"/>: key-sorted, as a client sends them.
    /// </summary>
    public static List<ItemOperation> Create(ulong parent, byte[] parentInode, ulong ino, ulong index, byte[] name, bool directory = false, ulong size = 0, bool symlink = false)
    {
        byte[] newParent = (byte[])parentInode.Clone();
        var pw = new InodeItemWriter(newParent);
        pw.Size += 2 * (ulong)name.Length;
        if (directory)
        {
            pw.Nlink += 1;
        }

        uint mode = directory ? InodeMode.Directory | 0x1ED : symlink ? InodeMode.Symlink | 0x1FF : InodeMode.Regular | 0x1A4;
        DirEntryType type = directory ? DirEntryType.Directory : symlink ? DirEntryType.Symlink : DirEntryType.RegularFile;
        var ops = new List<ItemOperation>
        {
            ItemOperation.Put(new BtrfsKey(parent, ItemType.InodeItem, 0), newParent),
            ItemOperation.Put(new BtrfsKey(parent, ItemType.DirItem, NameHash.DirItem(name)), DirEntry(ino, type, name)),
            ItemOperation.Put(new BtrfsKey(parent, ItemType.DirIndex, index), DirEntry(ino, type, name)),
            ItemOperation.Put(new BtrfsKey(ino, ItemType.InodeItem, 0), Inode(mode, size, directory ? 1u : 1u)),
            ItemOperation.Put(new BtrfsKey(ino, ItemType.InodeRef, parent), InodeRef(index, name)),
        };
        ops.Sort((a, b) => a.Key.CompareTo(b.Key));
        return ops;
    }
}
