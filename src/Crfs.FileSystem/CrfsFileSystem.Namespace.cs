// SPDX-License-Identifier: MIT
using Crfs.Client.Coherence;
using Crfs.FileSystem.Items;
using Crfs.Format.Btrfs;
using Crfs.Posix;
using Crfs.Protocol;
using Crfs.Protocol.Messages;

namespace Crfs.FileSystem;

public sealed partial class CrfsFileSystem
{
    public ValueTask<FsResult<InodeAttributes>> LookupAsync(Caller caller, ulong parent, byte[] name, CancellationToken cancellationToken = default) =>
        RunAsync<InodeAttributes>(false, [parent], async items =>
        {
            InodeItem? dir = await items.GetInodeAsync(parent);
            if (dir is not InodeItem d)
            {
                return Errno.ENOENT;
            }

            if (!InodeMode.IsDirectory(d.Mode))
            {
                return Errno.ENOTDIR;
            }

            if (!MayAccess(caller, d, 1))
            {
                return Errno.EACCES;
            }

            if (name.Length > DirItemLayout.MaxNameLength)
            {
                return Errno.ENAMETOOLONG;
            }

            ulong target;
            if (name.AsSpan().SequenceEqual("."u8))
            {
                target = parent;
            }
            else if (name.AsSpan().SequenceEqual(".."u8))
            {
                target = parent == RootIno ? parent : await items.ParentOfAsync(parent);
            }
            else
            {
                (bool found, BtrfsKey location, _) = await items.LookupAsync(parent, name);
                if (!found)
                {
                    return Errno.ENOENT;
                }

                if (location.Type != ItemType.InodeItem)
                {
                    // A subvolume entry: another tree, which this file system does not cross.
                    return Errno.EXDEV;
                }

                target = location.ObjectId;
            }

            InodeItem? child = await items.GetInodeAsync(target);
            return child is InodeItem c ? FsResult<InodeAttributes>.Ok(ToAttributes(target, c)) : Errno.ENOENT;
        }, cancellationToken);

    public ValueTask<FsResult<InodeAttributes>> GetAttrAsync(ulong ino, CancellationToken cancellationToken = default) =>
        RunAsync<InodeAttributes>(false, [ino], async items =>
            await items.GetInodeAsync(ino) is InodeItem inode ? FsResult<InodeAttributes>.Ok(ToAttributes(ino, inode)) : Errno.ENOENT,
            cancellationToken);

    /// <summary>
    /// access(2): <paramref name="mask"/> is F_OK (0) or any of R_OK (4), W_OK (2), X_OK (1), checked
    /// with the same rules as open and exec. The kernel forwards the caller's real ids for access(2).
    /// </summary>
    public ValueTask<Errno> AccessAsync(Caller caller, ulong ino, uint mask, CancellationToken cancellationToken = default) =>
        RunErrnoAsync(RunAsync<bool>(false, [ino], async items =>
        {
            if (await items.GetInodeAsync(ino) is not InodeItem inode || inode.Nlink == 0)
            {
                return Errno.ENOENT;
            }

            return MayAccess(caller, inode, mask & 7) ? FsResult<bool>.Ok(true) : Errno.EACCES;
        }, cancellationToken));

