// SPDX-License-Identifier: MIT
using System.Text;
using Microsoft.Win32.SafeHandles;
using static Crfs.Testing.LibC;

namespace Crfs.Testing;

/// <summary>The shape of a generated tree; its <c>ToString()</c> is part of every image cache key.</summary>
public sealed record SourceTreeOptions
{
    public int Seed { get; init; } = 1;

    /// <summary>Entries of <c>wide/</c>: enough for a multi-leaf, two-level fs tree at 16 KiB nodes.</summary>
    public int WideDirectoryEntries { get; init; } = 3000;

    /// <summary>Entries of <c>huge/</c> (0: no such directory). 100,000 gives a three-level fs tree.</summary>
    public int HugeDirectoryEntries { get; init; }

    public int DeepDirectoryDepth { get; init; } = 40;

    public int LargeFileMiB { get; init; } = 6;

    /// <summary>
    /// Whether <c>symlinks/max-4095</c> (the longest target Linux allows) is made. mkfs 6.2
    /// --rootdir stores it inline with its NUL, 4096 bytes, which <c>btrfs check</c> then reports
    /// as "inline file extent too large": leave it out of trees meant for mkfs.
    /// </summary>
    public bool MaxLengthSymlink { get; init; } = true;
}

/// <summary>
/// Writes a deterministic source tree that exercises everything a btrfs reader must get right:
/// file size classes around the inline and sector limits, modes with set-id and sticky bits,
/// unusual owners, 255-byte and non-UTF-8 names, short and ~4000-byte symlinks, fifos, sockets,
/// character and block devices, xattrs in every settable namespace (small, ~3900-byte, many per
/// inode, on directories, symlinks and fifos), hard links across directories and 300 in one
/// directory (INODE_EXTREF), holes at the start, middle and end of files, a deep chain of
/// directories, a wide directory and optionally a 100,000-entry one.
/// </summary>
/// <remarks>
/// The same code fills a directory for <c>mkfs.btrfs --rootdir</c> and the root of a kernel
/// mount. Times are set last by <see cref="StampTimes"/> (every entry, children before parents),
/// with nanoseconds and a few extremes, so a copy that drops nanoseconds or sets a directory's time
/// before filling it shows up. Bump <see cref="Version"/> whenever the output changes: it is part
/// of the image cache key.
/// </remarks>
public static class SourceTree
{
    public const int Version = 3;

    private static readonly (uint Uid, uint Gid)[] s_owners =
        [(0, 0), (1000, 1000), (12345, 54321), (65534, 65534), (4000000000, 3000000000)];

    public static void Populate(string root, SourceTreeOptions options)
    {
        var w = new Writer(Encoding.UTF8.GetBytes(root), options.Seed);
        SizeClasses(w, options);
        Modes(w);
        Names(w);
        Symlinks(w, options);
        Special(w);
        Xattrs(w);
        HardLinks(w);
        Sparse(w);
        Deep(w, options);
        Wide(w, options);
        if (options.HugeDirectoryEntries > 0)
        {
            Huge(w, options);
        }

        Times(w);
        w.Chown("", 0, 0);
        w.Chmod("", Octal("755"));
        LibC.SetXattr(w.Path(""), "user.root", "root directory"u8);
    }

    /// <summary>
    /// Sets atime and mtime of every entry under <paramref name="root"/> (and of the root) from the
    /// seed and the entry's path, children before their directory.
    /// </summary>
    public static void StampTimes(string root, int seed)
    {
        byte[] rootBytes = Encoding.UTF8.GetBytes(root);
        Stamp(rootBytes, [], seed);
    }

    /// <summary>Stamps one entry only (a directory whose children were stamped before it changed).</summary>
    public static void StampOne(string root, string relative, int seed)
    {
        byte[] rel = Encoding.UTF8.GetBytes(relative);
        byte[] abs = rel.Length == 0 ? Encoding.UTF8.GetBytes(root) : ByteNames.Join(root, rel);
        (Timespec atime, Timespec mtime) = TimesFor(rel, seed);
        LibC.SetTimes(abs, atime, mtime);
    }

    private static void Stamp(byte[] absolute, byte[] relative, int seed)
    {
        StatxResult st = LibC.Lstat(absolute);
        if (st.FileType == LibC.IFDIR)
        {
            foreach (byte[] name in LibC.ReadDirectory(absolute))
            {
                Stamp(ByteNames.Join(absolute, name), relative.Length == 0 ? name : ByteNames.Join(relative, name), seed);
            }
        }

        (Timespec atime, Timespec mtime) = TimesFor(relative, seed);
        LibC.SetTimes(absolute, atime, mtime);
    }

