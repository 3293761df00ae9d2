// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Format.Checksums;
using Crfs.Volume.Transactions;

namespace Crfs.Volume.Files;

/// <summary>
/// File-level operations on one subvolume, expressed as the exact item changes the kernel makes:
/// create, mkdir, mknod, symlink, link, unlink, rmdir, rename, setattr, write, truncate,
/// fallocate, xattrs and orphans. Each runs inside a <see cref="WriteTransaction"/>.
/// </summary>
/// <remarks>
/// <para>
/// Every operation checks its preconditions (names, types, emptiness, space) before it changes
/// anything, and returns a <see cref="WriteStatus"/> for the expected failures; a failure after
/// the first change would be a bug and surfaces as an exception, which makes the writer
/// read-only. Invariants kept for <c>btrfs check</c>: each name has DIR_ITEM + DIR_INDEX in the
/// parent and an INODE_REF (INODE_EXTREF when the ref item is full) in the child with the same
/// index; a directory's size is twice the sum of its names' lengths; nlink counts names;
/// <c>nbytes</c> sums inline <c>ram_bytes</c> and the <c>num_bytes</c> of allocated extents;
/// every data extent's references count the EXTENT_DATA items that use it, per
/// (root, inode, key offset − extent offset).
/// </para>
/// <para>
/// Data follows the kernel's rules: a file whose whole content fits in 2048 bytes (and less
/// than a sector) written from offset 0 is stored inline; anything else goes to new regular
/// extents in whole sectors (read-modify-write of partial sectors), splitting the items it
/// overlaps into bookends that keep referencing the old extents. Holes are implicit (NO_HOLES).
/// Bytes past end-of-file inside the last sector are always zero, so growing a file shows zeros.
/// </para>
/// <para>
/// Inode numbers come from a counter initialised to the highest objectid in the tree plus one;
/// DIR_INDEX numbers from a per-directory counter initialised to the highest index plus one.
/// Both live as long as this object, which must be the only writer of its subvolume. Not
/// thread-safe: call it inside the writer's change callbacks.
/// </para>
/// </remarks>
public sealed partial class FileSystemWriter
{
    /// <summary>The kernel's default <c>max_inline</c>.</summary>
    public const int MaxInline = 2048;

    private readonly Dictionary<ulong, ulong> _nextIndex = [];
    private ulong _nextInode;

    public FileSystemWriter(ulong treeId = ObjectIds.FsTree)
    {
        TreeId = treeId;
    }

    public ulong TreeId { get; }

    /// <summary>The time stamped on changes; settable for tests and for replaying client times.</summary>
    public Func<BtrfsTimespec> Clock { get; set; } = VolumeWriterClock.Now;

    // ---- lookups ----

    public bool TryGetInode(WriteTransaction tx, ulong ino, out InodeItem inode)
    {
        if (tx.TryGet(TreeId, new BtrfsKey(ino, ItemType.InodeItem, 0), out byte[] data))
        {
            inode = new InodeItemView(data).ToInodeItem();
            return true;
        }

        inode = default;
        return false;
    }

    /// <summary>Looks <paramref name="name"/> up in directory <paramref name="dir"/>.</summary>
    public bool TryLookup(WriteTransaction tx, ulong dir, ReadOnlySpan<byte> name, out ulong ino, out DirEntryType type)
    {
        if (tx.TryGet(TreeId, new BtrfsKey(dir, ItemType.DirItem, NameHash.DirItem(name)), out byte[] item))
        {
            foreach (DirItemView entry in new DirItemEnumerator(item))
            {
                if (entry.Name.SequenceEqual(name))
                {
                    ino = entry.Location.ObjectId;
                    type = entry.Type;
                    return true;
                }
            }
        }

        ino = 0;
        type = DirEntryType.Unknown;
        return false;
    }

    // ---- namespace ----

    /// <summary>Creates a file, directory, device node, FIFO or socket (by the type bits of the mode).</summary>
    public WriteStatus Create(WriteTransaction tx, ulong parent, ReadOnlySpan<byte> name, NewInode attributes, out ulong ino)
    {
        ino = 0;
        uint type = attributes.Mode & InodeMode.TypeMask;
        if (type is not (InodeMode.Regular or InodeMode.Directory or InodeMode.CharDevice or InodeMode.BlockDevice or InodeMode.Fifo or InodeMode.Socket))
        {
            return WriteStatus.InvalidArgument;
        }

        return MakeInode(tx, parent, name, attributes, [], out ino);
    }