    public ValueTask<FsResult<InodeAttributes>> SetAttrAsync(Caller caller, ulong ino, SetAttributes change, CancellationToken cancellationToken = default) =>
        RunAsync<InodeAttributes>(true, [ino], async items =>
        {
            if (await items.GetInodeAsync(ino) is not InodeItem inode)
            {
                return Errno.ENOENT;
            }

            bool owner = caller.IsRoot || caller.Uid == inode.Uid;
            BtrfsTimespec now = Now();
            InodeItem updated = inode;
            if (change.Mode is uint mode)
            {
                uint bits = mode & ModeBits.ChmodMask;
                if (!owner)
                {
                    // Without HANDLE_KILLPRIV the kernel clears set-id bits before a write or truncate
                    // by sending this chmod with the writer's ids. A change that only drops S_ISUID and
                    // S_ISGID removes privilege, so anyone who may write the file may make it.
                    if (!DropsOnlySetId(inode.Mode & ModeBits.ChmodMask, bits) || !MayAccess(caller, inode, 2))
                    {
                        return Errno.EPERM;
                    }
                }
                else if (!caller.IsRoot && !caller.InGroup(inode.Gid))
                {
                    bits &= ~ModeBits.SetGid;
                }

                updated = updated with { Mode = (inode.Mode & InodeMode.TypeMask) | bits };
            }

            if (change.Uid is uint uid && uid != inode.Uid && !caller.IsRoot)
            {
                return Errno.EPERM;
            }

            if (change.Gid is uint gid && gid != inode.Gid && !(caller.IsRoot || (caller.Uid == inode.Uid && caller.InGroup(gid))))
            {
                return Errno.EPERM;
            }

            if (change.Uid is not null || change.Gid is not null)
            {
                updated = updated with { Uid = change.Uid ?? updated.Uid, Gid = change.Gid ?? updated.Gid };
                if (!InodeMode.IsDirectory(inode.Mode))
                {
                    // chown(2) clears set-user-id, and set-group-id when it marks an executable.
                    updated = updated with { Mode = KillSetId(updated.Mode) };
                }
            }

            if (change.Size is ulong size)
            {
                if (InodeMode.IsDirectory(inode.Mode))
                {
                    return Errno.EISDIR;
                }

                if (!InodeMode.IsRegular(inode.Mode))
                {
                    return Errno.EINVAL;
                }

                if (!MayAccess(caller, inode, 2))
                {
                    return Errno.EACCES;
                }

                // Growing leaves a hole: the bytes allocated stay what they were.
                items.Operation.Data(DataOperation.Truncate(ino, size));
                updated = updated with { Size = size, Nbytes = Math.Min(inode.Nbytes, EstimateNbytes(size)), Mtime = now };
                if (!caller.IsRoot)
                {
                    updated = updated with { Mode = KillSetId(updated.Mode) };
                }
            }

            if (change.Atime is not null || change.Mtime is not null)
            {
                if (!owner)
                {
                    return Errno.EPERM;
                }
            }
            else if ((change.AtimeNow || change.MtimeNow) && !owner && !MayAccess(caller, inode, 2))
            {
                return Errno.EACCES;
            }

            if (change.Atime is Timespec at)
            {
                updated = updated with { Atime = ToBtrfs(at) };
            }
            else if (change.AtimeNow)
            {
                updated = updated with { Atime = now };
            }

            if (change.Mtime is Timespec mt)
            {
                updated = updated with { Mtime = ToBtrfs(mt) };
            }
            else if (change.MtimeNow)
            {
                updated = updated with { Mtime = now };
            }

            updated = updated with { Ctime = now };
            items.PutInode(ino, updated);
            return FsResult<InodeAttributes>.Ok(ToAttributes(ino, updated with { Sequence = updated.Sequence + 1 }));
        }, cancellationToken);

    /// <summary>Creates a regular file (<paramref name="mode"/> permission bits, umask already applied).</summary>
    public ValueTask<FsResult<InodeAttributes>> CreateAsync(Caller caller, ulong parent, byte[] name, uint mode, CancellationToken cancellationToken = default) =>
        MakeNodeAsync(caller, parent, name, InodeMode.Regular | (mode & ModeBits.ChmodMask), 0, [], cancellationToken);

    public ValueTask<FsResult<InodeAttributes>> MkDirAsync(Caller caller, ulong parent, byte[] name, uint mode, CancellationToken cancellationToken = default) =>
        MakeNodeAsync(caller, parent, name, InodeMode.Directory | (mode & ModeBits.ChmodMask), 0, [], cancellationToken);

    /// <summary>mknod(2): <paramref name="mode"/> carries the type; <paramref name="rdev"/> is a user-space dev_t.</summary>
    public ValueTask<FsResult<InodeAttributes>> MkNodAsync(Caller caller, ulong parent, byte[] name, uint mode, uint rdev, CancellationToken cancellationToken = default)
    {
        uint type = mode & InodeMode.TypeMask;
        if (type == 0)
        {
            type = InodeMode.Regular;
        }

        if (type is not (InodeMode.Regular or InodeMode.CharDevice or InodeMode.BlockDevice or InodeMode.Fifo or InodeMode.Socket))
        {
            return ValueTask.FromResult<FsResult<InodeAttributes>>(Errno.EINVAL);
        }

        if (type is InodeMode.CharDevice or InodeMode.BlockDevice && !caller.IsRoot)
        {
            return ValueTask.FromResult<FsResult<InodeAttributes>>(Errno.EPERM);
        }

        ulong dev = type is InodeMode.CharDevice or InodeMode.BlockDevice ? DecodeUserDev(rdev) : 0;
        return MakeNodeAsync(caller, parent, name, type | (mode & ModeBits.ChmodMask), dev, [], cancellationToken);
    }

