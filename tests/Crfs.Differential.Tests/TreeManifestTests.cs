// SPDX-License-Identifier: MIT
using System.Text;
using Crfs.Testing;

namespace Crfs.Differential.Tests;

/// <summary>
/// The comparison is the instrument of every differential test, so it is tested itself: a copy
/// made by <c>cp -a</c> compares equal, and each kind of damage is reported as
/// <c>path: field expected X actual Y</c>. Runs on the host's file system; no btrfs needed.
/// </summary>
public sealed class TreeManifestTests : IDisposable
{
    private readonly ScratchDirectory _dir = new("crfs-manifest-test");

    public TreeManifestTests()
    {
        string src = _dir.Combine("src");
        Directory.CreateDirectory(Path.Combine(src, "a/b"));
        File.WriteAllText(Path.Combine(src, "a/file"), "hello");
        File.WriteAllBytes(Path.Combine(src, "a/b/other"), new byte[10]);
        ProcessRunner.Bash($"""
            cd '{src}'
            ln a/file a/b/link
            ln -s ../file a/b/symlink
            mkfifo fifo
            truncate -s 1M sparse && printf data | dd of=sparse bs=4096 seek=100 conv=notrunc status=none
            setfattr -n user.k -v value a/file
            printf '\xff\xfe' | xargs -0 touch
            touch -h -m -d @981173106.123456789 a/file a/b/symlink a/b/other a/b a fifo sparse .
            touch -h -a -d @4102444800.000000005 a/file a/b/symlink a/b/other a/b a fifo sparse .
            """).EnsureSuccess();
    }

    private string Src => _dir.Combine("src");

    private string CopyOfSource()
    {
        string copy = _dir.Combine("copy");
        ProcessRunner.Run("cp", "-a", Src, copy).EnsureSuccess();
        return copy;
    }

    [Fact]
    public void Compare_CopyMadeByCpA_ReportsNothing()
    {
        TreeManifest expected = TreeManifest.Capture(Src);
        TreeManifest actual = TreeManifest.Capture(CopyOfSource());
        Assert.Empty(TreeManifest.Compare(expected, actual, ManifestFields.Settable));
        Assert.Contains(@"/\xFF\xFE", actual.Entries.Keys);
    }

    [Fact]
    public void Capture_RecordsAtimesFromBeforeItReadEachEntry()
    {
        // Atimes older than ctimes move under relatime when an entry is read. The walk records
        // them first, reads directories with O_NOATIME and cannot help moving a symlink's atime.
        var old = new Timespec(981173106, 123456789);
        ProcessRunner.Run("touch", "-h", "-a", "-d", "@981173106.123456789", Path.Combine(Src, "a/b/symlink"), Path.Combine(Src, "a/b")).EnsureSuccess();

        TreeManifest first = TreeManifest.Capture(Src);
        TreeManifest second = TreeManifest.Capture(Src);

        Assert.Equal(old, first["/a/b/symlink"].Atime);
        Assert.Equal(old, first["/a/b"].Atime);
        Assert.Equal(old, second["/a/b"].Atime);
        Assert.NotEqual(old, second["/a/b/symlink"].Atime);
    }

    [Fact]
    public void Compare_ChangedMtimeNanoseconds_ReportsPathAndBothTimes()
    {
        TreeManifest expected = TreeManifest.Capture(Src);
        string copy = CopyOfSource();
        ProcessRunner.Run("touch", "-m", "-d", "@981173106.123456788", Path.Combine(copy, "a/b/other")).EnsureSuccess();

        List<string> diffs = TreeManifest.Compare(expected, TreeManifest.Capture(copy), ManifestFields.Settable);

        string diff = Assert.Single(diffs);
        Assert.StartsWith("/a/b/other: mtime expected ", diff);
        Assert.EndsWith(" actual 981173106.123456788", diff);
    }