    public WriteStatus Symlink(WriteTransaction tx, ulong parent, ReadOnlySpan<byte> name, ReadOnlySpan<byte> target, NewInode attributes, out ulong ino)
    {
        ino = 0;
        // Symlinks are always inline (not bound by max_inline); btrfs check accepts up to a sector less one byte.
        if (target.Length == 0 || target.Length > Math.Min(tx.SectorSize - 1, TreeBlockGeometry.MaxItemSize(tx.NodeSize) - FileExtentItemLayout.InlineDataStart))
        {
            return target.Length == 0 ? WriteStatus.NoEntry : WriteStatus.NameTooLong;
        }

        return MakeInode(tx, parent, name, attributes with { Mode = InodeMode.Symlink | (attributes.Mode & InodeMode.PermissionMask) }, target, out ino);
    }

    public WriteStatus Link(WriteTransaction tx, ulong ino, ulong newParent, ReadOnlySpan<byte> newName)
    {
        WriteStatus s = CheckNewName(tx, newParent, newName);
        if (s != WriteStatus.Ok)
        {
            return s;
        }

        if (!TryGetInode(tx, ino, out InodeItem inode))
        {
            return WriteStatus.NoEntry;
        }

        if (InodeMode.IsDirectory(inode.Mode))
        {
            return WriteStatus.NotPermitted;
        }

        if (inode.Nlink >= 65535)
        {
            return WriteStatus.TooManyLinks;
        }

        if (!tx.TryReserveMetadata(6))
        {
            return WriteStatus.NoSpace;
        }

        BtrfsTimespec now = Clock();
        ulong index = NextIndex(tx, newParent);
        AddInodeRef(tx, ino, newParent, newName, index);
        AddDirEntry(tx, newParent, newName, ino, InodeMode.ToDirEntryType(inode.Mode), index, now);
        PutInode(tx, ino, inode with { Nlink = inode.Nlink + 1, Ctime = now });
        return WriteStatus.Ok;
    }

    /// <summary>
    /// Removes a non-directory name. When the last name goes and <paramref name="stillOpen"/>, the
    /// inode is kept with an ORPHAN_ITEM until <see cref="ReleaseOrphan"/>; otherwise it is deleted.
    /// </summary>
    public WriteStatus Unlink(WriteTransaction tx, ulong parent, ReadOnlySpan<byte> name, bool stillOpen = false)
    {
        if (!TryLookup(tx, parent, name, out ulong ino, out DirEntryType type))
        {
            return WriteStatus.NoEntry;
        }

        if (type == DirEntryType.Directory)
        {
            return WriteStatus.IsDirectory;
        }

        if (!tx.TryReserveMetadata(6, isRemoval: true))
        {
            return WriteStatus.NoSpace;
        }

        RemoveName(tx, parent, name, ino, Clock());
        DropLink(tx, ino, stillOpen);
        return WriteStatus.Ok;
    }

    public WriteStatus Rmdir(WriteTransaction tx, ulong parent, ReadOnlySpan<byte> name)
    {
        if (!TryLookup(tx, parent, name, out ulong ino, out DirEntryType type))
        {
            return WriteStatus.NoEntry;
        }

        if (type != DirEntryType.Directory)
        {
            return WriteStatus.NotDirectory;
        }

        if (!TryGetInode(tx, ino, out InodeItem dir))
        {
            throw new WriterFaultException($"directory entry in {parent} names inode {ino}, which has no INODE_ITEM");
        }

        if (dir.Size != 0)
        {
            return WriteStatus.NotEmpty;
        }

        if (!tx.TryReserveMetadata(6, isRemoval: true))
        {
            return WriteStatus.NoSpace;
        }

        RemoveName(tx, parent, name, ino, Clock());
        DeleteInode(tx, ino);
        _nextIndex.Remove(ino);
        return WriteStatus.Ok;
    }

