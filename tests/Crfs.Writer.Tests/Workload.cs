// SPDX-License-Identifier: MIT
using System.Text;
using Crfs.Format.Btrfs;
using Crfs.Testing;
using Crfs.Volume.Files;
using Crfs.Volume.Transactions;

namespace Crfs.Writer.Tests;

/// <summary>
/// A seeded random workload of every file-level operation, applied to the writer and to a
/// <see cref="FileModel"/> side by side. Every operation is one the model says must succeed (or
/// must fail with a specific status), so a wrong status is caught at once.
/// </summary>
internal sealed class Workload
{
    public static readonly BtrfsTimespec Time0 = new(1_700_000_000, 123_456_789);

    private readonly SeededRandom _random;
    private readonly FileSystemWriter _fs;
    private readonly FileModel _model;
    private readonly int _maxWrite;
    private int _names;

    public Workload(int seed, FileSystemWriter fs, FileModel model, int maxWrite = 256 * 1024)
    {
        _random = SeededRandom.For(seed, "writer-workload");
        _fs = fs;
        _fs.Clock = () => Time0;
        _model = model;
        _maxWrite = maxWrite;
    }

    public List<string> Log { get; } = [];

    public void Step(VolumeWriter writer)
    {
        writer.Execute(tx =>
        {
            StepIn(tx);
            return 0;
        });
    }

    private void StepIn(WriteTransaction tx)
    {
        int pick = _random.Next(100);
        var files = _model.Nodes.Values.Where(n => n.IsRegular && n.Nlink > 0).ToList();
        if (pick < 14 || files.Count < 3)
        {
            Create(tx, InodeMode.Regular | (uint)(0x180 | _random.Next(0x80)));
        }
        else if (pick < 20)
        {
            Create(tx, InodeMode.Directory | 0x1ED);
        }
        else if (pick < 22)
        {
            Create(tx, _random.Next(2) == 0 ? InodeMode.Fifo | 0x1A4 : InodeMode.CharDevice | 0x1B0);
        }
        else if (pick < 25)
        {
            Symlink(tx);
        }
        else if (pick < 29)
        {
            Link(tx, files);
        }
        else if (pick < 35)
        {
            Unlink(tx);
        }
        else if (pick < 38)
        {
            Rmdir(tx);
        }
        else if (pick < 45)
        {
            Rename(tx);
        }
        else if (pick < 70)
        {
            Write(tx, files);
        }
        else if (pick < 78)
        {
            Truncate(tx, files);
        }
        else if (pick < 81)
        {
            Fallocate(tx, files);
        }
        else if (pick < 88)
        {
            SetAttr(tx);
        }
        else
        {
            Xattr(tx);
        }
    }

    private FileModel.Node RandomDir()
    {
        var dirs = _model.Directories.ToList();
        return dirs[_random.Next(dirs.Count)];
    }

    private FileModel.Node RandomNode()
    {
        var all = _model.Nodes.Values.ToList();
        return all[_random.Next(all.Count)];
    }

    private string NewName() => _random.Next(4) == 0 ? $"long-name-{new string('x', _random.Next(80))}-{_names++}" : $"n{_names++}";

    private void Expect(WriteStatus actual, WriteStatus expected, string what)
    {
        Log.Add(what);
        if (actual != expected)
        {
            throw new InvalidOperationException($"{what}: expected {expected}, got {actual} (after {Log.Count} operations)");
        }
    }

