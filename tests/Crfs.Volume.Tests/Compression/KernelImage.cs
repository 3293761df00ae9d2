// SPDX-License-Identifier: MIT
using System.Globalization;
using System.Text.RegularExpressions;
using Crfs.Format.Btrfs;
using Crfs.Testing;

namespace Crfs.Volume.Tests.Compression;

/// <summary>A file extent as <c>dump-tree</c> prints it; Inline* fields are set for inline extents.</summary>
internal sealed record DumpedExtent(
    ulong Inode, ulong FileOffset, CompressionType Compression, bool Inline,
    ulong DiskBytenr, ulong DiskNumBytes, ulong Offset, ulong NumBytes, ulong RamBytes,
    ulong LeafBytenr, int ItemOffset, int InlineSize);

/// <summary>
/// A btrfs image written by the kernel, and the raw bytes of its file extents located with
/// <c>btrfs inspect-internal dump-tree</c> and the chunk tree, so the codecs can be checked against
/// data nobody here compressed.
/// </summary>
internal sealed partial class KernelImage(string path)
{
    private const int LeafHeaderSize = 0x65;
    private const int FileExtentInlineDataStart = 21;

    public string Path { get; } = path;

    public static KernelImage Create(string path, long size = 256L << 20)
    {
        ProcessRunner.Bash($"truncate -s {size} '{path}' && mkfs.btrfs -q '{path}' >/dev/null").EnsureSuccess();
        return new KernelImage(path);
    }

    /// <summary>Loop-mounts with <paramref name="options"/>, runs the bash snippet (<c>$M</c> = mount point), unmounts.</summary>
    public void WithMount(string mountPoint, string options, string script)
    {
        Directory.CreateDirectory(mountPoint);
        ProcessRunner.Run("mount", "-o", "loop," + options, Path, mountPoint).EnsureSuccess();
        try
        {
            ProcessRunner.Bash($"M='{mountPoint}'; {script}").EnsureSuccess();
        }
        finally
        {
            // mount -o loop sets autoclear: the loop device is detached with the unmount.
            ProcessRunner.Run("umount", mountPoint).EnsureSuccess();
        }
    }

    /// <summary>Inode number → file name, from the INODE_REF items of the top-level subvolume.</summary>
    public Dictionary<ulong, string> InodeNames()
    {
        var names = new Dictionary<ulong, string>();
        string[] lines = DumpTree("fs");
        for (int i = 0; i + 1 < lines.Length; i++)
        {
            Match m = InodeRefLine().Match(lines[i]);
            if (m.Success)
            {
                names[ulong.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)] = NameLine().Match(lines[i + 1]).Groups[1].Value;
            }
        }