    /// <summary>
    /// rename(2): moves a name, replacing an existing target (a file by a file, an empty
    /// directory by a directory). <paramref name="targetStillOpen"/> keeps a replaced file as an
    /// orphan when its last name goes.
    /// </summary>
    public WriteStatus Rename(WriteTransaction tx, ulong oldParent, ReadOnlySpan<byte> oldName, ulong newParent, ReadOnlySpan<byte> newName, bool targetStillOpen = false)
    {
        if (!TryLookup(tx, oldParent, oldName, out ulong ino, out DirEntryType type))
        {
            return WriteStatus.NoEntry;
        }

        WriteStatus s = CheckName(newName);
        if (s != WriteStatus.Ok)
        {
            return s;
        }

        if (!TryGetInode(tx, newParent, out InodeItem np) || !InodeMode.IsDirectory(np.Mode))
        {
            return np.Mode == 0 ? WriteStatus.NoEntry : WriteStatus.NotDirectory;
        }

        bool isDir = type == DirEntryType.Directory;
        if (isDir)
        {
            // A directory may not move below itself.
            for (ulong up = newParent; ; up = ParentOf(tx, up))
            {
                if (up == ino)
                {
                    return WriteStatus.InvalidArgument;
                }

                if (up == ObjectIds.FirstFree || up == 0)
                {
                    break;
                }
            }
        }

        bool hasTarget = TryLookup(tx, newParent, newName, out ulong target, out DirEntryType targetType);
        if (hasTarget)
        {
            if (target == ino)
            {
                return WriteStatus.Ok;
            }

            bool targetDir = targetType == DirEntryType.Directory;
            if (isDir && !targetDir)
            {
                return WriteStatus.NotDirectory;
            }

            if (!isDir && targetDir)
            {
                return WriteStatus.IsDirectory;
            }

            if (targetDir && TryGetInode(tx, target, out InodeItem t) && t.Size != 0)
            {
                return WriteStatus.NotEmpty;
            }
        }

        if (!tx.TryReserveMetadata(12))
        {
            return WriteStatus.NoSpace;
        }

        BtrfsTimespec now = Clock();
        if (hasTarget)
        {
            RemoveName(tx, newParent, newName, target, now);
            if (targetType == DirEntryType.Directory)
            {
                DeleteInode(tx, target);
                _nextIndex.Remove(target);
            }
            else
            {
                DropLink(tx, target, targetStillOpen);
            }
        }

        RemoveName(tx, oldParent, oldName, ino, now);
        ulong index = NextIndex(tx, newParent);
        AddInodeRef(tx, ino, newParent, newName, index);
        AddDirEntry(tx, newParent, newName, ino, type, index, now);
        if (TryGetInode(tx, ino, out InodeItem moved))
        {
            PutInode(tx, ino, moved with { Ctime = now });
        }

        return WriteStatus.Ok;
    }

    public WriteStatus SetAttr(WriteTransaction tx, ulong ino, SetAttributes change)
    {
        if (!TryGetInode(tx, ino, out InodeItem inode))
        {
            return WriteStatus.NoEntry;
        }

        if (change.Size is ulong size && size != inode.Size)
        {
            WriteStatus s = Truncate(tx, ino, size);
            if (s != WriteStatus.Ok)
            {
                return s;
            }

            TryGetInode(tx, ino, out inode);
        }
        else if (!tx.TryReserveMetadata(2))
        {
            return WriteStatus.NoSpace;
        }

        PutInode(tx, ino, inode with
        {
            Mode = change.Mode is uint mode ? (inode.Mode & InodeMode.TypeMask) | (mode & ~InodeMode.TypeMask & InodeMode.ValidMask) : inode.Mode,
            Uid = change.Uid ?? inode.Uid,
            Gid = change.Gid ?? inode.Gid,
            Atime = change.Atime ?? inode.Atime,
            Mtime = change.Mtime ?? inode.Mtime,
            Ctime = change.Ctime ?? Clock(),
        });
        return WriteStatus.Ok;
    }

    // ---- xattrs ----