    [Fact]
    public void Compare_BrokenHardLink_ReportsTheGroupsAndTheLinkCount()
    {
        TreeManifest expected = TreeManifest.Capture(Src);
        string copy = CopyOfSource();
        ProcessRunner.Bash($"cd '{copy}' && cp -a a/b/link tmp && mv tmp a/b/link").EnsureSuccess();

        List<string> diffs = TreeManifest.Compare(expected, TreeManifest.Capture(copy), ManifestFields.Settable);

        Assert.Contains("/a/b/link: nlink expected 2 actual 1", diffs);
        Assert.Contains(diffs, d => d.Contains("hard-link group expected {/a/b/link, /a/file} actual {", StringComparison.Ordinal));
    }

    [Fact]
    public void Compare_HoleFilledWithZeros_ReportsTheHole()
    {
        TreeManifest expected = TreeManifest.Capture(Src);
        string copy = CopyOfSource();
        ProcessRunner.Bash($"cd '{copy}' && dd if=/dev/zero of=sparse bs=4096 count=1 seek=3 conv=notrunc status=none && touch -m -d @981173106.123456789 sparse").EnsureSuccess();

        List<string> diffs = TreeManifest.Compare(expected, TreeManifest.Capture(copy), ManifestFields.Settable);

        Assert.Equal(["/sparse: hole [0, 409600) expected, actual has data at [12288, 16384)"], diffs);
    }

    [Fact]
    public void Compare_XattrSymlinkAndModeChanges_AreEachReported()
    {
        TreeManifest expected = TreeManifest.Capture(Src);
        string copy = CopyOfSource();
        ProcessRunner.Bash($"""
            cd '{copy}'
            setfattr -n user.k -v other a/file
            rm a/b/symlink && ln -s elsewhere a/b/symlink
            chmod 600 a/b/other && rm fifo && touch fifo
            """).EnsureSuccess();

        List<string> diffs = TreeManifest.Compare(expected, TreeManifest.Capture(copy), ManifestFields.Settable & ~ManifestFields.Mtime & ~ManifestFields.Atime);

        // The xattr belongs to the inode, so both of its names report it.
        Assert.Equal(
            [
                "/a/b/link: xattr user.k expected 5 bytes 'value' (sha256 cd42404d52ad) actual 5 bytes 'other' (sha256 d9298a10d1b0)",
                "/a/b/other: mode expected 0644 actual 0600",
                "/a/b/symlink: symlink target expected '../file' actual 'elsewhere'",
                "/a/file: xattr user.k expected 5 bytes 'value' (sha256 cd42404d52ad) actual 5 bytes 'other' (sha256 d9298a10d1b0)",
                "/fifo: kind expected Fifo actual Regular",
            ],
            diffs);
    }

    [Fact]
    public void Compare_MissingAndExtraEntries_AreReported()
    {
        TreeManifest expected = TreeManifest.Capture(Src);
        string copy = CopyOfSource();
        ProcessRunner.Bash($"cd '{copy}' && rm -r a/b && mkdir extra").EnsureSuccess();

        List<string> diffs = TreeManifest.Compare(expected, TreeManifest.Capture(copy), ManifestFields.Kind);

        Assert.Equal(["/a/b: missing (expected Directory)", "/a/b/link: missing (expected Regular)", "/a/b/other: missing (expected Regular)",
            "/a/b/symlink: missing (expected Symlink)", "/extra: unexpected Directory"], diffs);
    }

    [Theory]
    [InlineData(new byte[] { 0x61, 0xFF, 0x62 }, @"a\xFFb")]
    [InlineData(new byte[] { 0x5C, 0x0A, 0xC3, 0xA9 }, @"\\\x0Aé")]
    [InlineData(new byte[] { 0xE6, 0x97, 0xA5, 0xE6, 0x97 }, @"日\xE6\x97")]
    public void ByteNames_Escape_IsReadableAndRoundTrips(byte[] name, string shown)
    {
        Assert.Equal(shown, ByteNames.Escape(name));
        Assert.Equal(name, ByteNames.Unescape(shown));
    }

    [Fact]
    public void ByteNames_UnescapeOfEscape_IsIdentityForEveryByte()
    {
        byte[] all = [.. Enumerable.Range(0, 256).Select(i => (byte)i), .. Encoding.UTF8.GetBytes("ü😀\\x41")];
        Assert.Equal(all, ByteNames.Unescape(ByteNames.Escape(all)));
    }

    public void Dispose() => _dir.Dispose();
}