    private static (Timespec Atime, Timespec Mtime) TimesFor(byte[] relative, int seed)
    {
        string shown = ByteNames.Escape(relative);
        var r = SeededRandom.For(seed, "times:" + shown);
        var mtime = new Timespec(1_000_000_000 + r.Next(900_000_000), (uint)r.Next(1_000_000_000));
        var atime = new Timespec(mtime.Seconds + r.Next(100_000_000), (uint)r.Next(1_000_000_000));
        return shown switch
        {
            "times/epoch" => (new Timespec(0, 0), new Timespec(0, 0)),
            "times/before-1970" => (new Timespec(-1, 999_999_999), new Timespec(-315_619_200, 123_456_789)),
            "times/year-2200" => (new Timespec(7_258_118_400, 1), new Timespec(7_258_118_400, 999_999_999)),
            "times/atime-older-than-mtime" => (new Timespec(1_100_000_000, 5), new Timespec(1_600_000_000, 7)),
            "times/whole-seconds" => (new Timespec(1_500_000_000, 0), new Timespec(1_500_000_001, 0)),
            _ => (atime, mtime),
        };
    }

    private static void SizeClasses(Writer w, SourceTreeOptions o)
    {
        w.Dir("sizes");
        foreach (int size in (int[])[0, 1, 100, 2000, 2047, 2048, 2049, 3000, 4095, 4096, 4097, 8191, 8192, 65536, 131073, 1 << 20])
        {
            w.File($"sizes/random-{size}", w.Random("size" + size).Bytes(size));
        }

        foreach (int size in (int[])[100, 2000, 3000, 8000, 20000, 1 << 20])
        {
            w.File($"sizes/text-{size}", w.Random("text" + size).Text(size));
        }

        w.File("sizes/zeros-1m", new byte[1 << 20]);
        w.File($"sizes/random-{o.LargeFileMiB}m", w.Random("large").Bytes(o.LargeFileMiB << 20));
        w.File("sizes/text-3m", w.Random("text-large").Text(3 << 20));

        // 64 KiB runs of random, text and zeros: compressed extents next to incompressible ones.
        byte[] mixed = new byte[5 << 20];
        SeededRandom mr = w.Random("mixed");
        for (int off = 0, i = 0; off < mixed.Length; off += 65536, i++)
        {
            Span<byte> run = mixed.AsSpan(off, 65536);
            if (i % 3 == 0)
            {
                mr.Fill(run);
            }
            else if (i % 3 == 1)
            {
                mr.FillText(run);
            }
        }

        w.File("sizes/mixed-5m", mixed);
    }

    private static void Modes(Writer w)
    {
        w.Dir("modes");
        uint[] fileModes = [Octal("000"), Octal("400"), Octal("444"), Octal("600"), Octal("644"), Octal("755"), Octal("777"), Octal("4755"), Octal("2755"), Octal("6755"), Octal("1644"), Octal("7777")];
        for (int i = 0; i < fileModes.Length; i++)
        {
            (uint uid, uint gid) = s_owners[i % s_owners.Length];
            string path = $"modes/file-{Convert.ToString(fileModes[i], 8).PadLeft(4, '0')}";
            w.File(path, w.Random(path).Text(50 + i), fileModes[i]);
            w.Chown(path, uid, gid);
            w.Chmod(path, fileModes[i]);
        }

        uint[] dirModes = [Octal("700"), Octal("1777"), Octal("2775"), Octal("000"), Octal("555")];
        for (int i = 0; i < dirModes.Length; i++)
        {
            (uint uid, uint gid) = s_owners[(i + 2) % s_owners.Length];
            string path = $"modes/dir-{Convert.ToString(dirModes[i], 8).PadLeft(4, '0')}";
            w.Dir(path);
            if (dirModes[i] != 0)
            {
                // A directory that is not writable after the copy: its contents must come first.
                w.File(path + "/inside", w.Random(path).Text(10));
            }

            w.Chown(path, uid, gid);
            w.Chmod(path, dirModes[i]);
        }

        w.Dir("modes/owners");
        foreach ((uint uid, uint gid) in s_owners)
        {
            string path = $"modes/owners/u{uid}-g{gid}";
            w.File(path, Encoding.UTF8.GetBytes(path));
            w.Chown(path, uid, gid);
        }
    }