    private void Create(WriteTransaction tx, uint mode)
    {
        FileModel.Node dir = RandomDir();
        string name = NewName();
        uint major = (uint)_random.Next(1, 200);
        uint minor = (uint)_random.Next(0, 2000);
        ulong rdev = InodeMode.IsRegular(mode) || InodeMode.IsDirectory(mode) || (mode & InodeMode.TypeMask) == InodeMode.Fifo ? 0 : ((ulong)major << 20) | minor;
        uint uid = (uint)_random.Next(3) * 1000;
        Expect(_fs.Create(tx, dir.Ino, Encoding.UTF8.GetBytes(name), new NewInode(mode, uid, uid + 1, rdev), out ulong ino), WriteStatus.Ok, $"create {name} 0{Convert.ToString(mode, 8)} in {dir.Ino}");
        _model.Nodes[ino] = new FileModel.Node
        {
            Ino = ino,
            Mode = mode,
            Uid = uid,
            Gid = uid + 1,
            Atime = Time0,
            Mtime = Time0,
            Parent = dir.Ino,
            RdevMajor = rdev == 0 ? 0 : major,
            RdevMinor = rdev == 0 ? 0 : minor,
        };
        dir.Entries[name] = ino;
        dir.Mtime = Time0;
        if (_random.Next(10) == 0)
        {
            Expect(_fs.Create(tx, dir.Ino, Encoding.UTF8.GetBytes(name), new NewInode(mode), out _), WriteStatus.Exists, $"create existing {name}");
        }
    }

    private void Symlink(WriteTransaction tx)
    {
        FileModel.Node dir = RandomDir();
        string name = NewName();
        byte[] target = Encoding.UTF8.GetBytes("../target/" + new string('t', _random.Next(1, 300)));
        Expect(_fs.Symlink(tx, dir.Ino, Encoding.UTF8.GetBytes(name), target, new NewInode(0x1FF, 7, 8), out ulong ino), WriteStatus.Ok, $"symlink {name}");
        _model.Nodes[ino] = new FileModel.Node { Ino = ino, Mode = InodeMode.Symlink | 0x1FF, Uid = 7, Gid = 8, Target = target, Atime = Time0, Mtime = Time0, Parent = dir.Ino };
        dir.Entries[name] = ino;
        dir.Mtime = Time0;
    }

    private void Link(WriteTransaction tx, List<FileModel.Node> files)
    {
        FileModel.Node f = files[_random.Next(files.Count)];
        FileModel.Node dir = RandomDir();
        string name = NewName();
        Expect(_fs.Link(tx, f.Ino, dir.Ino, Encoding.UTF8.GetBytes(name)), WriteStatus.Ok, $"link {f.Ino} as {name}");
        f.Nlink++;
        dir.Entries[name] = f.Ino;
        dir.Mtime = Time0;
    }

    private void Unlink(WriteTransaction tx)
    {
        var entries = _model.AllEntries().Where(e => !e.Child.IsDir).ToList();
        if (entries.Count == 0)
        {
            return;
        }

        (FileModel.Node dir, string name, FileModel.Node child) = entries[_random.Next(entries.Count)];
        Expect(_fs.Unlink(tx, dir.Ino, Encoding.UTF8.GetBytes(name)), WriteStatus.Ok, $"unlink {name} from {dir.Ino}");
        dir.Entries.Remove(name);
        dir.Mtime = Time0;
        if (--child.Nlink == 0)
        {
            _model.Nodes.Remove(child.Ino);
        }
    }

    private void Rmdir(WriteTransaction tx)
    {
        var dirs = _model.AllEntries().Where(e => e.Child.IsDir).ToList();
        if (dirs.Count == 0)
        {
            return;
        }

        (FileModel.Node parent, string name, FileModel.Node child) = dirs[_random.Next(dirs.Count)];
        if (child.Entries.Count > 0)
        {
            Expect(_fs.Rmdir(tx, parent.Ino, Encoding.UTF8.GetBytes(name)), WriteStatus.NotEmpty, $"rmdir non-empty {name}");
            return;
        }

        Expect(_fs.Rmdir(tx, parent.Ino, Encoding.UTF8.GetBytes(name)), WriteStatus.Ok, $"rmdir {name}");
        parent.Entries.Remove(name);
        parent.Mtime = Time0;
        _model.Nodes.Remove(child.Ino);
    }

