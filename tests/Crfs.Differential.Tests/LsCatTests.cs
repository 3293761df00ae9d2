// SPDX-License-Identifier: MIT
using System.Globalization;
using System.Security.Cryptography;
using System.Text;
using System.Text.RegularExpressions;
using Crfs.Testing;

namespace Crfs.Differential.Tests;

/// <summary>
/// Spot checks of <c>crfs inspect ls</c> and <c>crfs inspect cat</c> against the kernel mount.
/// <c>ls</c> prints one <c>ls -la --full-time</c> line per entry (numeric owners, UTC times with
/// nanoseconds); each line is checked against the kernel's stat of that entry.
/// </summary>
[Collection(ImageCollection.Name)]
public sealed partial class LsCatTests(ImageCatalog catalog)
{
    public static TheoryData<string, string> Directories => new()
    {
        { "rootdir-default", "/" },
        { "rootdir-default", "/sizes" },
        { "rootdir-default", "/modes" },
        { "rootdir-default", "/special" },
        { "rootdir-default", "/symlinks" },
        { "rootdir-default", "/links/many" },
        { "rootdir-huge", "/huge" },
        { "kernel-plain", "/" },
        { "kernel-plain", "/times" },
        { "kernel-plain", "/special" },
        { "kernel-plain", "/subvolumes" },
        { "kernel-zstd", "/kernel" },
    };

    public static TheoryData<string> CatImages => ["rootdir-default", "rootdir-sha256", "kernel-plain", "kernel-lzo"];

    [SkippableTheory]
    [MemberData(nameof(Directories))]
    public void Ls_Directory_EachLineMatchesTheKernelsStat(string image, string directory)
    {
        ImageCatalog.SkipUnlessAvailable();
        PreparedImage img = catalog.Get(image);
        TreeManifest m = img.KernelManifest;
        CliResult r = CrfsCli.RunOk("inspect", "ls", img.Path, directory);

        string prefix = directory == "/" ? "/" : directory + "/";
        var expectedNames = m.Entries.Keys
            .Where(k => k.StartsWith(prefix, StringComparison.Ordinal) && k.Length > prefix.Length && !k.AsSpan(prefix.Length).Contains('/'))
            .Select(k => k[prefix.Length..])
            .ToHashSet(StringComparer.Ordinal);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        foreach (string line in r.StdOutText.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            LsLine l = LsLine.Parse(line);
            string path = l.Name == "." ? directory : prefix + l.Name;
            Assert.True(m.Entries.ContainsKey(path), $"ls printed '{l.Name}', which the kernel does not show in {directory}: {line}");
            Assert.True(l.Name == "." || seen.Add(l.Name), $"ls printed '{l.Name}' twice");
            l.AssertMatches(m[path], line);
        }

        expectedNames.ExceptWith(seen);
        Assert.True(expectedNames.Count == 0, $"ls of {directory} left out: {string.Join(", ", expectedNames.Take(20))}");
    }

