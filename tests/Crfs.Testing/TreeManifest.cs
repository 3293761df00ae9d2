// SPDX-License-Identifier: MIT
using System.Security.Cryptography;
using System.Text;
using Microsoft.Win32.SafeHandles;
using Xunit;

namespace Crfs.Testing;

/// <summary>What <see cref="TreeManifest.Compare"/> looks at.</summary>
[Flags]
public enum ManifestFields
{
    None = 0,
    Kind = 1 << 0,
    Permissions = 1 << 1,
    Owner = 1 << 2,

    /// <summary>Size of regular files (directory and symlink sizes are file-system specific).</summary>
    Size = 1 << 3,
    Content = 1 << 4,
    Mtime = 1 << 5,
    Atime = 1 << 6,
    Ctime = 1 << 7,
    Xattrs = 1 << 8,

    /// <summary>st_nlink of non-directories (btrfs reports 1 for every directory).</summary>
    LinkCount = 1 << 9,

    /// <summary>Which paths share an inode, compared as sets of paths.</summary>
    HardLinks = 1 << 10,
    Rdev = 1 << 11,
    SymlinkTarget = 1 << 12,

    /// <summary>Every hole of the expected file is a hole in the actual one.</summary>
    Holes = 1 << 13,

    /// <summary>Everything a copy made with ordinary system calls can reproduce (ctime cannot be set).</summary>
    Settable = Kind | Permissions | Owner | Size | Content | Mtime | Atime | Xattrs | LinkCount | HardLinks | Rdev
        | SymlinkTarget | Holes,
}

/// <summary>
/// A manifest of a directory tree: for each path its type, mode, owner, times to the nanosecond,
/// link count, device numbers, extended attributes, content hash, symlink target and map of data
/// and holes (in the spirit of btrfs-progs' fssum). Two manifests taken of different copies of a
/// tree (a kernel mount of an image and a directory that <c>crfs inspect get</c> wrote) are compared
/// field by field; every difference is reported as <c>path: field expected X actual Y</c>.
/// </summary>
/// <remarks>
/// <para>The walk never changes what it records: each entry is stat'ed before it is read (readdir
/// and readlink move atimes), regular files are opened with O_NOATIME, and an inode met again
/// through another hard link reuses the first stat of it.</para>
/// <para>Hard links are compared as groups of paths, never by inode number: the inode numbers of
/// a copy are the destination file system's. Directory link counts and sizes are not compared
/// because btrfs reports 1 and the sum of name lengths where other file systems do not.</para>
/// </remarks>
public sealed class TreeManifest
{
    private readonly SortedDictionary<string, ManifestEntry> _entries;

    private TreeManifest(string root, SortedDictionary<string, ManifestEntry> entries)
    {
        Root = root;
        _entries = entries;
    }

    public string Root { get; }

    public IReadOnlyDictionary<string, ManifestEntry> Entries => _entries;

    public ManifestEntry this[string path] => _entries[path];

    public static TreeManifest Capture(string root, bool hashContents = true)
    {
        var entries = new SortedDictionary<string, ManifestEntry>(StringComparer.Ordinal);
        var seen = new Dictionary<(ulong, ulong), StatxResult>();
        byte[] rootBytes = Encoding.UTF8.GetBytes(root);
        Walk(rootBytes, [], entries, seen, hashContents ? new byte[1 << 20] : null);
        return new TreeManifest(root, entries);
    }

