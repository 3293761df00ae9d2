// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using System.IO.Compression;
using Crfs.Format.Btrfs;
using Crfs.Volume.Compression;

namespace Crfs.Volume.Tests.Compression;

public class CompressorTests
{
    private const int Sector = 4096;

    public static TheoryData<CompressionType, int, int> RoundTripCases()
    {
        var cases = new TheoryData<CompressionType, int, int>();
        foreach (CompressionType type in new[] { CompressionType.Zlib, CompressionType.Lzo, CompressionType.Zstd })
        {
            foreach (int length in new[] { 8192, 12345, 65536, 100001, 131072 })
            {
                cases.Add(type, length, Sector);
            }
        }

        cases.Add(CompressionType.Lzo, 131072, 16384);
        cases.Add(CompressionType.Lzo, 100001, 65536);
        return cases;
    }

    [Theory]
    [MemberData(nameof(RoundTripCases))]
    public void TryCompress_CompressibleData_RoundTripsAndSavesAtLeastOneSector(CompressionType type, int length, int sectorSize)
    {
        foreach ((string name, byte[] data) in TestData.Compressible(length))
        {
            var compressed = new byte[length];
            Assert.True(Compressor.TryCompress(type, data, compressed, sectorSize, out int written), $"{type} {name} {length}");
            Assert.True(RoundUp(written, sectorSize) + sectorSize <= RoundUp(length, sectorSize), $"{type} {name}: {written} bytes saves no sector");

            var output = new byte[length];
            int produced = Decompressor.Decompress(type, compressed.AsSpan(0, written), output, sectorSize);

            Assert.Equal(length, produced);
            Assert.True(data.AsSpan().SequenceEqual(output), $"{type} {name} of {length} bytes did not round-trip");
        }
    }

    [Theory]
    [InlineData(CompressionType.Zlib)]
    [InlineData(CompressionType.Lzo)]
    [InlineData(CompressionType.Zstd)]
    public void TryCompress_RandomData_ReturnsFalse(CompressionType type)
    {
        byte[] data = TestData.Random(131072, seed: 30);

        Assert.False(Compressor.TryCompress(type, data, new byte[data.Length], Sector, out _));
    }

    [Theory]
    [InlineData(CompressionType.Zlib)]
    [InlineData(CompressionType.Lzo)]
    [InlineData(CompressionType.Zstd)]
    public void TryCompress_SavingLessThanOneSector_ReturnsFalse(CompressionType type)
    {
        // 12 KiB of noise behind 4 KiB of zeros: the zeros shrink, but not by a whole sector once
        // the noise's own overhead and the rounding to sectors are counted.
        byte[] data = [.. new byte[3500], .. TestData.Random(12 * 1024 + 596, seed: 31)];
        Assert.Equal(16384, data.Length);

        bool compressed = Compressor.TryCompress(type, data, new byte[data.Length], Sector, out int written);

        Assert.False(compressed, $"{type} claimed a {written}-byte result saves a sector of 16384");
    }

    [Theory]
    [InlineData(CompressionType.Zlib)]
    [InlineData(CompressionType.Lzo)]
    [InlineData(CompressionType.Zstd)]
    public void TryCompress_OneSectorOrLess_ReturnsFalse(CompressionType type)
    {
        Assert.False(Compressor.TryCompress(type, new byte[Sector], new byte[Sector], Sector, out _));
        Assert.False(Compressor.TryCompress(type, new byte[100], new byte[100], Sector, out _));
        Assert.False(Compressor.TryCompress(type, [], [], Sector, out _));
    }

