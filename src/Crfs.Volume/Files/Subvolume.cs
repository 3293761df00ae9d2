// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Format.Checksums;
using Crfs.Volume.Trees;

namespace Crfs.Volume.Files;

/// <summary>
/// Read access to the files of one subvolume (one fs tree) in btrfs terms: inodes, directory
/// entries, names, xattrs, symlinks and file data. A file's identity is (subvolume, inode
/// number); inode numbers repeat across subvolumes.
/// </summary>
/// <remarks>
/// <para>
/// Every question is answered from the fs tree's items as the kernel would answer it: lookups
/// hash the name to the DIR_ITEM key and compare the names of all entries in it (hash
/// collisions share an item); readdir walks DIR_INDEX in index order; an inode's names are its
/// INODE_REF entries plus INODE_EXTREF entries for hard links that overflowed the ref item.
/// A directory entry whose location is a ROOT_ITEM names another subvolume; see
/// <see cref="EnterSubvolume"/>.
/// </para>
/// <para>
/// File data (<see cref="TryRead"/>, <see cref="ReadRange"/>) handles inline, regular, prealloc and
/// compressed extents and both kinds of hole, and verifies every sector it reads from disk against
/// the checksum tree, falling back to the other copies of mirrored data. This class is stateless
/// apart from its tree and is safe for concurrent use; each call uses its own cursors.
/// </para>
/// </remarks>
public sealed partial class Subvolume
{
    public Subvolume(BtrfsVolume volume, BtrfsTree tree, ulong rootDirectory = ObjectIds.FirstFree)
    {
        Volume = volume;
        Tree = tree;
        RootDirectory = rootDirectory;
    }

    public BtrfsVolume Volume { get; }

    public BtrfsTree Tree { get; }

    /// <summary>The subvolume (tree) id.</summary>
    public ulong Id => Tree.TreeId;

    /// <summary>The inode number of the subvolume's root directory (256).</summary>
    public ulong RootDirectory { get; }

    public bool TryGetInode(ulong ino, out InodeItem inode)
    {
        if (Tree.TryGetItem(new BtrfsKey(ino, ItemType.InodeItem, 0), out TreeItem item))
        {
            inode = new InodeItemView(item.Data).ToInodeItem();
            return true;
        }

        inode = default;
        return false;
    }

    /// <summary>Finds <paramref name="name"/> in directory <paramref name="dir"/> through its DIR_ITEM.</summary>
    public bool TryLookup(ulong dir, ReadOnlySpan<byte> name, out DirEntry entry)
    {
        var key = new BtrfsKey(dir, ItemType.DirItem, NameHash.DirItem(name));
        if (Tree.TryGetItem(key, out TreeItem item))
        {
            foreach (DirItemView e in new DirItemEnumerator(item.Data))
            {
                if (e.Name.SequenceEqual(name))
                {
                    entry = new DirEntry(e.Name.ToArray(), e.Location, e.Type, 0);
                    return true;
                }
            }
        }

        entry = default;
        return false;
    }

    /// <summary>
    /// The entries of directory <paramref name="dir"/> in DIR_INDEX order, starting after index
    /// <paramref name="afterIndex"/> (0 = from the start; "." and ".." are not stored).
    /// </summary>
    public IEnumerable<DirEntry> ReadDirectory(ulong dir, ulong afterIndex = 0)
    {
        TreeCursor cursor = Tree.OpenCursor();
        bool ok = cursor.Seek(new BtrfsKey(dir, ItemType.DirIndex, afterIndex + 1));
        while (ok)
        {
            BtrfsKey key = cursor.Key;
            if (key.ObjectId != dir || key.Type != ItemType.DirIndex)
            {
                yield break;
            }

            DirEntry entry = DecodeIndexEntry(key, cursor.Data);
            yield return entry;
            ok = cursor.MoveNext();
        }
    }

    /// <summary>Every name of inode <paramref name="ino"/>: INODE_REF entries, then INODE_EXTREF entries.</summary>
    public IReadOnlyList<InodeName> GetNames(ulong ino)
    {
        var names = new List<InodeName>();
        TreeCursor cursor = Tree.OpenCursor();
        for (bool ok = cursor.Seek(new BtrfsKey(ino, ItemType.InodeRef, 0)); ok; ok = cursor.MoveNext())
        {
            BtrfsKey key = cursor.Key;
            if (key.ObjectId != ino || key.Type > ItemType.InodeExtref)
            {
                break;
            }

            if (key.Type == ItemType.InodeRef)
            {
                foreach (InodeRefView r in new InodeRefEnumerator(cursor.Data))
                {
                    names.Add(new InodeName(key.Offset, r.Index, r.Name.ToArray()));
                }
            }
            else
            {
                foreach (InodeExtrefView r in new InodeExtrefEnumerator(cursor.Data))
                {
                    names.Add(new InodeName(r.ParentObjectId, r.Index, r.Name.ToArray()));
                }
            }
        }

        return names;
    }

