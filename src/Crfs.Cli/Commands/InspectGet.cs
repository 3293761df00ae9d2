// SPDX-License-Identifier: MIT
using System.Collections.Concurrent;
using System.Text;
using Crfs.Format.Btrfs;
using Crfs.Volume;
using Crfs.Volume.Files;

namespace Crfs.Cli.Commands;

/// <summary>
/// <c>crfs inspect get</c>: a user-space <c>btrfs restore</c>. Copies a file or a directory tree
/// (subvolumes included, as directories) out of the volume with everything <c>cp -a</c> keeps:
/// modes, owners, atime and mtime to the nanosecond, xattrs of every namespace, hard links,
/// symlinks, fifos, sockets, device nodes, and holes.
/// </summary>
/// <remarks>
/// <para>
/// One thread walks the directories in DIR_INDEX order, creating each directory as it meets it
/// and queueing every other entry; a few workers take the queue and recreate the files, each
/// reading its inode, xattrs and extents in one pass over its keys and its data in runs of large
/// reads (holes and prealloc ranges are skipped and the size set with ftruncate, so they stay
/// holes). Work overlaps on the I/O of two sides: the image and the destination.
/// </para>
/// <para>
/// What must wait is done at the end, in order: the second and later names of hard-linked inodes
/// are linked to the first copy once every file exists, and directories get their owners, modes,
/// xattrs and times last, deepest first, because creating entries in a directory changes its
/// mtime. The first failure (corruption no copy repairs, or an error writing the destination)
/// stops the copy and is reported as one line; nothing is retried silently.
/// </para>
/// </remarks>
internal sealed class InspectGet
{
    private const int WriteChunk = 4 << 20;
    private const int QueueCapacity = 4096;

    private readonly ConcurrentDictionary<(ulong Subvolume, ulong Inode), byte[]> _firstPaths = new();
    private readonly ConcurrentQueue<(byte[] Existing, byte[] Path)> _pendingLinks = new();
    private readonly List<(Subvolume? Subvolume, ulong Inode, byte[] Path)> _directories = [];
    private readonly HashSet<(ulong Subvolume, ulong Inode)> _visitedDirectories = [];
    private readonly CancellationTokenSource _abort = new();
    private Exception? _failure;
    private int _xattrFailures;

    public static int Run(BtrfsVolume volume, string[] args)
    {
        ResolvedPath source = InspectCommand.Resolve(volume, args[0]);
        string dest = args[1];
        var get = new InspectGet();
        if (source.IsPlaceholder || IsDirectory(source))
        {
            get.CopyTree(source, dest);
        }
        else
        {
            string target = Directory.Exists(dest) ? Path.Combine(dest, Path.GetFileName(args[0].TrimEnd('/'))) : dest;
            get.CopyOne(new FileJob(source.Subvolume, source.Inode, InspectNative.CPath(Encoding.UTF8.GetBytes(target))));
            get.FinishLinks();
        }

        if (get._xattrFailures > 0)
        {
            // Like cp -a: everything else was copied, but the copy is not exact.
            Console.Error.WriteLine($"crfs inspect get: {get._xattrFailures} extended attributes could not be set on the destination (see the warnings above)");
            return 1;
        }

        return 0;
    }

    private static bool IsDirectory(ResolvedPath p) =>
        p.Subvolume.TryGetInode(p.Inode, out InodeItem inode) && InodeMode.IsDirectory(inode.Mode);

    private void CopyTree(ResolvedPath source, string dest)
    {
        byte[] root = Encoding.UTF8.GetBytes(dest.Length > 1 ? dest.TrimEnd('/') : dest);
        InspectNative.MkdirIfMissing(InspectNative.CPath(root), 0x1C0);

        using var queue = new BlockingCollection<FileJob>(QueueCapacity);
        int workers = Math.Clamp(Environment.ProcessorCount + 2, 2, 8);
        var tasks = new Task[workers];
        for (int i = 0; i < workers; i++)
        {
            tasks[i] = Task.Factory.StartNew(() => Work(queue), TaskCreationOptions.LongRunning);
        }

        try
        {
            Walk(source, root, queue);
        }
        catch (Exception e)
        {
            Fail(e);
        }
        finally
        {
            queue.CompleteAdding();
            Task.WaitAll(tasks);
        }

        if (_failure is not null)
        {
            System.Runtime.ExceptionServices.ExceptionDispatchInfo.Throw(_failure);
        }

        FinishLinks();
        FinishDirectories();
    }