    /// <summary>
    /// The part of this manifest at and below <paramref name="path"/> (escaped form, e.g.
    /// <c>/links</c>), re-rooted so that <paramref name="path"/> becomes "/": the manifest a copy of
    /// just that subtree should have.
    /// </summary>
    public TreeManifest Subtree(string path)
    {
        if (path == "/")
        {
            return this;
        }

        var entries = new SortedDictionary<string, ManifestEntry>(StringComparer.Ordinal);
        foreach ((string p, ManifestEntry e) in _entries)
        {
            string? rel = p == path ? "/" : p.StartsWith(path + "/", StringComparison.Ordinal) ? p[path.Length..] : null;
            if (rel is null)
            {
                continue;
            }

            int cut = e.PathBytes.Length - (rel == "/" ? 0 : ByteNames.Unescape(rel).Length);
            entries.Add(rel, new ManifestEntry
            {
                Path = rel,
                PathBytes = e.PathBytes[cut..],
                Kind = e.Kind,
                Permissions = e.Permissions,
                Uid = e.Uid,
                Gid = e.Gid,
                Size = e.Size,
                LinkCount = e.LinkCount,
                Identity = e.Identity,
                RdevMajor = e.RdevMajor,
                RdevMinor = e.RdevMinor,
                Atime = e.Atime,
                Mtime = e.Mtime,
                Ctime = e.Ctime,
                Blocks = e.Blocks,
                Xattrs = e.Xattrs,
                ContentSha256 = e.ContentSha256,
                SymlinkTarget = e.SymlinkTarget,
                DataRanges = e.DataRanges,
            });
        }

        if (entries.Count == 0)
        {
            throw new ArgumentException($"no entry '{path}' in the manifest of {Root}", nameof(path));
        }

        return new TreeManifest(Root + path, entries);
    }

    /// <summary>
    /// Every difference between an expected manifest (the oracle) and an actual one, one line each.
    /// </summary>
    /// <param name="compareRoot">whether the root entry's own attributes are compared (they are
    /// when the copy created its root directory from the source's root).</param>
    public static List<string> Compare(TreeManifest expected, TreeManifest actual, ManifestFields fields, bool compareRoot = true)
    {
        var diffs = new List<string>();
        foreach ((string path, ManifestEntry e) in expected._entries)
        {
            if (!actual._entries.TryGetValue(path, out ManifestEntry? a))
            {
                diffs.Add($"{path}: missing (expected {Describe(e)})");
                continue;
            }

            if (path == "/" && !compareRoot)
            {
                continue;
            }

            CompareEntry(e, a, fields, diffs);
        }

        foreach ((string path, ManifestEntry a) in actual._entries)
        {
            if (!expected._entries.ContainsKey(path))
            {
                diffs.Add($"{path}: unexpected {Describe(a)}");
            }
        }

        if (fields.HasFlag(ManifestFields.HardLinks))
        {
            CompareHardLinks(expected, actual, diffs);
        }

        return diffs;
    }

    /// <summary>Fails the test with every difference (the first 60 listed) when there is any.</summary>
    public static void AssertSame(TreeManifest expected, TreeManifest actual, ManifestFields fields, bool compareRoot = true, string? context = null)
    {
        List<string> diffs = Compare(expected, actual, fields, compareRoot);
        if (diffs.Count == 0)
        {
            return;
        }

        var sb = new StringBuilder();
        sb.Append(context ?? "manifests differ").Append(": ").Append(diffs.Count)
            .Append(" difference(s) between ").Append(expected.Root).Append(" (expected) and ").Append(actual.Root).Append(" (actual)");
        foreach (string d in diffs.Take(60))
        {
            sb.Append('\n').Append("  ").Append(d);
        }

        if (diffs.Count > 60)
        {
            sb.Append("\n  ... and ").Append(diffs.Count - 60).Append(" more");
        }

        Assert.Fail(sb.ToString());
    }

    /// <summary>The hard-link groups (paths sharing one non-directory inode, two or more paths).</summary>
    public List<SortedSet<string>> HardLinkGroups() =>
        [.. _entries.Values
            .Where(e => e.Kind != EntryKind.Directory)
            .GroupBy(e => e.Identity)
            .Where(g => g.Count() > 1)
            .Select(g => new SortedSet<string>(g.Select(e => e.Path), StringComparer.Ordinal))];