    public WriteStatus SetXattr(WriteTransaction tx, ulong ino, ReadOnlySpan<byte> name, ReadOnlySpan<byte> value, XattrMode mode = XattrMode.Any)
    {
        if (name.Length == 0 || name.Length > DirItemLayout.MaxNameLength)
        {
            return WriteStatus.OutOfRange;
        }

        if (name.Length + value.Length > TreeBlockGeometry.MaxXattrSize(tx.NodeSize))
        {
            return WriteStatus.TooBig;
        }

        if (!TryGetInode(tx, ino, out InodeItem inode))
        {
            return WriteStatus.NoEntry;
        }

        var key = new BtrfsKey(ino, ItemType.XattrItem, NameHash.DirItem(name));
        List<byte[]> others = XattrEntriesExcept(tx, key, name, out bool existed);
        if (mode == XattrMode.Create && existed)
        {
            return WriteStatus.Exists;
        }

        if (mode == XattrMode.Replace && !existed)
        {
            return WriteStatus.NoData;
        }

        byte[] entry = FsItemPayloads.DirEntry(default, tx.Generation, DirEntryType.Xattr, name, value);
        int total = entry.Length + others.Sum(e => e.Length);
        if (total > TreeBlockGeometry.MaxItemSize(tx.NodeSize))
        {
            return WriteStatus.TooBig;
        }

        if (!tx.TryReserveMetadata(4))
        {
            return WriteStatus.NoSpace;
        }

        others.Add(entry);
        tx.Put(TreeId, key, Concat(others));
        PutInode(tx, ino, inode with { Ctime = Clock() });
        return WriteStatus.Ok;
    }

    public WriteStatus RemoveXattr(WriteTransaction tx, ulong ino, ReadOnlySpan<byte> name)
    {
        if (!TryGetInode(tx, ino, out InodeItem inode))
        {
            return WriteStatus.NoEntry;
        }

        var key = new BtrfsKey(ino, ItemType.XattrItem, NameHash.DirItem(name));
        List<byte[]> others = XattrEntriesExcept(tx, key, name, out bool existed);
        if (!existed)
        {
            return WriteStatus.NoData;
        }

        if (!tx.TryReserveMetadata(4, isRemoval: true))
        {
            return WriteStatus.NoSpace;
        }

        if (others.Count == 0)
        {
            tx.Delete(TreeId, key);
        }
        else
        {
            tx.Update(TreeId, key, Concat(others));
        }

        PutInode(tx, ino, inode with { Ctime = Clock() });
        return WriteStatus.Ok;
    }