    private void Rename(WriteTransaction tx)
    {
        var entries = _model.AllEntries().ToList();
        if (entries.Count == 0)
        {
            return;
        }

        (FileModel.Node from, string name, FileModel.Node child) = entries[_random.Next(entries.Count)];
        FileModel.Node to = RandomDir();
        string newName = NewName();
        if (_random.Next(3) == 0 && to.Entries.Count > 0)
        {
            newName = to.Entries.Keys.ElementAt(_random.Next(to.Entries.Count));
        }

        byte[] a = Encoding.UTF8.GetBytes(name);
        byte[] b = Encoding.UTF8.GetBytes(newName);
        string what = $"rename {from.Ino}/{name} to {to.Ino}/{newName}";
        if (child.IsDir && _model.IsAncestor(child.Ino, to.Ino))
        {
            Expect(_fs.Rename(tx, from.Ino, a, to.Ino, b), from.Ino == to.Ino && name == newName ? WriteStatus.Ok : WriteStatus.InvalidArgument, what);
            return;
        }

        if (to.Entries.TryGetValue(newName, out ulong existing))
        {
            FileModel.Node target = _model.Nodes[existing];
            if (existing == child.Ino)
            {
                Expect(_fs.Rename(tx, from.Ino, a, to.Ino, b), WriteStatus.Ok, what);
                return;
            }

            if (child.IsDir != target.IsDir)
            {
                Expect(_fs.Rename(tx, from.Ino, a, to.Ino, b), child.IsDir ? WriteStatus.NotDirectory : WriteStatus.IsDirectory, what);
                return;
            }

            if (target.IsDir && target.Entries.Count > 0)
            {
                Expect(_fs.Rename(tx, from.Ino, a, to.Ino, b), WriteStatus.NotEmpty, what);
                return;
            }

            Expect(_fs.Rename(tx, from.Ino, a, to.Ino, b), WriteStatus.Ok, what);
            to.Entries.Remove(newName);
            if (target.IsDir || --target.Nlink == 0)
            {
                _model.Nodes.Remove(target.Ino);
            }
        }
        else
        {
            Expect(_fs.Rename(tx, from.Ino, a, to.Ino, b), WriteStatus.Ok, what);
        }

        from.Entries.Remove(name);
        to.Entries[newName] = child.Ino;
        from.Mtime = Time0;
        to.Mtime = Time0;
        if (child.IsDir)
        {
            child.Parent = to.Ino;
        }
    }

    private void Write(WriteTransaction tx, List<FileModel.Node> files)
    {
        FileModel.Node f = files[_random.Next(files.Count)];
        int size = f.Data.Length;
        int len = _random.Next(4) switch
        {
            0 => _random.Next(1, 100),
            1 => _random.Next(1, 5000),
            2 => _random.Next(1, 20000),
            _ => _random.Next(1, _maxWrite),
        };
        int offset = _random.Next(3) switch
        {
            0 => 0,
            1 => size,
            _ => _random.Next(0, size + 10000),
        };
        if (offset + len > 4 * _maxWrite)
        {
            offset = 0;
        }

        byte[] data = _random.Bytes(len);
        Expect(_fs.Write(tx, f.Ino, (ulong)offset, data), WriteStatus.Ok, $"write {f.Ino} [{offset}, {offset + len})");
        if (offset + len > size)
        {
            byte[] grown = new byte[offset + len];
            f.Data.CopyTo(grown, 0);
            f.Data = grown;
        }

        data.CopyTo(f.Data, offset);
        f.Mtime = Time0;
        CheckContent(tx, f);
    }

    private void CheckContent(WriteTransaction tx, FileModel.Node f)
    {
        if (_random.Next(8) != 0)
        {
            return;
        }

        byte[] read = new byte[f.Data.Length];
        _fs.Read(tx, f.Ino, 0, read);
        if (!read.AsSpan().SequenceEqual(f.Data))
        {
            int i = 0;
            while (read[i] == f.Data[i])
            {
                i++;
            }

            throw new InvalidOperationException($"inode {f.Ino}: content differs from the model at byte {i} of {f.Data.Length} after {Log.Count} operations (last: {Log[^1]})");
        }
    }