    private static void Names(Writer w)
    {
        w.Dir("names");
        string ascii255 = new('n', 255);
        string utf8 = string.Concat(Enumerable.Repeat("é", 127)) + "x";
        string cjk = string.Concat(Enumerable.Repeat("日本語", 28)) + "z";
        List<byte[]> names =
        [
            Encoding.UTF8.GetBytes(ascii255),
            Encoding.UTF8.GetBytes(utf8),
            Encoding.UTF8.GetBytes(cjk),
            "ファイル名.txt"u8.ToArray(),
            "emoji-📁🗂️✅"u8.ToArray(),
            "with space"u8.ToArray(),
            "with\nnewline"u8.ToArray(),
            "tab\there"u8.ToArray(),
            "-leading-dash"u8.ToArray(),
            ".hidden"u8.ToArray(),
            "..."u8.ToArray(),
            "quote'\"`$(x)"u8.ToArray(),
            "back\\slash"u8.ToArray(),
            "star*?[a]"u8.ToArray(),
            [0x66, 0xFF, 0xFE, 0x80, 0x2E, 0x62, 0x69, 0x6E],
            [(byte)'c', (byte)'a', (byte)'f', 0xE9],
            [0x01, 0x02, 0x7F],
        ];
        foreach (byte[] name in names)
        {
            w.FileBytes(ByteNames.Join("names"u8, name), name);
        }

        // A 255-byte directory name holding a 255-byte file name, and an empty 255-byte directory.
        string dir255 = "d" + new string('n', 254);
        w.Dir("names/" + dir255);
        w.File("names/" + dir255 + "/" + utf8, "nested long names"u8.ToArray());
        w.Dir("names/" + string.Concat(Enumerable.Repeat("ü", 127)) + "d");
    }

    private static void Symlinks(Writer w, SourceTreeOptions o)
    {
        w.Dir("symlinks");
        w.Symlink("symlinks/short", "t"u8);
        w.Symlink("symlinks/relative", "../sizes/random-4096"u8);
        w.Symlink("symlinks/absolute", "/etc/hostname"u8);
        w.Symlink("symlinks/dangling", "does/not/exist"u8);
        w.Symlink("symlinks/to-directory", "../names"u8);
        w.Symlink("symlinks/utf8-target", "名前/ファイル"u8);
        w.Symlink("symlinks/byte-target", [0x61, 0xFF, 0x2F, 0xC0, 0x62]);
        w.Symlink("symlinks/long-4000", Encoding.UTF8.GetBytes(LongTarget(4000)));
        if (o.MaxLengthSymlink)
        {
            w.Symlink("symlinks/max-4095", Encoding.UTF8.GetBytes(LongTarget(4095)));
        }

        w.Chown("symlinks/short", 1000, 1000);
    }

    private static string LongTarget(int length)
    {
        var sb = new StringBuilder();
        for (int i = 0; sb.Length < length; i++)
        {
            sb.Append($"segment-{i:D4}/");
        }

        return sb.ToString(0, length);
    }

    private static void Special(Writer w)
    {
        w.Dir("special");
        w.Node("special/fifo", LibC.IFIFO | Octal("644"), 0, 0);
        w.Node("special/fifo-0600", LibC.IFIFO | Octal("600"), 0, 0);
        w.Node("special/null", LibC.IFCHR | Octal("666"), 1, 3);
        w.Node("special/pts-like", LibC.IFCHR | Octal("620"), 136, 5);
        w.Node("special/char-max", LibC.IFCHR | Octal("600"), 4095, 1048575);
        w.Node("special/sdb1", LibC.IFBLK | Octal("660"), 8, 17);
        w.Node("special/block-wide-minor", LibC.IFBLK | Octal("600"), 259, 300000);
        w.Node("special/socket", LibC.IFSOCK | Octal("755"), 0, 0);
        w.Chown("special/sdb1", 0, 6);
        w.Chown("special/pts-like", 1000, 5);
    }