    public bool TryGetXattr(WriteTransaction tx, ulong ino, ReadOnlySpan<byte> name, out byte[] value)
    {
        if (tx.TryGet(TreeId, new BtrfsKey(ino, ItemType.XattrItem, NameHash.DirItem(name)), out byte[] item))
        {
            foreach (DirItemView e in new DirItemEnumerator(item))
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

    // ---- orphans ----

    /// <summary>The last close of an unlinked inode: deletes it and its ORPHAN_ITEM.</summary>
    public WriteStatus ReleaseOrphan(WriteTransaction tx, ulong ino)
    {
        if (!TryGetInode(tx, ino, out InodeItem inode))
        {
            return WriteStatus.NoEntry;
        }

        if (inode.Nlink != 0)
        {
            return WriteStatus.InvalidArgument;
        }

        DeleteInode(tx, ino);
        return WriteStatus.Ok;
    }

    /// <summary>Deletes every orphaned inode (what the kernel does at mount); returns how many.</summary>
    public int ReclaimOrphans(WriteTransaction tx)
    {
        var orphans = tx.Scan(TreeId, new BtrfsKey(ObjectIds.Orphan, ItemType.OrphanItem, 0), new BtrfsKey(ObjectIds.Orphan, ItemType.OrphanItem, ulong.MaxValue));
        foreach ((BtrfsKey key, byte[] _) in orphans)
        {
            if (TryGetInode(tx, key.Offset, out InodeItem inode) && inode.Nlink == 0)
            {
                DeleteInode(tx, key.Offset);
            }
            else
            {
                tx.Delete(TreeId, key);
            }
        }

        return orphans.Count;
    }

    // ---- helpers: names ----

    private WriteStatus MakeInode(WriteTransaction tx, ulong parent, ReadOnlySpan<byte> name, NewInode a, ReadOnlySpan<byte> symlinkTarget, out ulong ino)
    {
        ino = 0;
        WriteStatus s = CheckNewName(tx, parent, name);
        if (s != WriteStatus.Ok)
        {
            return s;
        }

        if (!tx.TryReserveMetadata(8))
        {
            return WriteStatus.NoSpace;
        }

        BtrfsTimespec now = Clock();
        ino = NextInode(tx);
        ulong index = NextIndex(tx, parent);
        ulong size = (ulong)symlinkTarget.Length;
        var inode = new InodeItem(tx.Generation, tx.Generation, size, size, 0, 1, a.Uid, a.Gid, a.Mode,
            a.Rdev, InodeFlags.None, 0, a.Atime ?? now, a.Ctime ?? now, a.Mtime ?? now, a.Otime ?? now);
        tx.Insert(TreeId, new BtrfsKey(ino, ItemType.InodeItem, 0), FsItemPayloads.Inode(inode));
        AddInodeRef(tx, ino, parent, name, index);
        if (symlinkTarget.Length > 0)
        {
            tx.Insert(TreeId, new BtrfsKey(ino, ItemType.ExtentData, 0), FsItemPayloads.InlineExtent(tx.Generation, symlinkTarget));
        }

        AddDirEntry(tx, parent, name, ino, InodeMode.ToDirEntryType(a.Mode), index, now);
        if (InodeMode.IsDirectory(a.Mode))
        {
            _nextIndex[ino] = 2;
        }

        return WriteStatus.Ok;
    }

    private static WriteStatus CheckName(ReadOnlySpan<byte> name)
    {
        if (name.Length == 0)
        {
            return WriteStatus.NoEntry;
        }

        if (name.Length > DirItemLayout.MaxNameLength)
        {
            return WriteStatus.NameTooLong;
        }

        if (name.IndexOf((byte)'/') >= 0 || name.IndexOf((byte)0) >= 0 || name.SequenceEqual("."u8) || name.SequenceEqual(".."u8))
        {
            return WriteStatus.InvalidArgument;
        }

        return WriteStatus.Ok;
    }

    private WriteStatus CheckNewName(WriteTransaction tx, ulong parent, ReadOnlySpan<byte> name)
    {
        WriteStatus s = CheckName(name);
        if (s != WriteStatus.Ok)
        {
            return s;
        }

        if (!TryGetInode(tx, parent, out InodeItem dir))
        {
            return WriteStatus.NoEntry;
        }

        if (!InodeMode.IsDirectory(dir.Mode))
        {
            return WriteStatus.NotDirectory;
        }

        return TryLookup(tx, parent, name, out _, out _) ? WriteStatus.Exists : WriteStatus.Ok;
    }

    private ulong NextInode(WriteTransaction tx)
    {
        if (_nextInode == 0)
        {
            _nextInode = ObjectIds.FirstFree + 1;
            if (tx.TryFindLast(TreeId, new BtrfsKey(ObjectIds.LastFree, (ItemType)255, ulong.MaxValue), out BtrfsKey last, out _) && last.ObjectId >= ObjectIds.FirstFree)
            {
                _nextInode = last.ObjectId + 1;
            }
        }

        return _nextInode++;
    }

    private ulong NextIndex(WriteTransaction tx, ulong dir)
    {
        if (!_nextIndex.TryGetValue(dir, out ulong next))
        {
            next = 2;
            if (tx.TryFindLast(TreeId, new BtrfsKey(dir, ItemType.DirIndex, ulong.MaxValue), out BtrfsKey last, out _)
                && last.ObjectId == dir && last.Type == ItemType.DirIndex)
            {
                next = Math.Max(2, last.Offset + 1);
            }
        }

        _nextIndex[dir] = next + 1;
        return next;
    }

    private ulong ParentOf(WriteTransaction tx, ulong dir)
    {
        if (tx.TryFindFirst(TreeId, new BtrfsKey(dir, ItemType.InodeRef, 0), out BtrfsKey key, out _) && key.ObjectId == dir && key.Type == ItemType.InodeRef)
        {
            return key.Offset;
        }

        return 0;
    }

    private void AddDirEntry(WriteTransaction tx, ulong dir, ReadOnlySpan<byte> name, ulong ino, DirEntryType type, ulong index, BtrfsTimespec now)
    {
        var location = new BtrfsKey(ino, ItemType.InodeItem, 0);
        byte[] entry = FsItemPayloads.DirEntry(location, tx.Generation, type, name, []);
        var itemKey = new BtrfsKey(dir, ItemType.DirItem, NameHash.DirItem(name));
        if (tx.TryGet(TreeId, itemKey, out byte[] existing))
        {
            tx.Update(TreeId, itemKey, FsItems.Concat(existing, entry));
        }
        else
        {
            tx.Insert(TreeId, itemKey, entry);
        }

        tx.Insert(TreeId, new BtrfsKey(dir, ItemType.DirIndex, index), entry);
        if (!TryGetInode(tx, dir, out InodeItem d))
        {
            throw new WriterFaultException($"directory {dir} has no INODE_ITEM");
        }

        PutInode(tx, dir, d with { Size = d.Size + (2 * (ulong)name.Length), Mtime = now, Ctime = now });
    }

    // Removes the name's DIR_ITEM entry, DIR_INDEX and the child's ref; updates the parent.
    private void RemoveName(WriteTransaction tx, ulong dir, ReadOnlySpan<byte> name, ulong ino, BtrfsTimespec now)
    {
        ulong index = RemoveInodeRef(tx, ino, dir, name);
        var itemKey = new BtrfsKey(dir, ItemType.DirItem, NameHash.DirItem(name));
        if (!tx.TryGet(TreeId, itemKey, out byte[] item))
        {
            throw new WriterFaultException($"directory {dir} has no DIR_ITEM {itemKey}");
        }

        List<byte[]> keep = EntriesExcept(tx, TreeId, itemKey, name, out _);

        if (keep.Count == 0)
        {
            tx.Delete(TreeId, itemKey);
        }
        else
        {
            tx.Update(TreeId, itemKey, Concat(keep));
        }

        if (!tx.Delete(TreeId, new BtrfsKey(dir, ItemType.DirIndex, index)))
        {
            throw new WriterFaultException($"directory {dir} has no DIR_INDEX {index} for inode {ino}");
        }

        if (!TryGetInode(tx, dir, out InodeItem d))
        {
            throw new WriterFaultException($"directory {dir} has no INODE_ITEM");
        }

        PutInode(tx, dir, d with { Size = d.Size - (2 * (ulong)name.Length), Mtime = now, Ctime = now });
    }

    private void AddInodeRef(WriteTransaction tx, ulong ino, ulong parent, ReadOnlySpan<byte> name, ulong index)
    {
        byte[] entry = FsItemPayloads.InodeRefEntry(index, name);
        var refKey = new BtrfsKey(ino, ItemType.InodeRef, parent);
        if (!tx.TryGet(TreeId, refKey, out byte[] existing))
        {
            tx.Insert(TreeId, refKey, entry);
            return;
        }

        if (existing.Length + entry.Length <= TreeBlockGeometry.MaxItemSize(tx.NodeSize))
        {
            tx.Update(TreeId, refKey, FsItems.Concat(existing, entry));
            return;
        }

        byte[] ext = FsItemPayloads.InodeExtrefEntry(parent, index, name);
        var extKey = new BtrfsKey(ino, ItemType.InodeExtref, NameHash.InodeExtref(parent, name));
        if (tx.TryGet(TreeId, extKey, out byte[] extExisting))
        {
            tx.Update(TreeId, extKey, FsItems.Concat(extExisting, ext));
        }
        else
        {
            tx.Insert(TreeId, extKey, ext);
        }
    }

    // Removes one name from the inode's refs; returns its DIR_INDEX index.
    private ulong RemoveInodeRef(WriteTransaction tx, ulong ino, ulong parent, ReadOnlySpan<byte> name)
    {
        var refKey = new BtrfsKey(ino, ItemType.InodeRef, parent);
        if (tx.TryGet(TreeId, refKey, out byte[] item))
        {
            int offset = 0;
            foreach (InodeRefView r in new InodeRefEnumerator(item))
            {
                if (r.Name.SequenceEqual(name))
                {
                    ulong index = r.Index;
                    byte[] rest = [.. item.AsSpan(0, offset), .. item.AsSpan(offset + r.EntrySize)];
                    if (rest.Length == 0)
                    {
                        tx.Delete(TreeId, refKey);
                    }
                    else
                    {
                        tx.Update(TreeId, refKey, rest);
                    }

                    return index;
                }

                offset += r.EntrySize;
            }
        }

        var extKey = new BtrfsKey(ino, ItemType.InodeExtref, NameHash.InodeExtref(parent, name));
        if (tx.TryGet(TreeId, extKey, out byte[] ext))
        {
            int offset = 0;
            foreach (InodeExtrefView r in new InodeExtrefEnumerator(ext))
            {
                if (r.ParentObjectId == parent && r.Name.SequenceEqual(name))
                {
                    ulong index = r.Index;
                    byte[] rest = [.. ext.AsSpan(0, offset), .. ext.AsSpan(offset + r.EntrySize)];
                    if (rest.Length == 0)
                    {
                        tx.Delete(TreeId, extKey);
                    }
                    else
                    {
                        tx.Update(TreeId, extKey, rest);
                    }

                    return index;
                }

                offset += r.EntrySize;
            }
        }

        throw new WriterFaultException($"inode {ino} has no reference named in directory {parent}");
    }

    private void DropLink(WriteTransaction tx, ulong ino, bool stillOpen)
    {
        if (!TryGetInode(tx, ino, out InodeItem inode))
        {
            throw new WriterFaultException($"inode {ino} lost its INODE_ITEM");
        }

        if (inode.Nlink > 1)
        {
            PutInode(tx, ino, inode with { Nlink = inode.Nlink - 1, Ctime = Clock() });
        }
        else if (stillOpen)
        {
            PutInode(tx, ino, inode with { Nlink = 0, Ctime = Clock() });
            tx.Put(TreeId, new BtrfsKey(ObjectIds.Orphan, ItemType.OrphanItem, ino), []);
        }
        else
        {
            DeleteInode(tx, ino);
        }
    }

    private void DeleteInode(WriteTransaction tx, ulong ino)
    {
        DropExtents(tx, ino, 0, ulong.MaxValue);
        tx.DeleteRange(TreeId, new BtrfsKey(ino, 0, 0), new BtrfsKey(ino, (ItemType)255, ulong.MaxValue));
        tx.Delete(TreeId, new BtrfsKey(ObjectIds.Orphan, ItemType.OrphanItem, ino));
    }

    private void PutInode(WriteTransaction tx, ulong ino, InodeItem inode) =>
        tx.Update(TreeId, new BtrfsKey(ino, ItemType.InodeItem, 0), FsItemPayloads.Inode(inode with { Transid = tx.Generation, Sequence = inode.Sequence + 1 }));

    private static List<byte[]> EntriesExcept(WriteTransaction tx, ulong treeId, BtrfsKey key, ReadOnlySpan<byte> name, out bool existed)
    {
        existed = false;
        var others = new List<byte[]>();
        if (tx.TryGet(treeId, key, out byte[] item))
        {
            int offset = 0;
            foreach (DirItemView e in new DirItemEnumerator(item))
            {
                if (e.Name.SequenceEqual(name))
                {
                    existed = true;
                }
                else
                {
                    others.Add(item.AsSpan(offset, e.EntrySize).ToArray());
                }

                offset += e.EntrySize;
            }
        }

        return others;
    }

    private List<byte[]> XattrEntriesExcept(WriteTransaction tx, BtrfsKey key, ReadOnlySpan<byte> name, out bool existed) =>
        EntriesExcept(tx, TreeId, key, name, out existed);

    private static byte[] Concat(List<byte[]> parts)
    {
        byte[] all = new byte[parts.Sum(p => p.Length)];
        int at = 0;
        foreach (byte[] p in parts)
        {
            p.CopyTo(all, at);
            at += p.Length;
        }

        return all;
    }

    private static int MaxInlineFor(WriteTransaction tx) => Math.Min(MaxInline, tx.SectorSize - 1);
}

/// <summary>The wall clock as a btrfs timespec.</summary>
public static class VolumeWriterClock
{
    public static BtrfsTimespec Now()
    {
        long ticks = DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks;
        return new BtrfsTimespec(ticks / TimeSpan.TicksPerSecond, (uint)(ticks % TimeSpan.TicksPerSecond * 100));
    }
}