    private void Truncate(WriteTransaction tx, List<FileModel.Node> files)
    {
        FileModel.Node f = files[_random.Next(files.Count)];
        int size = _random.Next(3) switch
        {
            0 => 0,
            1 => _random.Next(0, f.Data.Length + 1),
            _ => _random.Next(0, (2 * f.Data.Length) + 10000),
        };
        Expect(_fs.Truncate(tx, f.Ino, (ulong)size), WriteStatus.Ok, $"truncate {f.Ino} to {size}");
        byte[] data = new byte[size];
        f.Data.AsSpan(0, Math.Min(size, f.Data.Length)).CopyTo(data);
        f.Data = data;
        f.Mtime = Time0;
        CheckContent(tx, f);
    }

    private void Fallocate(WriteTransaction tx, List<FileModel.Node> files)
    {
        FileModel.Node f = files[_random.Next(files.Count)];
        int offset = _random.Next(0, f.Data.Length + 20000);
        int len = _random.Next(1, 100_000);
        bool keep = _random.Next(2) == 0;
        Expect(_fs.Fallocate(tx, f.Ino, (ulong)offset, (ulong)len, keep), WriteStatus.Ok, $"fallocate {f.Ino} [{offset}, {offset + len}) keep {keep}");
        if (!keep && offset + len > f.Data.Length)
        {
            byte[] grown = new byte[offset + len];
            f.Data.CopyTo(grown, 0);
            f.Data = grown;
            f.Mtime = Time0;
        }

        CheckContent(tx, f);
    }

    private void SetAttr(WriteTransaction tx)
    {
        FileModel.Node n = RandomNode();
        bool symlink = InodeMode.IsSymlink(n.Mode);
        uint? mode = symlink ? null : (uint)_random.Next(0x1000);
        uint uid = (uint)_random.Next(5000);
        var atime = new BtrfsTimespec(1_600_000_000 + _random.Next(1_000_000), (uint)_random.Next(1_000_000_000));
        var mtime = new BtrfsTimespec(1_500_000_000 + _random.Next(1_000_000), (uint)_random.Next(1_000_000_000));
        Expect(_fs.SetAttr(tx, n.Ino, new SetAttributes { Mode = mode, Uid = uid, Gid = uid + 5, Atime = atime, Mtime = mtime }), WriteStatus.Ok, $"setattr {n.Ino}");
        if (mode is uint m)
        {
            n.Mode = (n.Mode & InodeMode.TypeMask) | m;
        }

        n.Uid = uid;
        n.Gid = uid + 5;
        n.Atime = atime;
        n.Mtime = mtime;
    }

    private void Xattr(WriteTransaction tx)
    {
        FileModel.Node n = RandomNode();
        if (!n.IsRegular && !n.IsDir)
        {
            return; // the kernel allows user.* attributes on regular files and directories only
        }

        if (n.Xattrs.Count > 0 && _random.Next(3) == 0)
        {
            string name = n.Xattrs.Keys.ElementAt(_random.Next(n.Xattrs.Count));
            Expect(_fs.RemoveXattr(tx, n.Ino, Encoding.UTF8.GetBytes(name)), WriteStatus.Ok, $"removexattr {n.Ino} {name}");
            n.Xattrs.Remove(name);
            return;
        }

        string key = $"user.attr{_random.Next(6)}";
        byte[] value = _random.Bytes(_random.Next(4) == 0 ? _random.Next(0, 3000) : _random.Next(0, 40));
        Expect(_fs.SetXattr(tx, n.Ino, Encoding.UTF8.GetBytes(key), value), WriteStatus.Ok, $"setxattr {n.Ino} {key}");
        n.Xattrs[key] = value;
    }
}
