// SPDX-License-Identifier: MIT
using System.Globalization;
using System.Text.RegularExpressions;
using Crfs.Testing;

namespace Crfs.Format.Tests.Checksums;

/// <summary>
/// Makes small btrfs images with the real tools and reads facts out of <c>btrfs inspect-internal
/// dump-tree</c>, so the hashes and checksums are checked against what mkfs and the kernel wrote.
/// </summary>
internal static partial class BtrfsTool
{
    public static void Mkfs(string image, string arguments = "", long size = 128L << 20)
    {
        ProcessRunner.Bash($"rm -f '{image}' && truncate -s {size} '{image}' && mkfs.btrfs -q {arguments} '{image}' >/dev/null").EnsureSuccess();
    }

    public static string DumpTree(string image, string tree) =>
        ProcessRunner.Run("btrfs", "inspect-internal", "dump-tree", "-t", tree, image).EnsureSuccess().StdOut;

    /// <summary>Runs <paramref name="populate"/> (a bash snippet, <c>$M</c> = mount point) on a loop mount.</summary>
    public static void WithMount(string image, string mountPoint, string populate, string options = "")
    {
        Directory.CreateDirectory(mountPoint);
        string opts = options.Length == 0 ? "loop" : "loop," + options;
        ProcessRunner.Run("mount", "-o", opts, image, mountPoint).EnsureSuccess();
        try
        {
            ProcessRunner.Bash($"M='{mountPoint}'; {populate}").EnsureSuccess();
        }
        finally
        {
            // mount -o loop sets autoclear, so the loop device goes with the unmount.
            ProcessRunner.Run("umount", mountPoint).EnsureSuccess();
        }
    }

    /// <summary>Every <c>(objectid TYPE offset)</c> key of <paramref name="type"/> items, with the
    /// item's printed body (the lines up to the next item).</summary>
    public static IEnumerable<(string ObjectId, ulong Offset, string[] Body)> Items(string dump, string type)
    {
        string[] lines = dump.Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            Match m = ItemLine().Match(lines[i]);
            if (!m.Success || m.Groups[2].Value != type)
            {
                continue;
            }

            int end = i + 1;
            while (end < lines.Length && !ItemLine().IsMatch(lines[end]) && !lines[end].StartsWith("leaf ", StringComparison.Ordinal)
                && !lines[end].StartsWith("node ", StringComparison.Ordinal))
            {
                end++;
            }

            yield return (m.Groups[1].Value, ulong.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture), lines[(i + 1)..end]);
        }
    }

    /// <summary>The physical offset of logical address <paramref name="logical"/> (first stripe), from the chunk tree.</summary>
    public static long Physical(string image, ulong logical)
    {
        string[] lines = DumpTree(image, "chunk").Split('\n');
        for (int i = 0; i < lines.Length; i++)
        {
            Match m = ChunkLine().Match(lines[i]);
            if (!m.Success)
            {
                continue;
            }

            ulong start = ulong.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            ulong length = ulong.Parse(LengthLine().Match(lines[i + 1]).Groups[1].Value, CultureInfo.InvariantCulture);
            if (logical >= start && logical - start < length)
            {
                for (int j = i + 1; j < lines.Length; j++)
                {
                    Match s = StripeLine().Match(lines[j]);
                    if (s.Success)
                    {
                        return (long)(ulong.Parse(s.Groups[1].Value, CultureInfo.InvariantCulture) + (logical - start));
                    }
                }
            }
        }

        throw new InvalidOperationException($"logical {logical} is in no chunk of {image}");
    }

    public static byte[] ReadAt(string image, long offset, int length)
    {
        using var f = File.OpenRead(image);
        var buffer = new byte[length];
        f.Position = offset;
        f.ReadExactly(buffer);
        return buffer;
    }

    [GeneratedRegex(@"^\s*item \d+ key \((\S+) (\S+) (\d+)\)")]
    private static partial Regex ItemLine();

    [GeneratedRegex(@"key \(FIRST_CHUNK_TREE CHUNK_ITEM (\d+)\)")]
    private static partial Regex ChunkLine();

    [GeneratedRegex(@"length (\d+) owner")]
    private static partial Regex LengthLine();

    [GeneratedRegex(@"stripe 0 devid \d+ offset (\d+)")]
    private static partial Regex StripeLine();
}
