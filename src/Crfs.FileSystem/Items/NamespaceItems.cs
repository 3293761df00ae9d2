// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;

namespace Crfs.FileSystem.Items;

/// <summary>
/// The item changes of namespace operations, exactly as the kernel makes them and
/// <c>btrfs check</c> expects them, over an <see cref="FsOperation"/>. This is the client's twin of
/// the server's <c>FileSystemWriter</c>, rule for rule:
/// <list type="bullet">
/// <item>each name is a DIR_ITEM entry (key: name hash; colliding names share one item) plus a
/// DIR_INDEX item (key: a per-directory index, increasing from 2) in the parent, and an INODE_REF
/// entry (key: parent) in the child, with the same index; when the ref item would outgrow a leaf the
/// name goes to an INODE_EXTREF (key: hash of parent and name);</item>
/// <item>a directory's size is twice the sum of its names' lengths; adding or removing a name sets
/// the parent's mtime and ctime; nlink counts names (a directory's is always 1);</item>
/// <item>every INODE_ITEM rewrite bumps <c>sequence</c>; the last name of an inode still open becomes an
/// ORPHAN_ITEM instead of a deletion.</item>
/// </list>
/// <c>generation</c> and <c>transid</c> fields are written as 0: only the server knows the btrfs
/// transaction a COMMIT lands in, and it stamps them when it applies the batch. Both sides could run
/// this one class if <see cref="FsOperation"/> became an interface the server's write transaction
/// implements too.
/// </summary>
public sealed class NamespaceItems(FsOperation op, int maxItemSize)
{
    /// <summary>Where a new directory's DIR_INDEX numbering starts (0 and 1 are "." and "..").</summary>
    public const ulong FirstIndex = 2;

    public FsOperation Operation => op;

    public async ValueTask<InodeItem?> GetInodeAsync(ulong ino)
    {
        byte[]? value = await op.GetAsync(FsItemCodec.InodeKey(ino));
        return value is null ? null : FsItemCodec.ReadInode(ino, value);
    }

    public void PutInode(ulong ino, InodeItem inode) =>
        op.Put(FsItemCodec.InodeKey(ino), FsItemPayloads.Inode(inode with { Transid = 0, Sequence = inode.Sequence + 1 }));

    /// <summary>A new INODE_ITEM (sequence starts at 0, as the kernel's does).</summary>
    public void InsertInode(ulong ino, InodeItem inode) => op.Put(FsItemCodec.InodeKey(ino), FsItemPayloads.Inode(inode));

    public async ValueTask<(bool Found, BtrfsKey Location, DirEntryType Type)> LookupAsync(ulong dir, byte[] name)
    {
        byte[]? item = await op.GetAsync(FsItemCodec.DirItemKey(dir, name));
        bool found = FsItemCodec.TryFindEntry(item, name, out BtrfsKey location, out DirEntryType type, out _);
        return (found, location, type);
    }

    public async ValueTask<ulong> NextIndexAsync(ulong dir)
    {
        BtrfsKey? last = await op.LastKeyAsync(new BtrfsKey(dir, ItemType.DirIndex, 0), new BtrfsKey(dir, ItemType.DirIndex, ulong.MaxValue));
        return last is BtrfsKey k ? Math.Max(FirstIndex, k.Offset + 1) : FirstIndex;
    }

    /// <summary>DIR_ITEM entry, DIR_INDEX and the parent's size and times for a new name (the child's ref is separate).</summary>
    public async ValueTask AddDirEntryAsync(ulong dir, byte[] name, ulong ino, DirEntryType type, ulong index, BtrfsTimespec now)
    {
        byte[] entry = FsItemPayloads.DirEntry(FsItemCodec.InodeKey(ino), 0, type, name, []);
        BtrfsKey itemKey = FsItemCodec.DirItemKey(dir, name);
        byte[]? existing = await op.GetAsync(itemKey);
        op.Put(itemKey, FsItemCodec.Concat(existing, entry));
        op.Put(FsItemCodec.DirIndexKey(dir, index), entry);
        InodeItem d = await GetInodeAsync(dir) ?? throw new InvalidDataException($"directory {dir} has no INODE_ITEM");
        PutInode(dir, d with { Size = d.Size + (2 * (ulong)name.Length), Mtime = now, Ctime = now });
    }

    /// <summary>Removes a name: the child's ref, the DIR_ITEM entry, the DIR_INDEX, and updates the parent.</summary>
    public async ValueTask RemoveNameAsync(ulong dir, byte[] name, ulong ino, BtrfsTimespec now)
    {
        ulong index = await RemoveInodeRefAsync(ino, dir, name);
        BtrfsKey itemKey = FsItemCodec.DirItemKey(dir, name);
        byte[] item = await op.GetAsync(itemKey) ?? throw new InvalidDataException($"directory {dir} has no DIR_ITEM {itemKey}");
        byte[] rest = FsItemCodec.WithoutEntry(item, name, out _);
        if (rest.Length == 0)
        {
            op.Delete(itemKey);
        }
        else
        {
            op.Put(itemKey, rest);
        }

        op.Delete(FsItemCodec.DirIndexKey(dir, index));
        InodeItem d = await GetInodeAsync(dir) ?? throw new InvalidDataException($"directory {dir} has no INODE_ITEM");
        PutInode(dir, d with { Size = d.Size - (2 * (ulong)name.Length), Mtime = now, Ctime = now });
    }