    [Fact]
    public void TryCompress_MoreThan128KiB_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Compressor.TryCompress(CompressionType.Zstd, new byte[131073], new byte[131073], Sector, out _));
    }

    [Theory]
    [InlineData(CompressionType.None)]
    [InlineData((CompressionType)4)]
    public void TryCompress_NotACompressionAlgorithm_Throws(CompressionType type)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Compressor.TryCompress(type, new byte[8192], new byte[8192], Sector, out _));
    }

    [Fact]
    public void TryCompress_Lzo_SegmentHeadersNeverStraddleASector()
    {
        byte[] data = TestData.Words(131072, seed: 32);
        var compressed = new byte[data.Length];
        Assert.True(Compressor.TryCompress(CompressionType.Lzo, data, compressed, Sector, out int written));

        Assert.Equal((uint)written, BinaryPrimitives.ReadUInt32LittleEndian(compressed));
        int position = 4;
        int segments = 0;
        int padded = 0;
        while (position < written)
        {
            Assert.True(position % Sector <= Sector - 4, $"segment header at {position} straddles a sector boundary");
            int length = BinaryPrimitives.ReadInt32LittleEndian(compressed.AsSpan(position));
            position += 4 + length;
            segments++;
            if (Sector - (position % Sector) < 4)
            {
                Assert.All(compressed[position..RoundUp(position, Sector)], b => Assert.Equal(0, b));
                position = RoundUp(position, Sector);
                padded++;
            }
        }

        Assert.Equal(written, position);
        Assert.Equal(131072 / Sector, segments);
        Assert.True(padded > 0, "this input should hit at least one sector tail too short for a header");
    }

    [Fact]
    public void TryCompress_Zlib_WritesAStandardZlibStreamWithValidAdler32()
    {
        byte[] data = TestData.Words(65536, seed: 33);
        var compressed = new byte[data.Length];
        Assert.True(Compressor.TryCompress(CompressionType.Zlib, data, compressed, Sector, out int written));

        // ZLibStream checks the header and the Adler-32 trailer, which our reader skips.
        using var stream = new ZLibStream(new MemoryStream(compressed, 0, written), CompressionMode.Decompress);
        var output = new MemoryStream();
        stream.CopyTo(output);

        Assert.Equal(data, output.ToArray());
    }

    [Fact]
    public void TryCompress_Zstd_FrameWindowFitsTheKernelDecoder()
    {
        byte[] data = TestData.Words(131072, seed: 34);
        var compressed = new byte[data.Length];
        Assert.True(Compressor.TryCompress(CompressionType.Zstd, data, compressed, Sector, out int written));

        // Frame header: magic, descriptor; with Single_Segment clear a window byte follows.
        Assert.Equal(0xFD2FB528u, BinaryPrimitives.ReadUInt32LittleEndian(compressed));
        byte descriptor = compressed[4];
        if ((descriptor & 0x20) == 0)
        {
            int windowLog = 10 + (compressed[5] >> 3);
            Assert.True(windowLog <= 17, $"window log {windowLog} exceeds btrfs's 17");
        }

        Assert.True(written > 0);
    }

    [Theory]
    [InlineData(CompressionType.Zlib)]
    [InlineData(CompressionType.Lzo)]
    [InlineData(CompressionType.Zstd)]
    public void TryCompressInline_SmallTextFile_CompressesAndRoundTrips(CompressionType type)
    {
        byte[] data = TestData.Words(2400, seed: 35);
        var compressed = new byte[data.Length];

        Assert.True(Compressor.TryCompressInline(type, data, compressed, Sector, out int written));
        Assert.True(written < data.Length);

        var output = new byte[data.Length];
        Assert.Equal(data.Length, Decompressor.Decompress(type, compressed.AsSpan(0, written), output, Sector));
        Assert.Equal(data, output);
    }

    [Fact]
    public void TryCompressInline_LzoOverOneSector_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Compressor.TryCompressInline(CompressionType.Lzo, new byte[Sector + 1], new byte[Sector + 1], Sector, out _));
    }

    [Fact]
    public void TryCompressInline_Incompressible_ReturnsFalse()
    {
        byte[] data = TestData.Random(2000, seed: 36);

        Assert.False(Compressor.TryCompressInline(CompressionType.Zstd, data, new byte[data.Length], Sector, out _));
    }

    private static int RoundUp(int value, int alignment) => (value + alignment - 1) / alignment * alignment;
}