    [SkippableTheory]
    [InlineData("rootdir-default", "/sizes/random-4097")]
    [InlineData("rootdir-default", "/special/sdb1")]
    [InlineData("kernel-plain", "/special/char-max")]
    [InlineData("kernel-plain", "/symlinks/relative")]
    public void Ls_SingleEntry_PrintsOneLineMatchingTheKernelsStat(string image, string path)
    {
        ImageCatalog.SkipUnlessAvailable();
        PreparedImage img = catalog.Get(image);
        CliResult r = CrfsCli.RunOk("inspect", "ls", img.Path, path);
        string line = Assert.Single(r.StdOutText.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        LsLine l = LsLine.Parse(line);
        Assert.Equal(path[(path.LastIndexOf('/') + 1)..], l.Name);
        l.AssertMatches(img.KernelManifest[path], line);
    }

    [SkippableTheory]
    [MemberData(nameof(CatImages))]
    public void Cat_RegularFiles_WritesTheBytesTheKernelReads(string image)
    {
        ImageCatalog.SkipUnlessAvailable();
        PreparedImage img = catalog.Get(image);
        string[] dirs = ["/sizes/", "/sparse/", "/kernel/", "/subvolumes/subvol-a/nested/", "/snapshots/snap-b/", "/links/a/"];
        List<ManifestEntry> files = [.. img.KernelManifest.Entries.Values
            .Where(e => e.Kind == EntryKind.Regular && dirs.Any(d => e.Path.StartsWith(d, StringComparison.Ordinal)))];
        Assert.True(files.Count >= 20, $"{files.Count} files to cat");
        foreach (ManifestEntry e in files)
        {
            CliResult r = CrfsCli.RunOk("inspect", "cat", img.Path, e.Path);
            Assert.True(r.StdOut.LongLength == e.Size, $"cat {e.Path}: {r.StdOut.LongLength} bytes, the kernel reads {e.Size}");
            Assert.True(Convert.ToHexStringLower(SHA256.HashData(r.StdOut)) == e.ContentSha256, $"cat {e.Path}: bytes differ from the kernel's");
        }
    }

    [SkippableTheory]
    [InlineData("/sizes")]
    [InlineData("/special/fifo")]
    [InlineData("/no/such/file")]
    public void Cat_NotARegularFile_ExitsOneWithAMessage(string path)
    {
        ImageCatalog.SkipUnlessAvailable();
        PreparedImage img = catalog.Get(StandardImages.RootDirDefault.Name);
        CliResult r = CrfsCli.Run("inspect", "cat", img.Path, path);
        CrfsCli.AssertNoCrash(r);
        Assert.True(r.ExitCode == 1, r.Describe());
        Assert.Empty(r.StdOut);
    }

    [GeneratedRegex(@"^(?<mode>[-dlcbps][-rwxsStT]{9}) +(?<nlink>\d+) +(?<uid>\d+) +(?<gid>\d+) +(?<size>\d+|\d+, *\d+) +(?<time>\d{4,}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{9} [+-]\d{4}|-) +(?<name>.*)$")]
    private static partial Regex LsLinePattern();

    private sealed record LsLine(string Mode, uint Nlink, uint Uid, uint Gid, string Size, string Time, string Name, string? Target)
    {
        public static LsLine Parse(string line)
        {
            Match m = LsLinePattern().Match(line);
            Assert.True(m.Success, $"not an ls -la --full-time line: '{line}'");
            string name = m.Groups["name"].Value;
            string? target = null;
            if (m.Groups["mode"].Value[0] == 'l')
            {
                int arrow = name.IndexOf(" -> ", StringComparison.Ordinal);
                Assert.True(arrow >= 0, $"symlink line without ' -> ': '{line}'");
                target = name[(arrow + 4)..];
                name = name[..arrow];
            }

            return new LsLine(m.Groups["mode"].Value, uint.Parse(m.Groups["nlink"].Value, CultureInfo.InvariantCulture),
                uint.Parse(m.Groups["uid"].Value, CultureInfo.InvariantCulture), uint.Parse(m.Groups["gid"].Value, CultureInfo.InvariantCulture),
                m.Groups["size"].Value, m.Groups["time"].Value, name, target);
        }

        public void AssertMatches(ManifestEntry e, string line)
        {
            Assert.True(Mode == ModeString(e), $"{e.Path}: mode {Mode}, kernel {ModeString(e)}: {line}");
            Assert.True(Uid == e.Uid && Gid == e.Gid, $"{e.Path}: owner {Uid}:{Gid}, kernel {e.Uid}:{e.Gid}: {line}");
            Assert.True(Nlink == e.LinkCount, $"{e.Path}: nlink {Nlink}, kernel {e.LinkCount}: {line}");
            string size = e.Kind is EntryKind.CharDevice or EntryKind.BlockDevice
                ? $"{e.RdevMajor}, {e.RdevMinor}"
                : e.Size.ToString(CultureInfo.InvariantCulture);
            Assert.True(Regex.Replace(Size, ", *", ", ") == size, $"{e.Path}: size {Size}, kernel {size}: {line}");
            string time = DateTimeOffset.FromUnixTimeSeconds(e.Mtime.Seconds).UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)
                + $".{e.Mtime.Nanoseconds:D9} +0000";
            Assert.True(Time == time, $"{e.Path}: mtime {Time}, kernel {time}: {line}");
            if (e.SymlinkTarget is { } t && IsPlain(t))
            {
                Assert.True(Target == Encoding.UTF8.GetString(t), $"{e.Path}: target '{Target}', kernel '{Encoding.UTF8.GetString(t)}'");
            }
        }

        private static bool IsPlain(byte[] bytes) => ByteNames.Escape(bytes) == Encoding.UTF8.GetString(bytes);

        private static string ModeString(ManifestEntry e)
        {
            char type = e.Kind switch
            {
                EntryKind.Directory => 'd',
                EntryKind.Symlink => 'l',
                EntryKind.CharDevice => 'c',
                EntryKind.BlockDevice => 'b',
                EntryKind.Fifo => 'p',
                EntryKind.Socket => 's',
                _ => '-',
            };
            char[] s = [type, .. "rwxrwxrwx"];
            for (int bit = 0; bit < 9; bit++)
            {
                if ((e.Permissions & (1u << (8 - bit))) == 0)
                {
                    s[1 + bit] = '-';
                }
            }

            static char Special(char c, char set, char unset) => c == 'x' ? set : unset;
            if ((e.Permissions & 0x800) != 0)
            {
                s[3] = Special(s[3], 's', 'S');
            }

            if ((e.Permissions & 0x400) != 0)
            {
                s[6] = Special(s[6], 's', 'S');
            }

            if ((e.Permissions & 0x200) != 0)
            {
                s[9] = Special(s[9], 't', 'T');
            }

            return new string(s);
        }
    }
}