    public async ValueTask AddInodeRefAsync(ulong ino, ulong parent, byte[] name, ulong index)
    {
        byte[] entry = FsItemPayloads.InodeRefEntry(index, name);
        BtrfsKey refKey = FsItemCodec.InodeRefKey(ino, parent);
        byte[]? existing = await op.GetAsync(refKey);
        if (existing is null || existing.Length + entry.Length <= maxItemSize)
        {
            op.Put(refKey, FsItemCodec.Concat(existing, entry));
            return;
        }

        byte[] ext = FsItemPayloads.InodeExtrefEntry(parent, index, name);
        BtrfsKey extKey = FsItemCodec.InodeExtrefKey(ino, parent, name);
        op.Put(extKey, FsItemCodec.Concat(await op.GetAsync(extKey), ext));
    }

    /// <summary>Removes one name from the inode's refs; returns its DIR_INDEX index.</summary>
    public async ValueTask<ulong> RemoveInodeRefAsync(ulong ino, ulong parent, byte[] name)
    {
        BtrfsKey refKey = FsItemCodec.InodeRefKey(ino, parent);
        if (await op.GetAsync(refKey) is byte[] item)
        {
            int offset = 0;
            foreach (InodeRefView r in new InodeRefEnumerator(item))
            {
                if (r.Name.SequenceEqual(name))
                {
                    ulong index = r.Index;
                    byte[] rest = [.. item.AsSpan(0, offset), .. item.AsSpan(offset + r.EntrySize)];
                    Replace(refKey, rest);
                    return index;
                }

                offset += r.EntrySize;
            }
        }

        BtrfsKey extKey = FsItemCodec.InodeExtrefKey(ino, parent, name);
        if (await op.GetAsync(extKey) is byte[] ext)
        {
            int offset = 0;
            foreach (InodeExtrefView r in new InodeExtrefEnumerator(ext))
            {
                if (r.ParentObjectId == parent && r.Name.SequenceEqual(name))
                {
                    ulong index = r.Index;
                    byte[] rest = [.. ext.AsSpan(0, offset), .. ext.AsSpan(offset + r.EntrySize)];
                    Replace(extKey, rest);
                    return index;
                }

                offset += r.EntrySize;
            }
        }

        throw new InvalidDataException($"inode {ino} has no reference named '{System.Text.Encoding.UTF8.GetString(name)}' in directory {parent}");
    }

    /// <summary>
    /// One name of <paramref name="ino"/> is gone: lower nlink, or at the last name keep the inode as an
    /// orphan while anyone uses it (open here, <paramref name="stillOpen"/>, or in use on another client,
    /// which the server is asked about) or delete its items. Asking costs a round trip per last unlink
    /// of a file not open here; it is what lets a file open on another client outlive its name.
    /// </summary>
    public async ValueTask DropLinkAsync(ulong ino, bool stillOpen, BtrfsTimespec now)
    {
        InodeItem inode = await GetInodeAsync(ino) ?? throw new InvalidDataException($"inode {ino} lost its INODE_ITEM");
        if (inode.Nlink > 1)
        {
            PutInode(ino, inode with { Nlink = inode.Nlink - 1, Ctime = now });
        }
        else if (stillOpen || await op.Session.IsInUseElsewhereAsync(op.TreeId, ino))
        {
            PutInode(ino, inode with { Nlink = 0, Ctime = now });
            op.Put(FsItemCodec.OrphanKey(ino), []);
        }
        else
        {
            DeleteInode(ino, orphaned: false);
        }
    }

    /// <summary>Deletes every item of the inode (the server frees the extents its EXTENT_DATA items referenced) and its orphan item.</summary>
    public void DeleteInode(ulong ino, bool orphaned)
    {
        op.DeleteRange(new BtrfsKey(ino, 0, 0), new BtrfsKey(ino, (ItemType)byte.MaxValue, ulong.MaxValue));
        if (orphaned)
        {
            op.Delete(FsItemCodec.OrphanKey(ino));
        }
    }

    /// <summary>The parent of a directory (its INODE_REF's key offset; the root's names itself), or 0.</summary>
    public async ValueTask<ulong> ParentOfAsync(ulong dir)
    {
        foreach (KeyValuePair<BtrfsKey, byte[]> kv in await op.RangeAsync(new BtrfsKey(dir, ItemType.InodeRef, 0), new BtrfsKey(dir, ItemType.InodeRef, ulong.MaxValue)))
        {
            return kv.Key.Offset;
        }

        return 0;
    }

    private void Replace(BtrfsKey key, byte[] rest)
    {
        if (rest.Length == 0)
        {
            op.Delete(key);
        }
        else
        {
            op.Put(key, rest);
        }
    }
}