    private static void Xattrs(Writer w)
    {
        w.Dir("xattrs");
        w.File("xattrs/small", "x"u8.ToArray());
        LibC.SetXattr(w.Path("xattrs/small"), "user.a", "1"u8);
        LibC.SetXattr(w.Path("xattrs/small"), "user.empty", []);

        w.File("xattrs/large", []);
        LibC.SetXattr(w.Path("xattrs/large"), "user.big", w.Random("big-xattr").Bytes(3900));
        LibC.SetXattr(w.Path("xattrs/large"), "user.text", w.Random("text-xattr").Text(3900));

        w.File("xattrs/many", "many"u8.ToArray());
        SeededRandom r = w.Random("many-xattrs");
        for (int i = 0; i < 120; i++)
        {
            LibC.SetXattr(w.Path("xattrs/many"), $"user.attr-{i:D3}-{r.Identifier(r.Next(1, 40))}", r.Bytes(r.Next(0, 300)));
        }

        w.File("xattrs/namespaces", "ns"u8.ToArray());
        LibC.SetXattr(w.Path("xattrs/namespaces"), "user.u", "user value"u8);
        LibC.SetXattr(w.Path("xattrs/namespaces"), "trusted.t", "trusted value"u8);
        LibC.SetXattr(w.Path("xattrs/namespaces"), "security.crfs-test", "security value"u8);
        LibC.SetXattr(w.Path("xattrs/namespaces"), "user.binary", [0, 1, 2, 0, 255, 0]);
        LibC.SetXattr(w.Path("xattrs/namespaces"), "user." + new string('k', 250), "longest name"u8);

        w.Dir("xattrs/directory");
        LibC.SetXattr(w.Path("xattrs/directory"), "user.dir", "d"u8);
        LibC.SetXattr(w.Path("xattrs/directory"), "trusted.dir", w.Random("dir-xattr").Bytes(1000));

        w.Symlink("xattrs/symlink", "small"u8);
        LibC.SetXattr(w.Path("xattrs/symlink"), "trusted.link", "on a symlink"u8);
        w.Node("xattrs/fifo", LibC.IFIFO | Octal("644"), 0, 0);
        LibC.SetXattr(w.Path("xattrs/fifo"), "trusted.fifo", "on a fifo"u8);
    }

    private static void HardLinks(Writer w)
    {
        w.Dir("links");
        w.Dir("links/a");
        w.Dir("links/b");
        w.Dir("links/c");
        w.Dir("links/c/d");
        w.File("links/a/original", w.Random("linked").Bytes(10000));
        w.Link("links/a/original", "links/b/second-name");
        w.Link("links/a/original", "links/c/d/third-name");
        w.Link("links/a/original", "links/top-level-name");

        // 300 long names for one inode in one directory overflow the INODE_REF item: INODE_EXTREF.
        w.Dir("links/many");
        w.File("links/many/target", "target of 300 links"u8.ToArray());
        for (int i = 0; i < 300; i++)
        {
            w.Link("links/many/target", $"links/many/{i:D3}-{new string('l', 200)}");
        }

        w.Symlink("links/symlink-one", "a/original"u8);
        w.Link("links/symlink-one", "links/symlink-two");
        w.Node("links/fifo-one", LibC.IFIFO | Octal("644"), 0, 0);
        w.Link("links/fifo-one", "links/b/fifo-two");
        w.Node("links/device-one", LibC.IFCHR | Octal("644"), 1, 5);
        w.Link("links/device-one", "links/c/device-two");
        w.File("links/with-xattr", "linked with xattr"u8.ToArray());
        LibC.SetXattr(w.Path("links/with-xattr"), "user.linked", "yes"u8);
        w.Link("links/with-xattr", "links/b/with-xattr-too");
    }

    private static void Sparse(Writer w)
    {
        w.Dir("sparse");
        SeededRandom r = w.Random("sparse");
        w.Sparse("sparse/hole-at-start", 1 << 20, [((1 << 20) - 4096, r.Bytes(4096))]);
        w.Sparse("sparse/hole-in-middle", (2 << 20) + 65536, [(0, r.Bytes(65536)), (2 << 20, r.Bytes(65536))]);
        w.Sparse("sparse/hole-at-end", 3 << 20, [(0, r.Bytes(4096))]);
        w.Sparse("sparse/all-hole", 2 << 20, []);
        w.Sparse("sparse/unaligned", 20000, [(5000, r.Bytes(4000)), (13000, r.Text(100))]);
        w.Sparse("sparse/many-holes", 1 << 20, [.. Enumerable.Range(0, 16).Select(i => ((long)i * 65536, r.Bytes(4096)))]);
    }