    private static void Walk(
        byte[] absolute,
        byte[] relative,
        SortedDictionary<string, ManifestEntry> entries,
        Dictionary<(ulong, ulong), StatxResult> seen,
        byte[]? hashBuffer)
    {
        StatxResult st = LibC.Lstat(absolute);
        var identity = (((ulong)st.DevMajor << 32) | st.DevMinor, st.Inode);
        EntryKind kind = ManifestEntry.KindOf(st.Mode);
        if (kind != EntryKind.Directory && !seen.TryAdd(identity, st))
        {
            st = seen[identity];
        }

        string shown = relative.Length == 0 ? "/" : ByteNames.Escape(relative);
        string? sha = null;
        byte[]? target = null;
        List<ByteRange>? data = null;
        if (kind == EntryKind.Regular)
        {
            using SafeFileHandle h = LibC.Open(absolute, LibC.O_RDONLY | LibC.O_NOFOLLOW | LibC.O_NOATIME);
            data = MapData(h, st.Size, absolute);
            if (hashBuffer is not null)
            {
                sha = HashContent(h, hashBuffer);
            }
        }
        else if (kind == EntryKind.Symlink)
        {
            target = LibC.ReadLink(absolute);
        }

        entries.Add(shown, new ManifestEntry
        {
            Path = shown,
            PathBytes = relative,
            Kind = kind,
            Permissions = st.Mode & 0xFFF,
            Uid = st.Uid,
            Gid = st.Gid,
            Size = st.Size,
            LinkCount = st.Nlink,
            Identity = identity,
            RdevMajor = st.RdevMajor,
            RdevMinor = st.RdevMinor,
            Atime = st.Atime,
            Mtime = st.Mtime,
            Ctime = st.Ctime,
            Blocks = st.Blocks,
            Xattrs = LibC.ListXattrs(absolute),
            ContentSha256 = sha,
            SymlinkTarget = target,
            DataRanges = data,
        });

        if (kind != EntryKind.Directory)
        {
            return;
        }

        List<byte[]> names = LibC.ReadDirectory(absolute);
        names.Sort((x, y) => x.AsSpan().SequenceCompareTo(y));
        foreach (byte[] name in names)
        {
            Walk(ByteNames.Join(absolute, name), relative.Length == 0 ? [(byte)'/', .. name] : ByteNames.Join(relative, name), entries, seen, hashBuffer);
        }
    }

    private static List<ByteRange> MapData(SafeFileHandle h, long size, byte[] pathForErrors)
    {
        var ranges = new List<ByteRange>();
        long position = 0;
        while (position < size)
        {
            long start = LibC.Seek(h, position, LibC.SEEK_DATA, pathForErrors);
            if (start < 0 || start >= size)
            {
                break;
            }

            long end = LibC.Seek(h, start, LibC.SEEK_HOLE, pathForErrors);
            end = end < 0 ? size : Math.Min(end, size);
            ranges.Add(new ByteRange(start, end));
            position = end;
        }

        return ranges;
    }

    private static string HashContent(SafeFileHandle h, byte[] buffer)
    {
        using var sha = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        long offset = 0;
        while (true)
        {
            int n = RandomAccess.Read(h, buffer, offset);
            if (n == 0)
            {
                break;
            }

            sha.AppendData(buffer, 0, n);
            offset += n;
        }

        return Convert.ToHexStringLower(sha.GetHashAndReset());
    }

    private static void CompareEntry(ManifestEntry e, ManifestEntry a, ManifestFields f, List<string> diffs)
    {
        string p = e.Path;
        if (e.Kind != a.Kind)
        {
            // Nothing else is comparable between a file and, say, a directory.
            if (f.HasFlag(ManifestFields.Kind))
            {
                diffs.Add($"{p}: kind expected {e.Kind} actual {a.Kind}");
            }

            return;
        }

        void Check<T>(ManifestFields field, string name, T expected, T actual)
        {
            if (f.HasFlag(field) && !EqualityComparer<T>.Default.Equals(expected, actual))
            {
                diffs.Add($"{p}: {name} expected {expected} actual {actual}");
            }
        }

        if (e.Kind != EntryKind.Symlink)
        {
            Check(ManifestFields.Permissions, "mode", Octal(e.Permissions), Octal(a.Permissions));
        }

        Check(ManifestFields.Owner, "uid", e.Uid, a.Uid);
        Check(ManifestFields.Owner, "gid", e.Gid, a.Gid);
        Check(ManifestFields.Mtime, "mtime", e.Mtime, a.Mtime);
        Check(ManifestFields.Atime, "atime", e.Atime, a.Atime);
        Check(ManifestFields.Ctime, "ctime", e.Ctime, a.Ctime);
        if (e.Kind == EntryKind.Regular)
        {
            Check(ManifestFields.Size, "size", e.Size, a.Size);
            Check(ManifestFields.Content, "sha256", e.ContentSha256, a.ContentSha256);
            if (f.HasFlag(ManifestFields.Holes))
            {
                CompareHoles(e, a, diffs);
            }
        }

        if (e.Kind != EntryKind.Directory)
        {
            Check(ManifestFields.LinkCount, "nlink", e.LinkCount, a.LinkCount);
        }

        if (e.Kind is EntryKind.CharDevice or EntryKind.BlockDevice)
        {
            Check(ManifestFields.Rdev, "rdev", $"{e.RdevMajor}:{e.RdevMinor}", $"{a.RdevMajor}:{a.RdevMinor}");
        }

        if (e.Kind == EntryKind.Symlink)
        {
            Check(ManifestFields.SymlinkTarget, "symlink target", ShowTarget(e.SymlinkTarget), ShowTarget(a.SymlinkTarget));
        }

        if (f.HasFlag(ManifestFields.Xattrs))
        {
            CompareXattrs(e, a, diffs);
        }
    }

