// SPDX-License-Identifier: MIT
using System.Globalization;
using System.Text.RegularExpressions;
using Crfs.Testing;

namespace Crfs.Differential.Tests;

/// <summary>A tree block as <c>btrfs inspect-internal dump-tree</c> lists it.</summary>
/// <param name="HoldsInodeItems">a leaf with at least one INODE_ITEM: one that any full walk of the tree reads
/// (a leaf of nothing but DIR_ITEMs need not be read by a reader that walks DIR_INDEX).</param>
public sealed record TreeBlockInfo(ulong Logical, int Level, int Items, bool HoldsInodeItems);

/// <summary>One EXTENT_DATA item of a file as dump-tree prints it.</summary>
public sealed record FileExtentInfo(ulong FileOffset, int Type, ulong DiskBytenr, ulong DiskBytes, ulong ExtentOffset, ulong Bytes, int Compression);

/// <summary>
/// Facts about an image taken from btrfs-progs, never from the code under test: where tree blocks
/// and file extents are (dump-tree), where a logical address lives on the device
/// (btrfs-map-logical), and the superblock's fields (dump-super). Parses the text of btrfs-progs 6.2.
/// </summary>
public static partial class BtrfsProgs
{
    public const ulong FsTree = 5;

    public static string DumpTree(string image, string tree) =>
        ProcessRunner.Run("btrfs", "inspect-internal", "dump-tree", "-t", tree, image).EnsureSuccess().StdOut;

    /// <summary>Every node and leaf of a tree, in dump order (depth first).</summary>
    public static List<TreeBlockInfo> TreeBlocks(string image, string tree)
    {
        string dump = DumpTree(image, tree);
        List<Match> headers = [.. BlockHeader().Matches(dump).Cast<Match>()];
        var blocks = new List<TreeBlockInfo>(headers.Count);
        for (int i = 0; i < headers.Count; i++)
        {
            Match m = headers[i];
            int end = i + 1 < headers.Count ? headers[i + 1].Index : dump.Length;
            blocks.Add(new TreeBlockInfo(
                ulong.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture),
                m.Groups[3].Success ? int.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture) : 0,
                int.Parse(m.Groups[4].Value, CultureInfo.InvariantCulture),
                dump.AsSpan(m.Index, end - m.Index).Contains(" INODE_ITEM 0) itemoff ", StringComparison.Ordinal)));
        }

        return blocks;
    }

    /// <summary>Item keys (lines "item N key (...)") in a dump, per tree block kind: leaves only.</summary>
    public static int CountLeafItems(string dump) => LeafItem().Count(dump);

    public static List<FileExtentInfo> FileExtents(string image, ulong inode)
    {
        var extents = new List<FileExtentInfo>();
        foreach (Match m in ExtentData().Matches(DumpTree(image, FsTree.ToString(CultureInfo.InvariantCulture))))
        {
            if (ulong.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture) != inode)
            {
                continue;
            }

            ulong U(int g) => ulong.Parse(m.Groups[g].Value, CultureInfo.InvariantCulture);
            extents.Add(new FileExtentInfo(U(2), (int)U(3), U(4), U(5), U(6), U(7), (int)U(8)));
        }

        return extents;
    }

    /// <summary>The physical offset of every mirror of a logical address (btrfs-map-logical).</summary>
    public static List<long> MapLogical(string image, ulong logical)
    {
        string output = ProcessRunner.Run("btrfs-map-logical", "-l", logical.ToString(CultureInfo.InvariantCulture), image).EnsureSuccess().StdOut;
        List<long> physical = [.. Mirror().Matches(output)
            .Where(m => ulong.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture) == logical)
            .OrderBy(m => int.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture))
            .Select(m => long.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture))];
        Assert.True(physical.Count > 0, $"btrfs-map-logical found no mirror of logical {logical}:\n{output}");
        return physical;
    }

    /// <summary>The "name value" lines of <c>dump-super</c> (first value token only).</summary>
    public static Dictionary<string, string> DumpSuper(string image)
    {
        string output = ProcessRunner.Run("btrfs", "inspect-internal", "dump-super", image).EnsureSuccess().StdOut;
        var fields = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (Match m in SuperField().Matches(output))
        {
            fields.TryAdd(m.Groups[1].Value, m.Groups[2].Value);
        }

        return fields;
    }

    [GeneratedRegex(@"^(leaf|node) (\d+) (?:level (\d+) )?items (\d+)", RegexOptions.Multiline)]
    private static partial Regex BlockHeader();

    [GeneratedRegex(@"^\titem \d+ key \(", RegexOptions.Multiline)]
    private static partial Regex LeafItem();

    [GeneratedRegex(@"key \((\d+) EXTENT_DATA (\d+)\) itemoff \d+ itemsize \d+\n\s+generation \d+ type (\d+) \(\w+\)\n\s+extent data disk byte (\d+) nr (\d+)\n\s+extent data offset (\d+) nr (\d+) ram \d+\n\s+extent compression (\d+)")]
    private static partial Regex ExtentData();

    [GeneratedRegex(@"mirror (\d+) logical (\d+) physical (\d+)")]
    private static partial Regex Mirror();

    [GeneratedRegex(@"^([a-z_]+)\t+(\S+)", RegexOptions.Multiline)]
    private static partial Regex SuperField();
}
