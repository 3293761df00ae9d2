// SPDX-License-Identifier: MIT
using System.Text.RegularExpressions;
using Crfs.Testing;

namespace Crfs.Differential.Tests;

/// <summary>
/// Smoke tests of <c>crfs inspect dump-super</c> and <c>dump-tree</c> against btrfs-progs'
/// <c>inspect-internal</c> on the same image: the same values for the superblock fields that
/// matter, and the same blocks and number of items per tree. Values, not golden text.
/// </summary>
[Collection(ImageCollection.Name)]
public sealed partial class DumpTests(ImageCatalog catalog)
{
    public static TheoryData<string> AllImages => [.. StandardImages.All.Select(r => r.Name)];

    public static TheoryData<string, string> Trees => new()
    {
        { "rootdir-default", "root" },
        { "rootdir-default", "chunk" },
        { "rootdir-default", "extent" },
        { "rootdir-default", "dev" },
        { "rootdir-default", "fs" },
        { "rootdir-default", "csum" },
        { "rootdir-huge", "fs" },
        { "rootdir-n64k", "fs" },
        { "rootdir-blake2", "csum" },
        { "kernel-plain", "root" },
        { "kernel-plain", "extent" },
        { "kernel-plain", "fs" },
        { "kernel-zstd", "fs" },
        { "kernel-zstd", "csum" },
    };

    [SkippableTheory]
    [MemberData(nameof(AllImages))]
    public void DumpSuper_KeyFields_EqualBtrfsProgs(string image)
    {
        ImageCatalog.SkipUnlessAvailable();
        PreparedImage img = catalog.Get(image);
        Dictionary<string, string> expected = BtrfsProgs.DumpSuper(img.Path);
        CliResult r = CrfsCli.RunOk("inspect", "dump-super", img.Path);
        var actual = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match m in SuperField().Matches(r.StdOutText))
        {
            actual.TryAdd(m.Groups[1].Value, m.Groups[2].Value);
        }

        foreach (string field in (string[])["bytenr", "generation", "root", "root_level", "chunk_root", "chunk_root_generation", "total_bytes",
            "bytes_used", "sectorsize", "nodesize", "num_devices", "csum_type", "fsid", "compat_ro_flags", "incompat_flags"])
        {
            Assert.True(expected.ContainsKey(field), $"btrfs-progs printed no {field}");
            Assert.True(actual.TryGetValue(field, out string? value), $"crfs dump-super printed no {field}:\n{r.StdOutText}");
            Assert.True(expected[field] == value, $"{field}: btrfs-progs {expected[field]}, crfs {value}");
        }
    }

    [SkippableTheory]
    [MemberData(nameof(Trees))]
    public void DumpTree_BlocksAndItemCount_EqualBtrfsProgs(string image, string tree)
    {
        ImageCatalog.SkipUnlessAvailable();
        PreparedImage img = catalog.Get(image);
        string expected = BtrfsProgs.DumpTree(img.Path, tree);
        CliResult r = CrfsCli.RunOk("inspect", "dump-tree", img.Path, tree);
        string actual = r.StdOutText;

        // The same blocks; the order may differ (btrfs-progs 6.2 prints a node's child nodes before their leaves).
        List<string> expectedBlocks = [.. Blocks(expected).Order(StringComparer.Ordinal)];
        List<string> actualBlocks = [.. Blocks(actual).Order(StringComparer.Ordinal)];
        Assert.True(expectedBlocks.Count > 0, $"btrfs-progs listed no blocks of {tree}");
        Assert.True(expectedBlocks.SequenceEqual(actualBlocks),
            $"tree {tree}: btrfs-progs blocks [{string.Join(", ", expectedBlocks.Take(10))}...] ({expectedBlocks.Count}), crfs [{string.Join(", ", actualBlocks.Take(10))}...] ({actualBlocks.Count})");
        Assert.Equal(BtrfsProgs.CountLeafItems(expected), BtrfsProgs.CountLeafItems(actual));
    }

    [SkippableFact]
    public void DumpTree_UnknownTree_ExitsWithUsageOrFailure()
    {
        ImageCatalog.SkipUnlessAvailable();
        PreparedImage img = catalog.Get(StandardImages.RootDirDefault.Name);
        CliResult r = CrfsCli.Run("inspect", "dump-tree", img.Path, "no-such-tree");
        Assert.False(r.StdErr.Contains("\n   at ", StringComparison.Ordinal), r.Describe());
        Assert.True(r.ExitCode is 1 or 2, r.Describe());
    }

    /// <summary>"leaf BYTENR items N" / "node BYTENR level L items N".</summary>
    private static List<string> Blocks(string dump) =>
        [.. BlockHeader().Matches(dump).Select(m => m.Value)];

    [GeneratedRegex(@"^(leaf|node) \d+ (level \d+ )?items \d+", RegexOptions.Multiline)]
    private static partial Regex BlockHeader();

    [GeneratedRegex(@"^([a-z_]+)\t+(\S+)", RegexOptions.Multiline)]
    private static partial Regex SuperField();
}