        return names;
    }

    public List<DumpedExtent> FileExtents()
    {
        var extents = new List<DumpedExtent>();
        string[] lines = DumpTree("fs");
        ulong leaf = 0;
        for (int i = 0; i < lines.Length; i++)
        {
            Match leafMatch = LeafLine().Match(lines[i]);
            if (leafMatch.Success)
            {
                leaf = ulong.Parse(leafMatch.Groups[1].Value, CultureInfo.InvariantCulture);
                continue;
            }

            Match item = ExtentItemLine().Match(lines[i]);
            if (!item.Success)
            {
                continue;
            }

            ulong inode = U64(item.Groups[1]);
            ulong fileOffset = U64(item.Groups[2]);
            int itemOffset = int.Parse(item.Groups[3].Value, CultureInfo.InvariantCulture);
            Match inline = InlineLine().Match(lines[i + 2]);
            if (inline.Success)
            {
                extents.Add(new DumpedExtent(inode, fileOffset, (CompressionType)int.Parse(inline.Groups[3].Value, CultureInfo.InvariantCulture), true,
                    0, 0, 0, U64(inline.Groups[2]), U64(inline.Groups[2]), leaf, itemOffset, int.Parse(inline.Groups[1].Value, CultureInfo.InvariantCulture)));
                continue;
            }

            Match disk = DiskLine().Match(lines[i + 2]);
            Match range = RangeLine().Match(lines[i + 3]);
            Match compression = CompressionLine().Match(lines[i + 4]);
            if (disk.Success && range.Success && compression.Success)
            {
                extents.Add(new DumpedExtent(inode, fileOffset, (CompressionType)int.Parse(compression.Groups[1].Value, CultureInfo.InvariantCulture), false,
                    U64(disk.Groups[1]), U64(disk.Groups[2]), U64(range.Groups[1]), U64(range.Groups[2]), U64(range.Groups[3]), leaf, itemOffset, 0));
            }
        }

        return extents;
    }

    /// <summary>The stored bytes of an extent: the on-disk extent, or the inline data inside its leaf.</summary>
    public byte[] StoredBytes(DumpedExtent extent)
    {
        if (!extent.Inline)
        {
            return Read(Physical(extent.DiskBytenr), checked((int)extent.DiskNumBytes));
        }

        long leaf = Physical(extent.LeafBytenr);
        return Read(leaf + LeafHeaderSize + extent.ItemOffset + FileExtentInlineDataStart, extent.InlineSize);
    }

    private long Physical(ulong logical)
    {
        string[] lines = DumpTree("chunk");
        for (int i = 0; i < lines.Length; i++)
        {
            Match chunk = ChunkLine().Match(lines[i]);
            if (!chunk.Success)
            {
                continue;
            }

            ulong start = U64(chunk.Groups[1]);
            ulong length = U64(ChunkLengthLine().Match(lines[i + 1]).Groups[1]);
            if (logical - start < length && logical >= start)
            {
                Match stripe = lines.Skip(i + 1).Select(l => StripeLine().Match(l)).First(m => m.Success);
                return (long)(U64(stripe.Groups[1]) + (logical - start));
            }
        }

        throw new InvalidOperationException($"logical {logical} is in no chunk of {Path}");
    }

    private byte[] Read(long offset, int length)
    {
        using var file = File.OpenRead(Path);
        var buffer = new byte[length];
        file.Position = offset;
        file.ReadExactly(buffer);
        return buffer;
    }

    private string[] DumpTree(string tree) =>
        ProcessRunner.Run("btrfs", "inspect-internal", "dump-tree", "-t", tree, Path).EnsureSuccess().StdOut.Split('\n');

    private static ulong U64(Group g) => ulong.Parse(g.Value, CultureInfo.InvariantCulture);

    [GeneratedRegex(@"^leaf (\d+) items")]
    private static partial Regex LeafLine();

    [GeneratedRegex(@"item \d+ key \((\d+) EXTENT_DATA (\d+)\) itemoff (\d+) itemsize")]
    private static partial Regex ExtentItemLine();

    [GeneratedRegex(@"inline extent data size (\d+) ram_bytes (\d+) compression (\d+)")]
    private static partial Regex InlineLine();

    [GeneratedRegex(@"extent data disk byte (\d+) nr (\d+)")]
    private static partial Regex DiskLine();

    [GeneratedRegex(@"extent data offset (\d+) nr (\d+) ram (\d+)")]
    private static partial Regex RangeLine();

    [GeneratedRegex(@"extent compression (\d+)")]
    private static partial Regex CompressionLine();

    [GeneratedRegex(@"item \d+ key \((\d+) INODE_REF \d+\)")]
    private static partial Regex InodeRefLine();

    [GeneratedRegex(@"name: (.*)$")]
    private static partial Regex NameLine();

    [GeneratedRegex(@"key \(FIRST_CHUNK_TREE CHUNK_ITEM (\d+)\)")]
    private static partial Regex ChunkLine();

    [GeneratedRegex(@"length (\d+) owner")]
    private static partial Regex ChunkLengthLine();

    [GeneratedRegex(@"stripe 0 devid \d+ offset (\d+)")]
    private static partial Regex StripeLine();
}
