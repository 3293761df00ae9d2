// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Testing;
using Crfs.Volume.Compression;

namespace Crfs.Volume.Tests.Compression;

/// <summary>
/// Decompresses extents the Linux kernel compressed (<c>compress-force</c>), read raw from the
/// image, and compares them with the data written: the only oracle for our readers that nobody
/// here wrote.
/// </summary>
public class KernelExtentTests
{
    private const int Sector = 4096;

    [SkippableTheory]
    [InlineData("zlib", CompressionType.Zlib)]
    [InlineData("lzo", CompressionType.Lzo)]
    [InlineData("zstd", CompressionType.Zstd)]
    public void Decompress_KernelWrittenExtents_ReproduceTheFiles(string option, CompressionType type)
    {
        Skip.IfNot(Capabilities.CanLoopMountBtrfs, "needs root, mkfs.btrfs and loop-mountable btrfs");
        using var dir = new TempDirectory("crfs-kernel-" + option);
        var files = new Dictionary<string, byte[]>
        {
            ["words"] = TestData.Words(600_000, seed: 70), // 4 full 128 KiB extents and a partial one
            ["pattern"] = TestData.Pattern(300_000),
            ["mixed"] = [.. TestData.Words(200_000, seed: 71), .. TestData.Random(150_000, seed: 72), .. TestData.Words(90_001, seed: 73)],
            ["inline"] = TestData.Words(2400, seed: 74),
            ["rewritten"] = TestData.Words(131072, seed: 75),
        };
        foreach ((string name, byte[] data) in files)
        {
            File.WriteAllBytes(dir.Combine(name), data);
        }

        // "rewritten" gets a zero sector in its middle after the first commit, so the kernel
        // splits its file extent item and the tail refers into the compressed extent at an offset.
        files["rewritten"].AsSpan(40960, Sector).Clear();

        var image = KernelImage.Create(dir.Combine("kernel.img"));
        image.WithMount(dir.Combine("mnt"), "compress-force=" + option,
            $"for f in words pattern mixed inline rewritten; do cp '{dir.Path}'/$f $M/$f; done; sync; " +
            "dd if=/dev/zero of=$M/rewritten bs=4096 seek=10 count=1 conv=notrunc status=none; sync");

        Dictionary<ulong, string> names = image.InodeNames();
        int regular = 0;
        int inline = 0;
        int partial = 0;
        foreach (DumpedExtent extent in image.FileExtents().Where(e => e.Compression != CompressionType.None))
        {
            Assert.Equal(type, extent.Compression);
            byte[] expected = files[names[extent.Inode]];
            byte[] stored = image.StoredBytes(extent);
            var output = new byte[extent.RamBytes];

            int produced = Decompressor.Decompress(type, stored, output, Sector);

            // ram_bytes is sector-aligned but the kernel compresses only up to i_size, so the
            // last extent of a file decompresses short; the rest of its range is past EOF.
            int fileBytes = (int)Math.Min(extent.NumBytes, (ulong)expected.Length - extent.FileOffset);
            Assert.InRange(produced, (int)extent.Offset + fileBytes, (int)extent.RamBytes);
            ReadOnlySpan<byte> range = output.AsSpan((int)extent.Offset, fileBytes);
            ReadOnlySpan<byte> want = expected.AsSpan((int)extent.FileOffset, fileBytes);
            Assert.True(want.SequenceEqual(range), $"{names[extent.Inode]} extent at file offset {extent.FileOffset} ({stored.Length} stored bytes) decompressed wrong");
            if (extent.Inline)
            {
                inline++;
            }
            else
            {
                regular++;
                partial += extent.Offset != 0 ? 1 : 0;
            }
        }

        Assert.True(regular >= 10, $"expected the kernel to write at least 10 compressed {option} extents; found {regular}");
        Assert.True(inline == 1, $"expected one compressed inline {option} extent; found {inline}");
        Assert.True(partial >= 1, "expected a file extent item referring into a compressed extent at an offset");
    }

    [SkippableFact]
    public void Decompress_KernelLzoExtentWithPaddedSectors_Reproduces()
    {
        // Poorly compressible data makes many segments end within 3 bytes of a sector end, where the
        // kernel pads; the words test may not hit that often, this one does by volume.
        Skip.IfNot(Capabilities.CanLoopMountBtrfs, "needs root, mkfs.btrfs and loop-mountable btrfs");
        using var dir = new TempDirectory("crfs-kernel-lzo-pad");
        byte[] data = new byte[1 << 20];
        var random = new Random(76);
        for (int i = 0; i < data.Length; i++)
        {
            data[i] = (byte)('a' + random.Next(4)); // 2 bits of entropy per byte: LZO gets ~60-80%
        }

        File.WriteAllBytes(dir.Combine("f"), data);
        var image = KernelImage.Create(dir.Combine("kernel.img"));
        image.WithMount(dir.Combine("mnt"), "compress-force=lzo", $"cp '{dir.Path}'/f $M/f; sync");

        int extents = 0;
        foreach (DumpedExtent extent in image.FileExtents().Where(e => e.Compression == CompressionType.Lzo))
        {
            var output = new byte[extent.RamBytes];
            int produced = Decompressor.Decompress(CompressionType.Lzo, image.StoredBytes(extent), output, Sector);
            int fileBytes = (int)Math.Min(extent.NumBytes, (ulong)data.Length - extent.FileOffset);
            Assert.InRange(produced, (int)extent.Offset + fileBytes, (int)extent.RamBytes);
            Assert.True(data.AsSpan((int)extent.FileOffset, fileBytes).SequenceEqual(output.AsSpan((int)extent.Offset, fileBytes)));
            extents++;
        }

        Assert.True(extents >= 4, $"expected compressed LZO extents; found {extents}");
    }
}
