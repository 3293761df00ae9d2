// SPDX-License-Identifier: MIT
using System.Text;
using Crfs.Format.Btrfs;
using Crfs.Volume.Files;
using Crfs.Volume.Transactions;

namespace Crfs.Volume.Mkfs;

/// <summary>
/// Copies a directory tree into the top-level subvolume of a volume (<c>mkfs --rootdir</c>),
/// keeping what <c>mkfs.btrfs</c> 6.2 loses: owners, modes, times to the nanosecond (ctime and
/// creation time included, which no system call could set), device numbers, symlink targets as
/// the kernel stores them, every extended attribute, hard links, and holes (found with
/// SEEK_DATA/SEEK_HOLE, so sparse files stay sparse).
/// </summary>
/// <remarks>
/// The walk is depth-first in bytewise name order; a directory's attributes are applied after
/// its entries so that creating them does not disturb its times. Work is committed in batches
/// (by data written and by dirty metadata) so memory stays bounded on large trees.
/// </remarks>
public sealed class RootDirImporter
{
    private const int ReadChunk = 8 << 20;
    private const ulong CommitBytes = 8UL << 30; // data is not held in memory; commits only bound the dirty metadata
    private const int CommitDirtyBlocks = 32768;

    private readonly VolumeWriter _writer;
    private readonly FileSystemWriter _fs = new();
    private readonly Dictionary<(ulong Device, ulong Inode), ulong> _links = [];
    private ulong _bytesSinceCommit;

    public RootDirImporter(VolumeWriter writer)
    {
        _writer = writer;
    }

    public long Files { get; private set; }

    public long Bytes { get; private set; }

    /// <summary>Imports the contents of <paramref name="sourceRoot"/> and commits.</summary>
    public void Import(string sourceRoot)
    {
        byte[] root = Encoding.UTF8.GetBytes(Path.GetFullPath(sourceRoot).TrimEnd('/'));
        SourceStat st = SourceFiles.Stat(root);
        if (!InodeMode.IsDirectory(st.Mode))
        {
            throw new IOException($"--rootdir {sourceRoot} is not a directory");
        }

        Walk(root, ObjectIds.FirstFree);
        Finish(root, ObjectIds.FirstFree, st);
        _writer.Commit();
    }

    private void Walk(byte[] dirPath, ulong dir)
    {
        foreach (byte[] name in SourceFiles.ReadDirectory(dirPath))
        {
            byte[] path = SourceFiles.Join(dirPath, name);
            SourceStat st = SourceFiles.Stat(path);
            uint type = st.Mode & InodeMode.TypeMask;
            if (type != InodeMode.Directory && st.Nlink > 1 && _links.TryGetValue((st.Device, st.Inode), out ulong existing))
            {
                Check(_writer.Execute(tx => _fs.Link(tx, existing, dir, name)), "link", path);
                var times = new SetAttributes { Atime = st.Atime, Mtime = st.Mtime, Ctime = st.Ctime }; // link stamped ctime
                Check(_writer.Execute(tx => _fs.SetAttr(tx, existing, times)), "setattr", path);
                continue;
            }

            var attributes = new NewInode(st.Mode, st.Uid, st.Gid, Rdev(st), st.Atime, st.Mtime, st.Ctime, st.Btime);
            ulong ino = 0;
            if (type == InodeMode.Symlink)
            {
                byte[] target = SourceFiles.ReadLink(path);
                Check(_writer.Execute(tx => _fs.Symlink(tx, dir, name, target, attributes, out ino)), "symlink", path);
            }
            else
            {
                Check(_writer.Execute(tx => _fs.Create(tx, dir, name, attributes, out ino)), "create", path);
            }

            Files++;
            if (type == InodeMode.Directory)
            {
                Walk(path, ino);
            }
            else if (type == InodeMode.Regular)
            {
                CopyData(path, ino, st.Size);
            }

            if (st.Nlink > 1 && type != InodeMode.Directory)
            {
                _links[(st.Device, st.Inode)] = ino;
            }

            Finish(path, ino, st);
            MaybeCommit();
        }
    }

    private void CopyData(byte[] path, ulong ino, ulong size)
    {
        using var file = new SourceFiles.DataFile(path);
        foreach ((ulong start, ulong end) in file.DataRanges(size))
        {
            for (ulong at = start; at < end;)
            {
                int len = (int)Math.Min((ulong)ReadChunk, end - at);
                byte[] buffer = new byte[len];
                file.Read(at, buffer);
                ulong offset = at;
                Check(_writer.Execute(tx => _fs.Write(tx, ino, offset, buffer)), "write", path);
                at += (ulong)len;
                Bytes += len;
                _bytesSinceCommit += (ulong)len;
                if (_bytesSinceCommit >= CommitBytes)
                {
                    MaybeCommit();
                }
            }
        }

        Check(_writer.Execute(tx => _fs.TryGetInode(tx, ino, out InodeItem inode) && inode.Size != size ? _fs.Truncate(tx, ino, size) : WriteStatus.Ok), "truncate", path);
    }

    // Xattrs, then the exact times (last: every change above stamps ctime and mtime).
    private void Finish(byte[] path, ulong ino, SourceStat st)
    {
        foreach ((byte[] name, byte[] value) in SourceFiles.Xattrs(path))
        {
            Check(_writer.Execute(tx => _fs.SetXattr(tx, ino, name, value)), "setxattr " + Encoding.UTF8.GetString(name), path);
        }

        var attrs = new SetAttributes { Mode = st.Mode & ~InodeMode.TypeMask, Uid = st.Uid, Gid = st.Gid, Atime = st.Atime, Mtime = st.Mtime, Ctime = st.Ctime };
        Check(_writer.Execute(tx => _fs.SetAttr(tx, ino, attrs)), "setattr", path);
    }

    private void MaybeCommit()
    {
        if (_bytesSinceCommit >= CommitBytes || _writer.Execute(tx => tx.DirtyBlocks) >= CommitDirtyBlocks)
        {
            _writer.Commit();
            _bytesSinceCommit = 0;
        }
    }

    private static ulong Rdev(SourceStat st)
    {
        uint type = st.Mode & InodeMode.TypeMask;
        return type is InodeMode.CharDevice or InodeMode.BlockDevice ? ((ulong)st.RdevMajor << 20) | st.RdevMinor : 0;
    }

    private static void Check(WriteStatus status, string what, byte[] path)
    {
        if (status != WriteStatus.Ok)
        {
            throw new IOException($"{what} '{Encoding.UTF8.GetString(path)}' failed: {status} (errno {(int)status})");
        }
    }
}