    public ValueTask<FsResult<InodeAttributes>> SymlinkAsync(Caller caller, ulong parent, byte[] name, byte[] target, CancellationToken cancellationToken = default)
    {
        if (target.Length == 0)
        {
            return ValueTask.FromResult<FsResult<InodeAttributes>>(Errno.ENOENT);
        }

        // Symlink targets are inline extents: at most a sector less one byte (4095 for 4 KiB sectors).
        if (target.Length > 4095 || target.Length > MaxItemSize - FileExtentItemLayout.InlineDataStart)
        {
            return ValueTask.FromResult<FsResult<InodeAttributes>>(Errno.ENAMETOOLONG);
        }

        return MakeNodeAsync(caller, parent, name, InodeMode.Symlink | 0x1FF, 0, target, cancellationToken);
    }

    public ValueTask<FsResult<byte[]>> ReadLinkAsync(ulong ino, CancellationToken cancellationToken = default) =>
        RunAsync<byte[]>(false, [ino], async items =>
        {
            if (await items.GetInodeAsync(ino) is not InodeItem inode)
            {
                return Errno.ENOENT;
            }

            if (!InodeMode.IsSymlink(inode.Mode))
            {
                return Errno.EINVAL;
            }

            // A committed target is an inline EXTENT_DATA item; one not yet committed is a buffered write.
            byte[]? extent = await items.Operation.GetAsync(new BtrfsKey(ino, ItemType.ExtentData, 0));
            if (extent is null)
            {
                byte[] buffered = await _session.ReadDataAsync(TreeId, ino, 0, (uint)inode.Size, inode.Size, cancellationToken);
                return buffered.Length == (int)inode.Size && inode.Size > 0
                    ? FsResult<byte[]>.Ok(buffered)
                    : throw new InvalidDataException($"symlink {ino} of size {inode.Size} has no inline EXTENT_DATA at offset 0 and {buffered.Length} buffered bytes");
            }

            if (extent.Length < FileExtentItemLayout.InlineDataStart)
            {
                throw new InvalidDataException($"symlink {ino} has an EXTENT_DATA at offset 0 of {extent.Length} bytes, shorter than an inline extent header");
            }

            return FsResult<byte[]>.Ok(new FileExtentItemView(extent).InlineData.ToArray());
        }, cancellationToken);

    public ValueTask<FsResult<InodeAttributes>> LinkAsync(Caller caller, ulong ino, ulong newParent, byte[] newName, CancellationToken cancellationToken = default) =>
        RunAsync<InodeAttributes>(true, [newParent, ino], async items =>
        {
            Errno bad = CheckNewName(newName);
            if (bad != Errno.Ok)
            {
                return bad;
            }

            (Errno error, _) = await WritableDirAsync(items, caller, newParent);
            if (error != Errno.Ok)
            {
                return error;
            }

            if (await items.GetInodeAsync(ino) is not InodeItem inode || inode.Nlink == 0)
            {
                return Errno.ENOENT;
            }

            if (InodeMode.IsDirectory(inode.Mode))
            {
                return Errno.EPERM;
            }

            if (inode.Nlink >= MaxLinks)
            {
                return Errno.EMLINK;
            }

            if ((await items.LookupAsync(newParent, newName)).Found)
            {
                return Errno.EEXIST;
            }

            BtrfsTimespec now = Now();
            ulong index = await items.NextIndexAsync(newParent);
            await items.AddInodeRefAsync(ino, newParent, newName, index);
            await items.AddDirEntryAsync(newParent, newName, ino, InodeMode.ToDirEntryType(inode.Mode), index, now);
            InodeItem linked = inode with { Nlink = inode.Nlink + 1, Ctime = now };
            items.PutInode(ino, linked);
            return FsResult<InodeAttributes>.Ok(ToAttributes(ino, linked));
        }, cancellationToken);

    public ValueTask<Errno> UnlinkAsync(Caller caller, ulong parent, byte[] name, CancellationToken cancellationToken = default) =>
        RemoveAsync(caller, parent, name, directory: false, cancellationToken);