    public IReadOnlyList<Xattr> ListXattrs(ulong ino)
    {
        var xattrs = new List<Xattr>();
        TreeCursor cursor = Tree.OpenCursor();
        for (bool ok = cursor.Seek(new BtrfsKey(ino, ItemType.XattrItem, 0)); ok; ok = cursor.MoveNext())
        {
            BtrfsKey key = cursor.Key;
            if (key.ObjectId != ino || key.Type != ItemType.XattrItem)
            {
                break;
            }

            AddXattrs(cursor.Data, xattrs);
        }

        return xattrs;
    }

    public bool TryGetXattr(ulong ino, ReadOnlySpan<byte> name, out byte[] value)
    {
        if (Tree.TryGetItem(new BtrfsKey(ino, ItemType.XattrItem, NameHash.DirItem(name)), out TreeItem item))
        {
            foreach (DirItemView e in new DirItemEnumerator(item.Data))
            {
                if (e.Name.SequenceEqual(name))
                {
                    value = e.Data.ToArray();
                    return true;
                }
            }
        }

        value = [];
        return false;
    }

    /// <summary>
    /// The target of symlink <paramref name="ino"/>: the first i_size bytes of its data (mkfs 6.2
    /// stores a trailing NUL that i_size excludes). Null when the inode does not exist.
    /// </summary>
    public byte[]? ReadLink(ulong ino)
    {
        if (!TryGetInode(ino, out InodeItem inode))
        {
            return null;
        }

        byte[] target = new byte[(int)Math.Min(inode.Size, 65536)];
        TryRead(ino, 0, target, out int n);
        return n == target.Length ? target : target[..n];
    }

    /// <summary>
    /// Reads the INODE_ITEM, the xattrs (when <paramref name="includeXattrs"/>) and all file extents
    /// of <paramref name="ino"/> in one pass over its keys. Null when the inode does not exist.
    /// </summary>
    public InodeSnapshot? LoadInode(ulong ino, bool includeXattrs = true)
    {
        TreeCursor cursor = Tree.OpenCursor();
        if (!cursor.Seek(new BtrfsKey(ino, ItemType.InodeItem, 0)) || cursor.Key != new BtrfsKey(ino, ItemType.InodeItem, 0))
        {
            return null;
        }

        InodeItem item = new InodeItemView(cursor.Data).ToInodeItem();
        var xattrs = new List<Xattr>();
        var extents = new List<FileExtent>();
        while (cursor.MoveNext())
        {
            BtrfsKey key = cursor.Key;
            if (key.ObjectId != ino)
            {
                break;
            }

            if (key.Type == ItemType.XattrItem && includeXattrs)
            {
                AddXattrs(cursor.Data, xattrs);
            }
            else if (key.Type == ItemType.ExtentData)
            {
                extents.Add(FileExtent.FromItem(key.Offset, cursor.Data));
            }
        }

        return new InodeSnapshot(ino, item, xattrs, extents);
    }

    /// <summary>
    /// Follows a directory entry that names a subvolume. Returns the subvolume, or null when the
    /// kernel would show an empty placeholder directory instead (inode 2): the entry is a stale copy
    /// in a snapshot (no ROOT_REF from this subvolume names it), or the subvolume is gone.
    /// </summary>
    public Subvolume? EnterSubvolume(ulong dir, in DirEntry entry)
    {
        if (!entry.IsSubvolume)
        {
            throw new ArgumentException($"entry {System.Text.Encoding.UTF8.GetString(entry.Name)} is not a subvolume", nameof(entry));
        }

        ulong child = entry.Location.ObjectId;
        if (!Volume.RootTree.TryGetItem(new BtrfsKey(Id, ItemType.RootRef, child), out TreeItem item))
        {
            return null;
        }

        var rootRef = new RootRefView(item.Data);
        if (rootRef.DirId != dir || !rootRef.Name.SequenceEqual(entry.Name))
        {
            return null;
        }

        return Volume.FindSubvolume(child);
    }

    public override string ToString() => $"subvolume {Id}";

    private static DirEntry DecodeIndexEntry(BtrfsKey key, ReadOnlySpan<byte> data)
    {
        var e = new DirItemView(data);
        return new DirEntry(e.Name.ToArray(), e.Location, e.Type, key.Offset);
    }

    private static void AddXattrs(ReadOnlySpan<byte> item, List<Xattr> into)
    {
        foreach (DirItemView e in new DirItemEnumerator(item))
        {
            into.Add(new Xattr(e.Name.ToArray(), e.Data.ToArray()));
        }
    }
}