    private void Walk(ResolvedPath source, byte[] rootPath, BlockingCollection<FileJob> queue)
    {
        var stack = new Stack<(Subvolume? Subvolume, ulong Inode, byte[] Path)>();
        stack.Push((source.IsPlaceholder ? null : source.Subvolume, source.Inode, rootPath));
        while (stack.Count > 0 && !_abort.IsCancellationRequested)
        {
            (Subvolume? subvolume, ulong dir, byte[] path) = stack.Pop();
            _directories.Add((subvolume, dir, path));
            if (subvolume is null)
            {
                continue; // a placeholder for a subvolume the kernel cannot enter: always empty
            }

            if (!_visitedDirectories.Add((subvolume.Id, dir)))
            {
                throw new InvalidDataException($"subvolume {subvolume.Id} directory {dir} is reachable twice: the directory tree has a loop");
            }

            foreach (DirEntry entry in subvolume.ReadDirectory(dir))
            {
                byte[] childPath = Join(path, entry.Name);
                if (entry.IsSubvolume)
                {
                    Subvolume? child = subvolume.EnterSubvolume(dir, entry);
                    InspectNative.MkdirIfMissing(InspectNative.CPath(childPath), 0x1C0);
                    stack.Push((child, child?.RootDirectory ?? ObjectIds.EmptySubvolDir, childPath));
                }
                else if (entry.Type == DirEntryType.Directory)
                {
                    InspectNative.MkdirIfMissing(InspectNative.CPath(childPath), 0x1C0);
                    stack.Push((subvolume, entry.Target, childPath));
                }
                else
                {
                    queue.Add(new FileJob(subvolume, entry.Target, InspectNative.CPath(childPath)), _abort.Token);
                }
            }
        }
    }

    private void Work(BlockingCollection<FileJob> queue)
    {
        byte[] buffer = new byte[WriteChunk];
        try
        {
            foreach (FileJob job in queue.GetConsumingEnumerable(_abort.Token))
            {
                CopyOne(job, buffer);
            }
        }
        catch (OperationCanceledException) when (_abort.IsCancellationRequested)
        {
            // Another thread failed first; its exception is the one reported.
        }
        catch (Exception e)
        {
            Fail(e);
        }
    }

    private void Fail(Exception e)
    {
        Interlocked.CompareExchange(ref _failure, e, null);
        _abort.Cancel();
    }

    private void CopyOne(FileJob job, byte[]? buffer = null)
    {
        Subvolume sv = job.Subvolume;
        InodeSnapshot inode = sv.LoadInode(job.Inode)
            ?? throw new InvalidDataException($"subvolume {sv.Id} inode {job.Inode} ({Display(job.Path)}) is named by a directory entry but has no INODE_ITEM");
        InodeItem item = inode.Item;
        if (item.Nlink > 1 && !_firstPaths.TryAdd((sv.Id, job.Inode), job.Path))
        {
            _pendingLinks.Enqueue((_firstPaths[(sv.Id, job.Inode)], job.Path));
            return;
        }

        uint type = item.Mode & InodeMode.TypeMask;
        switch (type)
        {
            case InodeMode.Regular:
                CopyRegular(sv, inode, job.Path, buffer ?? new byte[WriteChunk]);
                return;
            case InodeMode.Symlink:
                byte[] target = new byte[(int)Math.Min(item.Size, 65536)];
                sv.ReadRange(inode, 0, target);
                InspectNative.Symlink(InspectNative.CPath(target), job.Path);
                break;
            case InodeMode.Fifo:
            case InodeMode.Socket:
            case InodeMode.CharDevice:
            case InodeMode.BlockDevice:
                ulong dev = type is InodeMode.CharDevice or InodeMode.BlockDevice ? InspectNative.MakeDev(item.RdevMajor, item.RdevMinor) : 0;
                InspectNative.Mknod(job.Path, type | (item.Mode & 0xFFF), dev);
                break;
            default:
                throw new InvalidDataException($"subvolume {sv.Id} inode {job.Inode} ({Display(job.Path)}) has mode 0{Convert.ToString(item.Mode, 8)}, which a directory entry cannot name here");
        }

        InspectNative.Lchown(job.Path, item.Uid, item.Gid);
        SetXattrs(inode.Xattrs, job.Path, fd: -1);
        if (type != InodeMode.Symlink)
        {
            InspectNative.Chmod(job.Path, item.Mode & 0xFFF);
        }

        InspectNative.Lutimes(job.Path, Times(item));
    }