    public ValueTask<Errno> RmDirAsync(Caller caller, ulong parent, byte[] name, CancellationToken cancellationToken = default) =>
        RemoveAsync(caller, parent, name, directory: true, cancellationToken);

    public async ValueTask<Errno> RenameAsync(
        Caller caller, ulong oldParent, byte[] oldName, ulong newParent, byte[] newName, RenameFlags flags = RenameFlags.None, CancellationToken cancellationToken = default)
    {
        if ((flags & ~(RenameFlags.NoReplace | RenameFlags.Exchange)) != 0)
        {
            return flags.HasFlag(RenameFlags.Whiteout) ? Errno.EOPNOTSUPP : Errno.EINVAL;
        }

        if (flags.HasFlag(RenameFlags.NoReplace) && flags.HasFlag(RenameFlags.Exchange))
        {
            return Errno.EINVAL;
        }

        KeyRange[] extra = oldParent != newParent ? [LockRanges.Rename(TreeId)] : [];
        FsResult<bool> result = await RunAsync<bool>(true, [oldParent, newParent], items => RenameCoreAsync(items, caller, oldParent, oldName, newParent, newName, flags), cancellationToken, extra);
        return result.Error;
    }

    /// <summary>Directory entries after <paramref name="offset"/> (0 to start) in DIR_INDEX order, "." and ".." first.</summary>
    public ValueTask<FsResult<IReadOnlyList<DirectoryEntry>>> ReadDirAsync(
        Caller caller, ulong ino, ulong offset, int maxEntries, bool plus = false, CancellationToken cancellationToken = default) =>
        RunAsync<IReadOnlyList<DirectoryEntry>>(false, [ino], async items =>
        {
            if (await items.GetInodeAsync(ino) is not InodeItem dir)
            {
                return Errno.ENOENT;
            }

            if (!InodeMode.IsDirectory(dir.Mode))
            {
                return Errno.ENOTDIR;
            }

            if (!MayAccess(caller, dir, 4))
            {
                return Errno.EACCES;
            }

            var list = new List<DirectoryEntry>();
            if (offset < 1 && list.Count < maxEntries)
            {
                list.Add(new DirectoryEntry(ino, "."u8.ToArray(), FileType.Directory, 1, plus ? ToAttributes(ino, dir) : null));
            }

            if (offset < 2 && list.Count < maxEntries)
            {
                ulong up = ino == RootIno ? ino : await items.ParentOfAsync(ino);
                InodeAttributes? upAttributes = plus && await items.GetInodeAsync(up) is InodeItem u ? ToAttributes(up, u) : null;
                list.Add(new DirectoryEntry(up, ".."u8.ToArray(), FileType.Directory, 2, upAttributes));
            }

            ulong from = Math.Max(offset, NamespaceItems.FirstIndex);
            foreach (KeyValuePair<BtrfsKey, byte[]> kv in await items.Operation.RangeAsync(new BtrfsKey(ino, ItemType.DirIndex, from), new BtrfsKey(ino, ItemType.DirIndex, ulong.MaxValue)))
            {
                if (list.Count >= maxEntries)
                {
                    break;
                }

                (BtrfsKey location, byte[] entryName, DirEntryType type) = ReadIndexEntry(kv.Value);
                ulong child = location.ObjectId;
                InodeAttributes? attributes = null;
                if (plus && location.Type == ItemType.InodeItem && await items.GetInodeAsync(child) is InodeItem c)
                {
                    attributes = ToAttributes(child, c);
                }

                list.Add(new DirectoryEntry(child, entryName, ToFileType(type), kv.Key.Offset + 1, attributes));
            }

            return FsResult<IReadOnlyList<DirectoryEntry>>.Ok(list);
        }, cancellationToken);