    private static void CompareHoles(ManifestEntry e, ManifestEntry a, List<string> diffs)
    {
        foreach (ByteRange hole in e.HoleRanges())
        {
            ByteRange? data = a.DataRanges?.FirstOrDefault(d => d.Overlaps(hole));
            if (data is { Length: > 0 } d)
            {
                diffs.Add($"{e.Path}: hole {hole} expected, actual has data at {d}");
                return;
            }
        }
    }

    private static void CompareXattrs(ManifestEntry e, ManifestEntry a, List<string> diffs)
    {
        foreach ((string name, byte[] value) in e.Xattrs)
        {
            if (!a.Xattrs.TryGetValue(name, out byte[]? other))
            {
                diffs.Add($"{e.Path}: xattr {name} expected {ShowValue(value)} actual absent");
            }
            else if (!value.AsSpan().SequenceEqual(other))
            {
                diffs.Add($"{e.Path}: xattr {name} expected {ShowValue(value)} actual {ShowValue(other)}");
            }
        }

        foreach ((string name, byte[] value) in a.Xattrs)
        {
            if (!e.Xattrs.ContainsKey(name))
            {
                diffs.Add($"{e.Path}: xattr {name} expected absent actual {ShowValue(value)}");
            }
        }
    }

    private static void CompareHardLinks(TreeManifest expected, TreeManifest actual, List<string> diffs)
    {
        Dictionary<string, SortedSet<string>> Groups(TreeManifest m)
        {
            var byPath = new Dictionary<string, SortedSet<string>>(StringComparer.Ordinal);
            foreach (IGrouping<(ulong, ulong), ManifestEntry> g in m._entries.Values.Where(e => e.Kind != EntryKind.Directory).GroupBy(e => e.Identity))
            {
                var set = new SortedSet<string>(g.Select(e => e.Path), StringComparer.Ordinal);
                foreach (string path in set)
                {
                    byPath[path] = set;
                }
            }

            return byPath;
        }

        Dictionary<string, SortedSet<string>> e = Groups(expected);
        Dictionary<string, SortedSet<string>> a = Groups(actual);
        var reported = new HashSet<string>(StringComparer.Ordinal);
        foreach ((string path, SortedSet<string> group) in e)
        {
            if (!a.TryGetValue(path, out SortedSet<string>? other) || group.SetEquals(other) || !reported.Add(string.Join('\n', group)))
            {
                continue;
            }

            diffs.Add($"{path}: hard-link group expected {{{string.Join(", ", group)}}} actual {{{string.Join(", ", other)}}}");
        }
    }

    private static string Describe(ManifestEntry e) => $"{e.Kind}";

    private static string Octal(uint mode) => "0" + Convert.ToString(mode, 8);

    private static string ShowTarget(byte[]? target) => target is null ? "(none)" : "'" + ByteNames.Escape(target) + "'";

    private static string ShowValue(byte[] value)
    {
        string text = value.Length <= 40 ? ByteNames.Escape(value) : ByteNames.Escape(value.AsSpan(0, 40)) + "...";
        return $"{value.Length} bytes '{text}' (sha256 {Convert.ToHexStringLower(SHA256.HashData(value))[..12]})";
    }
}
