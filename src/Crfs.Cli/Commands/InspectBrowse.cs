// SPDX-License-Identifier: MIT
using System.Buffers;
using System.Globalization;
using System.Text;
using Crfs.Format.Btrfs;
using Crfs.Volume;
using Crfs.Volume.Files;

namespace Crfs.Cli.Commands;

/// <summary><c>crfs inspect ls</c> and <c>crfs inspect cat</c>: browsing a volume without mounting it.</summary>
internal static class InspectBrowse
{
    private const int CatChunk = 1 << 20;

    public static int RunLs(BtrfsVolume volume, string[] args)
    {
        ResolvedPath target = InspectCommand.Resolve(volume, args.Length > 0 ? args[0] : "/");
        using var w = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 1 << 16);
        if (target.IsPlaceholder)
        {
            w.WriteLine(Line(null, ObjectIds.EmptySubvolDir, "."u8, null));
            return 0;
        }

        if (!target.Subvolume.TryGetInode(target.Inode, out InodeItem inode))
        {
            throw new InvalidDataException($"subvolume {target.Subvolume.Id} inode {target.Inode} is named by a directory entry but has no INODE_ITEM");
        }

        if (!InodeMode.IsDirectory(inode.Mode))
        {
            string name = Path.GetFileName(args[0].TrimEnd('/'));
            w.WriteLine(Line(inode, target.Inode, Encoding.UTF8.GetBytes(name), LinkTarget(target.Subvolume, target.Inode, inode)));
            return 0;
        }

        w.WriteLine(Line(inode, target.Inode, "."u8, null));
        var entries = target.Subvolume.ReadDirectory(target.Inode).ToList();
        entries.Sort(static (a, b) => a.Name.AsSpan().SequenceCompareTo(b.Name));
        foreach (DirEntry entry in entries)
        {
            if (entry.IsSubvolume)
            {
                Subvolume? child = target.Subvolume.EnterSubvolume(target.Inode, entry);
                if (child is null || !child.TryGetInode(child.RootDirectory, out InodeItem root))
                {
                    w.WriteLine(Line(null, ObjectIds.EmptySubvolDir, entry.Name, null));
                }
                else
                {
                    w.WriteLine(Line(root, child.RootDirectory, entry.Name, null));
                }

                continue;
            }

            if (!target.Subvolume.TryGetInode(entry.Target, out InodeItem child2))
            {
                throw new InvalidDataException($"subvolume {target.Subvolume.Id} directory {target.Inode} entry {ItemPrinter.Name(entry.Name)} names inode {entry.Target}, which has no INODE_ITEM");
            }

            w.WriteLine(Line(child2, entry.Target, entry.Name, LinkTarget(target.Subvolume, entry.Target, child2)));
        }

        return 0;
    }

    public static int RunCat(BtrfsVolume volume, string[] args)
    {
        ResolvedPath target = InspectCommand.Resolve(volume, args[0]);
        if (target.IsPlaceholder || !target.Subvolume.TryGetInode(target.Inode, out InodeItem inode))
        {
            throw new IOException($"{args[0]}: is a directory");
        }

        if (!InodeMode.IsRegular(inode.Mode))
        {
            throw new IOException($"{args[0]}: {(InodeMode.IsDirectory(inode.Mode) ? "is a directory" : "not a regular file")}");
        }

        using Stream stdout = Console.OpenStandardOutput();
        byte[] buffer = ArrayPool<byte>.Shared.Rent(CatChunk);
        try
        {
            long offset = 0;
            while (target.Subvolume.TryRead(target.Inode, offset, buffer.AsSpan(0, CatChunk), out int n) && n > 0)
            {
                stdout.Write(buffer, 0, n);
                offset += n;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
        }

        return 0;
    }

    private static byte[]? LinkTarget(Subvolume subvolume, ulong ino, in InodeItem inode) =>
        InodeMode.IsSymlink(inode.Mode) ? subvolume.ReadLink(ino) : null;

    // One `ls -la --full-time`-style line; uid and gid are numeric because the image's users are
    // not the host's.
    private static string Line(InodeItem? inode, ulong ino, ReadOnlySpan<byte> name, byte[]? linkTarget)
    {
        if (inode is not InodeItem i)
        {
            // The kernel's placeholder for a subvolume it cannot enter: an empty 0755 directory.
            return $"drwxr-xr-x {1,3} {0,5} {0,5} {0,10} {"-",-35} {ItemPrinter.Name(name)}";
        }

        uint type = i.Mode & InodeMode.TypeMask;
        string size = type is InodeMode.CharDevice or InodeMode.BlockDevice
            ? $"{i.RdevMajor}, {i.RdevMinor}"
            : i.Size.ToString(CultureInfo.InvariantCulture);
        string time = DateTimeOffset.FromUnixTimeSeconds(i.Mtime.Seconds).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)
            + $".{i.Mtime.Nanoseconds:D9} +0000";
        string line = $"{ModeString(i.Mode)} {i.Nlink,3} {i.Uid,5} {i.Gid,5} {size,10} {time,-35} {ItemPrinter.Name(name)}";
        return linkTarget is null ? line : $"{line} -> {ItemPrinter.Name(linkTarget)}";
    }

    private static string ModeString(uint mode)
    {
        char type = (mode & InodeMode.TypeMask) switch
        {
            InodeMode.Directory => 'd',
            InodeMode.Symlink => 'l',
            InodeMode.CharDevice => 'c',
            InodeMode.BlockDevice => 'b',
            InodeMode.Fifo => 'p',
            InodeMode.Socket => 's',
            _ => '-',
        };
        Span<char> s = stackalloc char[10];
        s[0] = type;
        const string Rwx = "rwxrwxrwx";
        for (int bit = 0; bit < 9; bit++)
        {
            s[1 + bit] = (mode & (1u << (8 - bit))) != 0 ? Rwx[bit] : '-';
        }

        if ((mode & InodeMode.SetUid) != 0)
        {
            s[3] = s[3] == 'x' ? 's' : 'S';
        }

        if ((mode & InodeMode.SetGid) != 0)
        {
            s[6] = s[6] == 'x' ? 's' : 'S';
        }

        if ((mode & InodeMode.Sticky) != 0)
        {
            s[9] = s[9] == 'x' ? 't' : 'T';
        }

        return new string(s);
    }
}