    private void CopyRegular(Subvolume sv, InodeSnapshot inode, byte[] path, byte[] buffer)
    {
        InodeItem item = inode.Item;
        long size = (long)item.Size;
        int fd = InspectNative.CreateFile(path);
        try
        {
            // Runs of adjacent extents that hold data; holes and prealloc ranges are never written.
            List<FileExtent> extents = inode.Extents;
            int i = 0;
            while (i < extents.Count)
            {
                if (extents[i].ReadsAsZeros || (long)extents[i].FileOffset >= size)
                {
                    i++;
                    continue;
                }

                long start = (long)extents[i].FileOffset;
                long end = (long)extents[i].End;
                i++;
                while (i < extents.Count && !extents[i].ReadsAsZeros && (long)extents[i].FileOffset == end)
                {
                    end = (long)extents[i].End;
                    i++;
                }

                end = Math.Min(end, size);
                for (long at = start; at < end; at += WriteChunk)
                {
                    int n = (int)Math.Min(WriteChunk, end - at);
                    sv.ReadRange(inode, at, buffer.AsSpan(0, n));
                    InspectNative.WriteAll(fd, buffer.AsSpan(0, n), at, path);
                }
            }

            InspectNative.Truncate(fd, size, path);
            InspectNative.ChownFd(fd, item.Uid, item.Gid, path);
            SetXattrs(inode.Xattrs, path, fd);
            InspectNative.ChmodFd(fd, item.Mode & 0xFFF, path);
            InspectNative.SetTimesFd(fd, Times(item), path);
        }
        finally
        {
            InspectNative.Close(fd);
        }
    }

    // Sets every xattr. A destination that cannot hold one is not fatal (the rest of the tree is
    // still worth copying): btrfs-only names (btrfs.compression) are skipped silently where the
    // destination has no such namespace, as cp -a does; other refusals are warned about and make
    // the command exit 1 at the end.
    private void SetXattrs(List<Xattr> xattrs, byte[] path, int fd)
    {
        foreach (Xattr x in xattrs)
        {
            try
            {
                if (fd >= 0)
                {
                    InspectNative.SetXattrFd(fd, x.Name, x.Value, path);
                }
                else
                {
                    InspectNative.Lsetxattr(path, x.Name, x.Value);
                }
            }
            catch (NativeIOException e) when (e.Errno is InspectNative.ENOTSUP or InspectNative.ENOSPC or InspectNative.E2BIG or InspectNative.ERANGE)
            {
                if (e.Errno == InspectNative.ENOTSUP && x.Name.AsSpan().StartsWith("btrfs."u8))
                {
                    continue;
                }

                Interlocked.Increment(ref _xattrFailures);
                Console.Error.WriteLine($"crfs inspect get: warning: {e.Message}");
            }
        }
    }

    private void FinishLinks()
    {
        while (_pendingLinks.TryDequeue(out (byte[] Existing, byte[] Path) link))
        {
            InspectNative.Link(link.Existing, link.Path);
        }
    }

    // Deepest first: the reverse of the walk's pre-order visits every directory after all of its
    // descendants, so no later creation changes a directory whose times were already set.
    private void FinishDirectories()
    {
        for (int i = _directories.Count - 1; i >= 0; i--)
        {
            (Subvolume? sv, ulong ino, byte[] path) = _directories[i];
            byte[] cpath = InspectNative.CPath(path);
            if (sv is null)
            {
                InspectNative.Chmod(cpath, 0x1ED); // the kernel's placeholder is 0755
                continue;
            }

            if (!sv.TryGetInode(ino, out InodeItem item))
            {
                throw new InvalidDataException($"subvolume {sv.Id} directory inode {ino} ({Display(cpath)}) has no INODE_ITEM");
            }

            InspectNative.Lchown(cpath, item.Uid, item.Gid);
            SetXattrs([.. sv.ListXattrs(ino)], cpath, fd: -1);
            InspectNative.Chmod(cpath, item.Mode & 0xFFF);
            InspectNative.Lutimes(cpath, Times(item));
        }
    }

    private static long[] Times(in InodeItem item) =>
        [item.Atime.Seconds, item.Atime.Nanoseconds, item.Mtime.Seconds, item.Mtime.Nanoseconds];

    private static byte[] Join(byte[] dir, byte[] name)
    {
        byte[] path = new byte[dir.Length + 1 + name.Length];
        dir.CopyTo(path, 0);
        path[dir.Length] = (byte)'/';
        name.CopyTo(path, dir.Length + 1);
        return path;
    }

    private static string Display(byte[] cpath) => ItemPrinter.Name(cpath.AsSpan(0, Math.Max(cpath.Length - 1, 0)));

    private readonly record struct FileJob(Subvolume Subvolume, ulong Inode, byte[] Path);
}
