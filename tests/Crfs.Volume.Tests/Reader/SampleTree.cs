// SPDX-License-Identifier: MIT
using System.Text;
using Crfs.Format.Checksums;
using Crfs.Testing;

namespace Crfs.Volume.Tests.Reader;

/// <summary>
/// The source tree of the reader's main test image, generated deterministically so that tests can
/// recompute every file's expected bytes without keeping the source around. Covers inline,
/// regular, page-straddling and sparse files, a directory large enough for a two-level fs tree,
/// hard links in several directories (enough long names to overflow INODE_REF into INODE_EXTREF),
/// symlinks, xattrs, and two names whose DIR_ITEM hashes collide.
/// </summary>
internal static class SampleTree
{
    /// <summary>Bump when <see cref="Populate"/> changes, so the cached image is rebuilt.</summary>
    public const int Version = 3;

    public const int WideDirectoryFiles = 600;
    public const int LongLinks = 150;

    public static readonly (string Name, int Size)[] Files =
    [
        ("empty", 0),
        ("small.txt", 5),
        ("inline2000", 2000),
        ("exact4096", 4096),
        ("odd5000", 5000),
        ("big300k", 300 * 1024),
        ("huge3m", (3 << 20) + 123),
    ];

    public static string LongLinkName(int i) => $"link-{i:D4}-" + new string('x', 190);

    public static string WideName(int i) => $"f{i:D4}";

    /// <summary>Deterministic contents for a file name: every byte depends on name and position.</summary>
    public static byte[] Content(string name, int size)
    {
        if (name == "small.txt")
        {
            return "hello"u8.ToArray();
        }

        var bytes = new byte[size];
        new Random(StableHash(name)).NextBytes(bytes);
        return bytes;
    }

    /// <summary>Two short names whose DIR_ITEM hashes collide, found by a deterministic search.</summary>
    public static (string A, string B) CollidingNames()
    {
        var seen = new Dictionary<ulong, string>();
        for (int i = 0; ; i++)
        {
            string name = $"c{i}";
            ulong hash = NameHash.DirItem(Encoding.ASCII.GetBytes(name));
            if (seen.TryGetValue(hash, out string? other))
            {
                return (other, name);
            }

            seen[hash] = name;
        }
    }

    public static void Populate(string root)
    {
        foreach ((string name, int size) in Files)
        {
            File.WriteAllBytes(Path.Combine(root, name), Content(name, size));
        }

        // A sparse file: data at [0, 4096) and [512 KiB, 516 KiB), size 1 MiB.
        string sparse = Path.Combine(root, "sparse");
        using (FileStream s = File.Create(sparse))
        {
            s.Write(Content("sparse-a", 4096));
            s.Seek(512 * 1024, SeekOrigin.Begin);
            s.Write(Content("sparse-b", 4096));
            s.SetLength(1 << 20);
        }

        string wide = Path.Combine(root, "wide");
        Directory.CreateDirectory(wide);
        for (int i = 0; i < WideDirectoryFiles; i++)
        {
            File.WriteAllBytes(Path.Combine(wide, WideName(i)), Content(WideName(i), i % 97));
        }

        Directory.CreateDirectory(Path.Combine(root, "dir", "sub"));
        Link(Path.Combine(root, "small.txt"), Path.Combine(root, "dir", "hard1"));
        Link(Path.Combine(root, "small.txt"), Path.Combine(root, "dir", "sub", "hard2"));
        string links = Path.Combine(root, "links");
        Directory.CreateDirectory(links);
        for (int i = 0; i < LongLinks; i++)
        {
            Link(Path.Combine(root, "odd5000"), Path.Combine(links, LongLinkName(i)));
        }

        File.CreateSymbolicLink(Path.Combine(root, "symlink"), "small.txt");
        File.CreateSymbolicLink(Path.Combine(root, "longlink"), new string('L', 3000));
        SetXattr(Path.Combine(root, "small.txt"), "user.a", "1");
        SetXattr(Path.Combine(root, "small.txt"), "user.big", new string('v', 2000));
        SetXattr(Path.Combine(root, "small.txt"), "trusted.t", "tt");

        string coll = Path.Combine(root, "coll");
        Directory.CreateDirectory(coll);
        (string a, string b) = CollidingNames();
        File.WriteAllText(Path.Combine(coll, a), "A");
        File.WriteAllText(Path.Combine(coll, b), "B");
    }

    public static string Image() => ReaderImages.RootDir("sample", Version, Populate);

    private static void Link(string existing, string path) => ProcessRunner.Run("ln", existing, path).EnsureSuccess();

    private static void SetXattr(string path, string name, string value) =>
        ProcessRunner.Run("setfattr", "-n", name, "-v", value, path).EnsureSuccess();

    private static int StableHash(string s)
    {
        int h = 17;
        foreach (char c in s)
        {
            h = unchecked((h * 31) + c);
        }

        return h;
    }
}
