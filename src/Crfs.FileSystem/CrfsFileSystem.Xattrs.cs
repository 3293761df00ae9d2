// SPDX-License-Identifier: MIT
using System.Text;
using Crfs.FileSystem.Items;
using Crfs.Format.Btrfs;
using Crfs.Posix;

namespace Crfs.FileSystem;

public sealed partial class CrfsFileSystem
{
    public ValueTask<FsResult<byte[]>> GetXattrAsync(Caller caller, ulong ino, byte[] name, CancellationToken cancellationToken = default) =>
        RunAsync<byte[]>(false, [ino], async items =>
        {
            if (await items.GetInodeAsync(ino) is not InodeItem inode)
            {
                return Errno.ENOENT;
            }

            Errno denied = XattrAccess(caller, inode, name, write: false);
            if (denied != Errno.Ok)
            {
                return denied;
            }

            byte[]? item = await items.Operation.GetAsync(FsItemCodec.XattrKey(ino, name));
            return FsItemCodec.TryFindEntry(item, name, out _, out _, out byte[] value) ? FsResult<byte[]>.Ok(value) : Errno.ENODATA;
        }, cancellationToken);

    /// <summary>Every name, each followed by a NUL byte, as listxattr(2) returns them to root.</summary>
    public ValueTask<FsResult<byte[]>> ListXattrAsync(ulong ino, CancellationToken cancellationToken = default) =>
        ListXattrAsync(Caller.Root, ino, cancellationToken);

    /// <summary>
    /// The names <paramref name="caller"/> may see, each followed by a NUL byte: xattr(7) hides
    /// <c>trusted.*</c> from callers without CAP_SYS_ADMIN (root, here).
    /// </summary>
    public ValueTask<FsResult<byte[]>> ListXattrAsync(Caller caller, ulong ino, CancellationToken cancellationToken = default) =>
        RunAsync<byte[]>(false, [ino], async items =>
        {
            if (await items.GetInodeAsync(ino) is null)
            {
                return Errno.ENOENT;
            }

            var names = new List<byte>();
            foreach (KeyValuePair<BtrfsKey, byte[]> kv in await items.Operation.RangeAsync(new BtrfsKey(ino, ItemType.XattrItem, 0), new BtrfsKey(ino, ItemType.XattrItem, ulong.MaxValue)))
            {
                foreach (DirItemView e in new DirItemEnumerator(kv.Value))
                {
                    if (!caller.IsRoot && e.Name.StartsWith("trusted."u8))
                    {
                        continue;
                    }

                    names.AddRange(e.Name);
                    names.Add(0);
                }
            }

            return FsResult<byte[]>.Ok([.. names]);
        }, cancellationToken);

    public ValueTask<Errno> SetXattrAsync(Caller caller, ulong ino, byte[] name, byte[] value, XattrSetMode mode = XattrSetMode.Any, CancellationToken cancellationToken = default)
    {
        if (name.Length == 0 || name.Length > DirItemLayout.MaxNameLength)
        {
            return ValueTask.FromResult(Errno.ERANGE);
        }

        if (name.Length + value.Length > TreeBlockGeometry.MaxXattrSize(_options.NodeSize))
        {
            return ValueTask.FromResult(Errno.E2BIG);
        }

        return RunErrnoAsync(RunAsync<bool>(true, [ino], async items =>
        {
            if (await items.GetInodeAsync(ino) is not InodeItem inode)
            {
                return Errno.ENOENT;
            }

            Errno denied = XattrAccess(caller, inode, name, write: true);
            if (denied != Errno.Ok)
            {
                return denied;
            }

            var key = FsItemCodec.XattrKey(ino, name);
            byte[]? item = await items.Operation.GetAsync(key);
            byte[] others = item is null ? [] : FsItemCodec.WithoutEntry(item, name, out _);
            bool existed = item is not null && others.Length != item.Length;
            if (mode == XattrSetMode.Create && existed)
            {
                return Errno.EEXIST;
            }

            if (mode == XattrSetMode.Replace && !existed)
            {
                return Errno.ENODATA;
            }

            byte[] entry = FsItemPayloads.DirEntry(default, 0, DirEntryType.Xattr, name, value);
            if (others.Length + entry.Length > MaxItemSize)
            {
                return Errno.E2BIG;
            }

            items.Operation.Put(key, [.. others, .. entry]);
            items.PutInode(ino, inode with { Ctime = Now() });
            return FsResult<bool>.Ok(true);
        }, cancellationToken));
    }

    public ValueTask<Errno> RemoveXattrAsync(Caller caller, ulong ino, byte[] name, CancellationToken cancellationToken = default) =>
        RunErrnoAsync(RunAsync<bool>(true, [ino], async items =>
        {
            if (await items.GetInodeAsync(ino) is not InodeItem inode)
            {
                return Errno.ENOENT;
            }

            Errno denied = XattrAccess(caller, inode, name, write: true);
            if (denied != Errno.Ok)
            {
                return denied;
            }

            var key = FsItemCodec.XattrKey(ino, name);
            if (await items.Operation.GetAsync(key) is not byte[] item)
            {
                return Errno.ENODATA;
            }

            byte[] rest = FsItemCodec.WithoutEntry(item, name, out bool existed);
            if (!existed)
            {
                return Errno.ENODATA;
            }

            if (rest.Length == 0)
            {
                items.Operation.Delete(key);
            }
            else
            {
                items.Operation.Put(key, rest);
            }

            items.PutInode(ino, inode with { Ctime = Now() });
            return FsResult<bool>.Ok(true);
        }, cancellationToken));

    /// <summary>
    /// The namespace rules of xattr(7): <c>user.</c> follows the file's permission bits and exists only
    /// on regular files and directories; <c>trusted.</c> is root's; <c>security.</c> and
    /// <c>system.</c> are readable by all and writable by the owner or root; anything else is
    /// EOPNOTSUPP.
    /// </summary>
    private static Errno XattrAccess(Caller caller, in InodeItem inode, byte[] name, bool write)
    {
        string prefix = Encoding.ASCII.GetString(name, 0, Math.Min(name.Length, 9));
        if (prefix.StartsWith("user.", StringComparison.Ordinal))
        {
            if (!InodeMode.IsRegular(inode.Mode) && !InodeMode.IsDirectory(inode.Mode))
            {
                return write ? Errno.EPERM : Errno.ENODATA;
            }

            return MayAccess(caller, inode, write ? 2u : 4u) ? Errno.Ok : Errno.EACCES;
        }

        if (prefix.StartsWith("trusted.", StringComparison.Ordinal))
        {
            return caller.IsRoot ? Errno.Ok : write ? Errno.EPERM : Errno.ENODATA;
        }

        if (prefix.StartsWith("security.", StringComparison.Ordinal) || prefix.StartsWith("system.", StringComparison.Ordinal))
        {
            return !write || caller.IsRoot || caller.Uid == inode.Uid ? Errno.Ok : Errno.EPERM;
        }

        return Errno.EOPNOTSUPP;
    }
}