    private static void Deep(Writer w, SourceTreeOptions o)
    {
        var path = new StringBuilder("deep");
        w.Dir("deep");
        for (int i = 0; i < o.DeepDirectoryDepth; i++)
        {
            path.Append($"/level-{i:D2}");
            w.Dir(path.ToString());
            if (i % 10 == 9)
            {
                w.File(path + "/file", Encoding.UTF8.GetBytes(path.ToString()));
            }
        }

        w.File(path + "/bottom", "bottom of the deep chain"u8.ToArray());
    }

    private static void Wide(Writer w, SourceTreeOptions o)
    {
        w.Dir("wide");
        SeededRandom r = w.Random("wide");
        for (int i = 0; i < o.WideDirectoryEntries; i++)
        {
            string path = $"wide/w-{i:D5}-{r.Identifier(r.Next(5, 60))}";
            if (i % 10 == 7)
            {
                w.Dir(path);
                if (i % 20 == 7)
                {
                    w.File(path + "/only-child", r.Text(r.Next(0, 100)));
                }
            }
            else
            {
                w.File(path, r.Bytes(r.Next(0, 300)));
            }
        }
    }

    private static void Huge(Writer w, SourceTreeOptions o)
    {
        w.Dir("huge");
        SeededRandom r = w.Random("huge");
        for (int i = 0; i < o.HugeDirectoryEntries; i++)
        {
            string path = $"huge/entry-{i:D6}-{r.Identifier(r.Next(0, 20))}";
            w.File(path, i % 1000 == 0 ? Encoding.UTF8.GetBytes(path) : []);
        }
    }

    private static void Times(Writer w)
    {
        w.Dir("times");
        foreach (string name in (string[])["epoch", "before-1970", "year-2200", "atime-older-than-mtime", "whole-seconds"])
        {
            w.File("times/" + name, Encoding.UTF8.GetBytes(name));
        }

        w.Dir("times/directory-before-1970");
    }

    /// <summary>Creates entries below one root, by byte path, with explicit modes (umask ignored).</summary>
    private sealed class Writer(byte[] root, int seed)
    {
        public SeededRandom Random(string purpose) => SeededRandom.For(seed, purpose);

        public byte[] Path(string relative) => relative.Length == 0 ? root : ByteNames.Join(root, Encoding.UTF8.GetBytes(relative));

        public void Dir(string relative) => Dir(relative, Octal("755"));

        public void Dir(string relative, uint mode)
        {
            byte[] p = Path(relative);
            LibC.MkDir(p, mode);
            LibC.Chmod(p, mode);
        }

        public void File(string relative, byte[] content) => File(relative, content, Octal("644"));

        public void File(string relative, byte[] content, uint mode) => FileBytes(Encoding.UTF8.GetBytes(relative), content, mode);

        public void FileBytes(byte[] relative, byte[] content) => FileBytes(relative, content, Octal("644"));

        public void FileBytes(byte[] relative, byte[] content, uint mode)
        {
            byte[] p = ByteNames.Join(root, relative);
            using (SafeFileHandle h = LibC.Open(p, LibC.O_WRONLY | LibC.O_CREAT | LibC.O_EXCL, mode))
            {
                RandomAccess.Write(h, content, 0);
            }

            LibC.Chmod(p, mode);
        }

        public void Sparse(string relative, long size, (long Offset, byte[] Data)[] pieces)
        {
            byte[] p = Path(relative);
            using SafeFileHandle h = LibC.Open(p, LibC.O_WRONLY | LibC.O_CREAT | LibC.O_EXCL, Octal("644"));
            foreach ((long offset, byte[] data) in pieces)
            {
                RandomAccess.Write(h, data, offset);
            }

            RandomAccess.SetLength(h, size);
        }

        public void Symlink(string relative, ReadOnlySpan<byte> target) => LibC.Symlink(target, Path(relative));

        public void Node(string relative, uint mode, uint major, uint minor)
        {
            byte[] p = Path(relative);
            LibC.MkNod(p, mode, major, minor);
            LibC.Chmod(p, mode & ~LibC.IFMT);
        }

        public void Link(string existing, string relative) => LibC.Link(Path(existing), Path(relative));

        public void Chown(string relative, uint uid, uint gid) => LibC.Lchown(Path(relative), uid, gid);

        public void Chmod(string relative, uint mode) => LibC.Chmod(Path(relative), mode);
    }
}