    public async ValueTask<FsResult<FsStatistics>> StatfsAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            StatfsReply r = await _session.StatfsAsync(cancellationToken);
            return FsResult<FsStatistics>.Ok(new FsStatistics(r.Blocks, r.FreeBlocks, r.AvailableBlocks, r.Files, r.FreeFiles, r.BlockSize, r.NameMax));
        }
        catch (Client.Session.SessionException)
        {
            return Errno.EIO;
        }
    }

    /// <summary>fsync, fsyncdir, syncfs: commits everything the session has buffered and waits until it is durable.</summary>
    public async ValueTask<Errno> SyncAsync() => await _session.CommitAsync() ? Errno.Ok : Errno.EIO;

    // ---------------- cores ----------------

    /// <summary>
    /// A btrfs directory entry type (BTRFS_FT_*: 1 = file, 2 = directory, ...) as a file type. These
    /// are not the kernel's DT_* numbers (DT_REG = 8, DT_DIR = 4), so no shift converts one to the other.
    /// </summary>
    private static FileType ToFileType(DirEntryType type) => type switch
    {
        DirEntryType.RegularFile => FileType.RegularFile,
        DirEntryType.Directory => FileType.Directory,
        DirEntryType.CharDevice => FileType.CharacterDevice,
        DirEntryType.BlockDevice => FileType.BlockDevice,
        DirEntryType.Fifo => FileType.Fifo,
        DirEntryType.Socket => FileType.Socket,
        DirEntryType.Symlink => FileType.SymbolicLink,
        _ => FileType.Unknown,
    };

    private static (BtrfsKey Location, byte[] Name, DirEntryType Type) ReadIndexEntry(byte[] value)
    {
        var entry = new DirItemView(value);
        return (entry.Location, entry.Name.ToArray(), entry.Type);
    }

    private async ValueTask<FsResult<InodeAttributes>> MakeNodeAsync(
        Caller caller, ulong parent, byte[] name, uint mode, ulong rdev, byte[] symlinkTarget, CancellationToken cancellationToken)
    {
        Errno bad = CheckNewName(name);
        if (bad != Errno.Ok)
        {
            return bad;
        }

        bool isDir = InodeMode.IsDirectory(mode);
        ulong ino;
        try
        {
            ino = await _session.AllocateInodeAsync(TreeId, isDir ? InodeKind.Directory : InodeKind.File, cancellationToken);
        }
        catch (Client.Session.SessionException ex)
        {
            return ex.Status == WireError.NoSpace ? Errno.ENOSPC : Errno.EIO;
        }

        return await RunAsync<InodeAttributes>(true, [parent, ino], async items =>
        {
            (Errno error, InodeItem dir) = await WritableDirAsync(items, caller, parent);
            if (error != Errno.Ok)
            {
                return error;
            }

            if ((await items.LookupAsync(parent, name)).Found)
            {
                return Errno.EEXIST;
            }

            items.Operation.MarkFresh(ino);
            uint gid = caller.Gid;
            uint finalMode = mode;
            if ((dir.Mode & InodeMode.SetGid) != 0)
            {
                gid = dir.Gid;
                if (isDir)
                {
                    finalMode |= InodeMode.SetGid;
                }
            }
            else if (!isDir && (finalMode & InodeMode.SetGid) != 0 && !caller.IsRoot && !caller.InGroup(gid))
            {
                finalMode &= ~InodeMode.SetGid;
            }

            BtrfsTimespec now = Now();
            ulong size = (ulong)symlinkTarget.Length;
            var inode = new InodeItem(0, 0, size, size, 0, 1, caller.Uid, gid, finalMode, rdev, InodeFlags.None, 0, now, now, now, now);
            ulong index = await items.NextIndexAsync(parent);
            items.InsertInode(ino, inode);
            await items.AddInodeRefAsync(ino, parent, name, index);
            if (symlinkTarget.Length > 0)
            {
                // The target is file data: EXTENT_DATA items are the server's to write (it refuses a
                // client's), so it travels as the one write at offset 0 the server accepts for a symlink.
                items.Operation.Data(DataOperation.Write(ino, 0, symlinkTarget));
            }

            await items.AddDirEntryAsync(parent, name, ino, InodeMode.ToDirEntryType(finalMode), index, now);
            if (InodeMode.IsRegular(finalMode) || symlinkTarget.Length > 0)
            {
                _session.NoteFreshInode(TreeId, ino);
            }

            return FsResult<InodeAttributes>.Ok(ToAttributes(ino, inode));
        }, cancellationToken);
    }

    private async ValueTask<Errno> RemoveAsync(Caller caller, ulong parent, byte[] name, bool directory, CancellationToken cancellationToken)
    {
        if (name.Length > DirItemLayout.MaxNameLength)
        {
            return Errno.ENAMETOOLONG;
        }

        if (name.AsSpan().SequenceEqual("."u8))
        {
            return Errno.EINVAL;
        }

        if (name.AsSpan().SequenceEqual(".."u8))
        {
            return directory ? Errno.ENOTEMPTY : Errno.EISDIR;
        }

        FsResult<bool> result = await RunAsync<bool>(true, [parent], async items =>
        {
            (Errno error, InodeItem dir) = await WritableDirAsync(items, caller, parent);
            if (error != Errno.Ok)
            {
                return error;
            }

            (bool found, BtrfsKey location, DirEntryType type) = await items.LookupAsync(parent, name);
            if (!found)
            {
                return Errno.ENOENT;
            }

            if (location.Type != ItemType.InodeItem)
            {
                return Errno.EPERM;
            }

            ulong ino = location.ObjectId;
            bool isDir = type == DirEntryType.Directory;
            if (directory && !isDir)
            {
                return Errno.ENOTDIR;
            }

            if (!directory && isDir)
            {
                return Errno.EISDIR;
            }

            InodeItem victim = await items.GetInodeAsync(ino) ?? throw new InvalidDataException($"entry '{System.Text.Encoding.UTF8.GetString(name)}' in directory {parent} names inode {ino}, which has no INODE_ITEM");
            if (StickyForbids(caller, dir, victim))
            {
                return Errno.EPERM;
            }

            if (isDir && victim.Size != 0)
            {
                return Errno.ENOTEMPTY;
            }

            BtrfsTimespec now = Now();
            await items.RemoveNameAsync(parent, name, ino, now);
            if (isDir)
            {
                items.DeleteInode(ino, orphaned: false);
            }
            else
            {
                await items.DropLinkAsync(ino, IsOpen(ino), now);
            }

            return FsResult<bool>.Ok(true);
        }, cancellationToken);
        return result.Error;
    }

    private async ValueTask<FsResult<bool>> RenameCoreAsync(
        NamespaceItems items, Caller caller, ulong oldParent, byte[] oldName, ulong newParent, byte[] newName, RenameFlags flags)
    {
        if (oldName.Length > DirItemLayout.MaxNameLength || newName.Length > DirItemLayout.MaxNameLength)
        {
            return Errno.ENAMETOOLONG;
        }

        if (IsDotOrDotDot(oldName) || IsDotOrDotDot(newName))
        {
            return IsDotOrDotDot(oldName) ? Errno.EINVAL : Errno.EBUSY;
        }

        Errno bad = CheckNewName(newName);
        if (bad != Errno.Ok)
        {
            return bad;
        }

        (Errno e1, InodeItem oldDir) = await WritableDirAsync(items, caller, oldParent);
        if (e1 != Errno.Ok)
        {
            return e1;
        }

        (Errno e2, InodeItem newDir) = await WritableDirAsync(items, caller, newParent);
        if (e2 != Errno.Ok)
        {
            return e2;
        }

        (bool found, BtrfsKey srcLocation, DirEntryType srcType) = await items.LookupAsync(oldParent, oldName);
        if (!found)
        {
            return Errno.ENOENT;
        }

        (bool hasTarget, BtrfsKey dstLocation, DirEntryType dstType) = await items.LookupAsync(newParent, newName);
        if (srcLocation.Type != ItemType.InodeItem || (hasTarget && dstLocation.Type != ItemType.InodeItem))
        {
            return Errno.EXDEV;
        }

        bool exchange = flags.HasFlag(RenameFlags.Exchange);
        if (exchange && !hasTarget)
        {
            return Errno.ENOENT;
        }

        if (flags.HasFlag(RenameFlags.NoReplace) && hasTarget)
        {
            return Errno.EEXIST;
        }

        ulong src = srcLocation.ObjectId;
        InodeItem srcInode = await items.GetInodeAsync(src) ?? throw new InvalidDataException($"rename source inode {src} has no INODE_ITEM");
        if (StickyForbids(caller, oldDir, srcInode))
        {
            return Errno.EPERM;
        }

        bool srcIsDir = srcType == DirEntryType.Directory;
        ulong dst = dstLocation.ObjectId;
        if (hasTarget && dst == src)
        {
            return FsResult<bool>.Ok(true);
        }

        InodeItem dstInode = default;
        bool dstIsDir = dstType == DirEntryType.Directory;
        if (hasTarget)
        {
            dstInode = await items.GetInodeAsync(dst) ?? throw new InvalidDataException($"rename target inode {dst} has no INODE_ITEM");
            if (StickyForbids(caller, newDir, dstInode))
            {
                return Errno.EPERM;
            }
        }

        if (oldParent != newParent)
        {
            // A directory that changes parent rewrites its "..": the caller must be able to write it, and
            // it may not move below itself.
            if (srcIsDir && (!MayAccess(caller, srcInode, 2) || await IsAncestorAsync(items, src, newParent)))
            {
                return MayAccess(caller, srcInode, 2) ? Errno.EINVAL : Errno.EACCES;
            }

            if (exchange && dstIsDir && (!MayAccess(caller, dstInode, 2) || await IsAncestorAsync(items, dst, oldParent)))
            {
                return MayAccess(caller, dstInode, 2) ? Errno.EINVAL : Errno.EACCES;
            }
        }

        BtrfsTimespec now = Now();
        if (exchange)
        {
            await items.RemoveNameAsync(oldParent, oldName, src, now);
            await items.RemoveNameAsync(newParent, newName, dst, now);
            ulong i1 = await items.NextIndexAsync(newParent);
            await items.AddInodeRefAsync(src, newParent, newName, i1);
            await items.AddDirEntryAsync(newParent, newName, src, srcType, i1, now);
            ulong i2 = await items.NextIndexAsync(oldParent);
            await items.AddInodeRefAsync(dst, oldParent, oldName, i2);
            await items.AddDirEntryAsync(oldParent, oldName, dst, dstType, i2, now);
            await TouchCtimeAsync(items, src, now);
            await TouchCtimeAsync(items, dst, now);
            return FsResult<bool>.Ok(true);
        }

        if (hasTarget)
        {
            if (srcIsDir && !dstIsDir)
            {
                return Errno.ENOTDIR;
            }

            if (!srcIsDir && dstIsDir)
            {
                return Errno.EISDIR;
            }

            if (dstIsDir && dstInode.Size != 0)
            {
                return Errno.ENOTEMPTY;
            }

            await items.RemoveNameAsync(newParent, newName, dst, now);
            if (dstIsDir)
            {
                items.DeleteInode(dst, orphaned: false);
            }
            else
            {
                await items.DropLinkAsync(dst, IsOpen(dst), now);
            }
        }

        await items.RemoveNameAsync(oldParent, oldName, src, now);
        ulong index = await items.NextIndexAsync(newParent);
        await items.AddInodeRefAsync(src, newParent, newName, index);
        await items.AddDirEntryAsync(newParent, newName, src, srcType, index, now);
        await TouchCtimeAsync(items, src, now);
        return FsResult<bool>.Ok(true);
    }

    private static async ValueTask TouchCtimeAsync(NamespaceItems items, ulong ino, BtrfsTimespec now)
    {
        if (await items.GetInodeAsync(ino) is InodeItem inode)
        {
            items.PutInode(ino, inode with { Ctime = now });
        }
    }

    /// <summary>True when <paramref name="dir"/> is <paramref name="start"/> or one of its ancestors (walks INODE_REFs to the root).</summary>
    private async ValueTask<bool> IsAncestorAsync(NamespaceItems items, ulong dir, ulong start)
    {
        ulong at = start;
        for (int depth = 0; depth < 4096; depth++)
        {
            if (at == dir)
            {
                return true;
            }

            if (at == RootIno || at == 0)
            {
                return false;
            }

            at = await items.ParentOfAsync(at);
        }

        throw new InvalidDataException($"directory {start} has more than 4096 ancestors: a loop in the INODE_REFs");
    }

    /// <summary>True when <paramref name="next"/> is <paramref name="current"/> with S_ISUID and/or S_ISGID cleared, and nothing else changed.</summary>
    private static bool DropsOnlySetId(uint current, uint next)
    {
        const uint SetId = ModeBits.SetUid | ModeBits.SetGid;
        return next != current && (next & ~SetId) == (current & ~SetId) && (next & ~current) == 0;
    }

    private static uint KillSetId(uint mode)
    {
        mode &= ~InodeMode.SetUid;
        if ((mode & ModeBits.GroupExecute) != 0)
        {
            mode &= ~InodeMode.SetGid;
        }

        return mode;
    }

    /// <summary>
    /// The client's guess at <c>nbytes</c>: small files inline, larger ones in whole 4 KiB sectors. The
    /// server, which decides inline versus extents, owns the real value and returns it with the commit.
    /// </summary>
    private static ulong EstimateNbytes(ulong size) => size <= 2048 ? size : (size + 4095) / 4096 * 4096;
}
