// SPDX-License-Identifier: MIT
using System.Text;
using Crfs.Format.Btrfs;
using Crfs.Testing;

namespace Crfs.Writer.Tests;

/// <summary>
/// What a file tree should contain after a workload: the in-memory oracle of the randomized
/// tests. It can write itself out as a real directory (for a manifest to compare a kernel
/// mount against, and as a <c>--rootdir</c> source).
/// </summary>
internal sealed class FileModel
{
    public sealed class Node
    {
        public required ulong Ino { get; init; }

        public required uint Mode { get; set; }

        public uint Uid { get; set; }

        public uint Gid { get; set; }

        public uint RdevMajor { get; init; }

        public uint RdevMinor { get; init; }

        public byte[] Data { get; set; } = [];

        public byte[] Target { get; init; } = [];

        public SortedDictionary<string, byte[]> Xattrs { get; } = new(StringComparer.Ordinal);

        public int Nlink { get; set; } = 1;

        public BtrfsTimespec Atime { get; set; }

        public BtrfsTimespec Mtime { get; set; }

        public SortedDictionary<string, ulong> Entries { get; } = new(StringComparer.Ordinal);

        public ulong Parent { get; set; }

        public bool IsDir => InodeMode.IsDirectory(Mode);

        public bool IsRegular => InodeMode.IsRegular(Mode);
    }

    public Dictionary<ulong, Node> Nodes { get; } = [];

    public ulong RootIno { get; }

    public Node Root => Nodes[RootIno];

    /// <param name="rootIno">The directory the model describes (256, the subvolume root, by default).</param>
    public FileModel(BtrfsTimespec time, ulong rootIno = 256, uint rootMode = InodeMode.Directory | 0x1ED)
    {
        RootIno = rootIno;
        Nodes[rootIno] = new Node { Ino = rootIno, Mode = rootMode, Atime = time, Mtime = time };
    }

    public IEnumerable<Node> Directories => Nodes.Values.Where(n => n.IsDir);

    public IEnumerable<(Node Dir, string Name, Node Child)> AllEntries() =>
        Nodes.Values.Where(n => n.IsDir).SelectMany(d => d.Entries.Select(e => (d, e.Key, Nodes[e.Value])));

    public bool IsAncestor(ulong ancestor, ulong dir)
    {
        for (ulong d = dir; ; d = Nodes[d].Parent)
        {
            if (d == ancestor)
            {
                return true;
            }

            if (d == RootIno)
            {
                return false;
            }
        }
    }

    /// <summary>Creates the tree under <paramref name="root"/> (an empty directory) with every attribute the model holds.</summary>
    public void Materialize(string root)
    {
        var paths = new Dictionary<ulong, string>();
        var dirs = new List<(Node, string)>();
        Write(Root, root, paths, dirs);
        foreach ((Node dir, string path) in Enumerable.Reverse(dirs))
        {
            ApplyAttributes(dir, path);
        }
    }

    private void Write(Node dir, string path, Dictionary<ulong, string> paths, List<(Node, string)> dirs)
    {
        dirs.Add((dir, path));
        foreach ((string name, ulong ino) in dir.Entries)
        {
            Node n = Nodes[ino];
            string p = Path.Combine(path, name);
            byte[] pz = Encoding.UTF8.GetBytes(p);
            if (paths.TryGetValue(ino, out string? existing))
            {
                LibC.Link(Encoding.UTF8.GetBytes(existing), pz);
                continue;
            }

            paths[ino] = p;
            switch (n.Mode & InodeMode.TypeMask)
            {
                case InodeMode.Directory:
                    Directory.CreateDirectory(p);
                    Write(n, p, paths, dirs);
                    continue;
                case InodeMode.Regular:
                    File.WriteAllBytes(p, n.Data);
                    break;
                case InodeMode.Symlink:
                    LibC.Symlink(n.Target, pz);
                    break;
                default:
                    LibC.MkNod(pz, n.Mode, n.RdevMajor, n.RdevMinor);
                    break;
            }

            ApplyAttributes(n, p);
        }
    }

    private static void ApplyAttributes(Node n, string path)
    {
        byte[] pz = Encoding.UTF8.GetBytes(path);
        LibC.Lchown(pz, n.Uid, n.Gid);
        if (!InodeMode.IsSymlink(n.Mode))
        {
            LibC.Chmod(pz, n.Mode & 0xFFF);
        }

        foreach ((string name, byte[] value) in n.Xattrs)
        {
            LibC.SetXattr(pz, name, value);
        }

        LibC.SetTimes(pz, new Timespec(n.Atime.Seconds, n.Atime.Nanoseconds), new Timespec(n.Mtime.Seconds, n.Mtime.Nanoseconds));
    }
}
