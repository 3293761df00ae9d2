// SPDX-License-Identifier: MIT
using System.Text.RegularExpressions;
using Crfs.Testing;

namespace Crfs.Differential.Tests;

/// <summary>
/// Checks the oracle side before anything is compared with it: each image really contains what the
/// corpus promises (as the kernel sees it), so a differential test that passes has tested something.
/// These need no crfs code at all.
/// </summary>
[Collection(ImageCollection.Name)]
public sealed partial class CorpusTests(ImageCatalog catalog)
{
    public static TheoryData<string> AllImages => [.. StandardImages.All.Select(r => r.Name)];

    [SkippableTheory]
    [MemberData(nameof(AllImages))]
    public void KernelView_OfEachImage_ContainsEveryFeatureOfTheCorpus(string image)
    {
        Skip.IfNot(Capabilities.CanLoopMountBtrfs, "needs root, mkfs.btrfs and loop-mountable btrfs");
        PreparedImage img = catalog.Get(image);
        TreeManifest m = img.KernelManifest;

        Assert.True(m.Entries.Count > img.Recipe.Tree.WideDirectoryEntries + img.Recipe.Tree.HugeDirectoryEntries, $"{m.Entries.Count} entries");
        Assert.Equal(4000, m["/symlinks/long-4000"].SymlinkTarget!.Length);
        if (img.Recipe.Tree.MaxLengthSymlink)
        {
            Assert.Equal(4095, m["/symlinks/max-4095"].SymlinkTarget!.Length);
        }

        Assert.Equal(3900, m["/xattrs/large"].Xattrs["user.big"].Length);
        Assert.True(m["/xattrs/many"].Xattrs.Count >= 120);
        Assert.Contains("trusted.t", m["/xattrs/namespaces"].Xattrs.Keys);
        Assert.Contains("security.crfs-test", m["/xattrs/namespaces"].Xattrs.Keys);
        Assert.Contains("trusted.link", m["/xattrs/symlink"].Xattrs.Keys);
        Assert.Contains(@"/names/f\xFF\xFE\x80.bin", m.Entries.Keys);
        Assert.Equal(255, m.Entries.Values.Max(e => e.PathBytes.Length - 1 - Array.LastIndexOf(e.PathBytes, (byte)'/')));

        List<SortedSet<string>> groups = m.HardLinkGroups();
        Assert.Contains(groups, g => g.Count == 4 && g.Contains("/links/a/original") && g.Contains("/links/c/d/third-name"));
        Assert.Contains(groups, g => g.Count == 301 && g.Contains("/links/many/target"));
        Assert.Contains(groups, g => g.Contains("/links/symlink-one") && g.Contains("/links/symlink-two"));

        foreach (EntryKind kind in Enum.GetValues<EntryKind>())
        {
            Assert.Contains(m.Entries.Values, e => e.Kind == kind);
        }

        if (img.Recipe.WrittenByKernel)
        {
            // What mkfs 6.2 --rootdir loses (btrfs-format.md §5.9) must be present here.
            Assert.Equal("8:17", $"{m["/special/sdb1"].RdevMajor}:{m["/special/sdb1"].RdevMinor}");
            Assert.Equal("4095:1048575", $"{m["/special/char-max"].RdevMajor}:{m["/special/char-max"].RdevMinor}");
            Assert.Equal(new Timespec(-315_619_200, 123_456_789), m["/times/before-1970"].Mtime);
            Assert.NotEmpty(m["/sparse/hole-in-middle"].HoleRanges());
            Assert.NotEmpty(m["/kernel/punched"].HoleRanges());
            Assert.NotEmpty(m["/kernel/dd-seek-far"].HoleRanges());
            Assert.NotEqual(m["/"].Identity.Device, m["/subvolumes/subvol-a"].Identity.Device);
            Assert.NotEqual(m["/subvolumes/subvol-a"].Identity.Device, m["/subvolumes/subvol-a/nested/deeper"].Identity.Device);
            Assert.Equal(m["/subvolumes/subvol-b/data"].ContentSha256, m["/snapshots/ro-snap-b/data"].ContentSha256);
            Assert.NotEqual(m["/subvolumes/subvol-b/data"].ContentSha256, m["/snapshots/snap-b/data"].ContentSha256);
        }
    }

    [SkippableTheory]
    [MemberData(nameof(AllImages))]
    public void FsTree_OfEachImage_HasInternalNodes(string image)
    {
        Skip.IfNot(Capabilities.CanLoopMountBtrfs, "needs root, mkfs.btrfs and loop-mountable btrfs");
        PreparedImage img = catalog.Get(image);
        string dump = ProcessRunner.Run("btrfs", "inspect-internal", "dump-tree", "-t", "5", img.Path).EnsureSuccess().StdOut;
        int topLevel = RootLevel().Matches(dump).Select(x => int.Parse(x.Groups[1].Value)).DefaultIfEmpty(0).Max();
        Assert.True(topLevel >= (img.Recipe.Tree.HugeDirectoryEntries > 0 ? 2 : 1), $"fs tree of {image} has root level {topLevel}");
    }

    /// <summary>
    /// mkfs --rootdir keeps contents, modes, owners, xattrs, symlinks and hard links of the source
    /// (it loses nanoseconds and device numbers, §5.9): the kernel's view of the image must show
    /// them, or the generated corpus is not what the image holds. The root directory is left out:
    /// mkfs 6.2 does not copy the root's xattrs.
    /// </summary>
    [SkippableFact]
    public void RootDirImage_KernelView_MatchesSourceTreeInWhatMkfsPreserves()
    {
        Skip.IfNot(Capabilities.CanLoopMountBtrfs, "needs root, mkfs.btrfs and loop-mountable btrfs");
        PreparedImage img = catalog.Get(StandardImages.RootDirDefault.Name);
        TreeManifest source;
        using (LoopMount mount = LoopMount.Mount(BtrfsImages.Get(BtrfsImages.SourceRecipe(img.Recipe.RootDir!)), readOnly: true))
        {
            source = TreeManifest.Capture(mount.MountPoint);
        }

        TreeManifest.AssertSame(
            source,
            img.KernelManifest,
            ManifestFields.Kind | ManifestFields.Permissions | ManifestFields.Owner | ManifestFields.Size | ManifestFields.Content
                | ManifestFields.Xattrs | ManifestFields.LinkCount | ManifestFields.HardLinks | ManifestFields.SymlinkTarget,
            compareRoot: false,
            context: "source tree vs kernel mount of its mkfs --rootdir image");
    }

    [GeneratedRegex(@"^node \d+ level (\d+)", RegexOptions.Multiline)]
    private static partial Regex RootLevel();
}
