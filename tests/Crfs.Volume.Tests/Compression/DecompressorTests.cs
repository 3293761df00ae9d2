// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using Crfs.Format.Btrfs;
using Crfs.Volume.Compression;

namespace Crfs.Volume.Tests.Compression;

public class DecompressorTests
{
    private const int Sector = 4096;

    public static TheoryData<CompressionType> Types => [CompressionType.Zlib, CompressionType.Lzo, CompressionType.Zstd];

    [Theory]
    [MemberData(nameof(Types))]
    public void Decompress_ExtentPaddedToSectors_IgnoresThePadding(CompressionType type)
    {
        byte[] data = TestData.Words(100000, seed: 40);
        byte[] compressed = Compress(type, data);
        byte[] padded = new byte[RoundUp(compressed.Length, Sector)];
        compressed.CopyTo(padded, 0);

        var output = new byte[data.Length];
        int produced = Decompressor.Decompress(type, padded, output, Sector);

        Assert.Equal(data.Length, produced);
        Assert.Equal(data, output);
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Decompress_ShortDestination_ReturnsThePrefix(CompressionType type)
    {
        byte[] data = TestData.Words(100000, seed: 41);
        byte[] compressed = Compress(type, data);

        foreach (int length in new[] { 0, 1, 4095, 4096, 4097, 50000 })
        {
            var output = new byte[length];
            int produced = Decompressor.Decompress(type, compressed, output, Sector);

            Assert.Equal(length, produced);
            Assert.True(data.AsSpan(0, length).SequenceEqual(output), $"{type} prefix of {length}");
        }
    }

    [Theory]
    [MemberData(nameof(Types))]
    public void Decompress_DestinationLargerThanData_ReturnsTheDataLength(CompressionType type)
    {
        byte[] data = TestData.Words(10000, seed: 42);
        byte[] compressed = Compress(type, data);

        var output = new byte[131072];
        int produced = Decompressor.Decompress(type, compressed, output, Sector);

        Assert.Equal(data.Length, produced);
        Assert.True(data.AsSpan().SequenceEqual(output.AsSpan(0, produced)));
    }

    [Fact]
    public void Decompress_None_CopiesTheBytes()
    {
        byte[] data = TestData.Words(5000, seed: 43);
        var output = new byte[4000];

        Assert.Equal(4000, Decompressor.Decompress(CompressionType.None, data, output, Sector));
        Assert.Equal(data[..4000], output);
    }

    [Fact]
    public void Decompress_UnknownType_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Decompressor.Decompress((CompressionType)9, new byte[8], new byte[8], Sector));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(3000)]
    [InlineData(256)]
    [InlineData(131072)]
    public void Decompress_InvalidSectorSize_Throws(int sectorSize)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Decompressor.Decompress(CompressionType.Zlib, new byte[8], new byte[8], sectorSize));
    }

    [Fact]
    public void Decompress_LzoTotalLengthBeyondTheData_Throws()
    {
        byte[] compressed = Compress(CompressionType.Lzo, TestData.Words(20000, seed: 44));
        BinaryPrimitives.WriteUInt32LittleEndian(compressed, (uint)compressed.Length + 1);

        var e = Assert.Throws<InvalidDataException>(() => Decompressor.Decompress(CompressionType.Lzo, compressed, new byte[20000], Sector));
        Assert.Contains("header length", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decompress_LzoTotalLengthLeavingWholeSectorsUnused_Throws()
    {
        byte[] compressed = Compress(CompressionType.Lzo, TestData.Words(20000, seed: 45));
        byte[] tooLong = new byte[RoundUp(compressed.Length, Sector) + Sector];
        compressed.CopyTo(tooLong, 0);

        Assert.Throws<InvalidDataException>(() => Decompressor.Decompress(CompressionType.Lzo, tooLong, new byte[20000], Sector));
    }

    [Fact]
    public void Decompress_LzoSegmentLongerThanWorstCase_ThrowsNamingTheOffset()
    {
        byte[] compressed = Compress(CompressionType.Lzo, TestData.Words(20000, seed: 46));
        BinaryPrimitives.WriteUInt32LittleEndian(compressed.AsSpan(4), 5000);

        var e = Assert.Throws<InvalidDataException>(() => Decompressor.Decompress(CompressionType.Lzo, compressed, new byte[20000], Sector));
        Assert.Contains("segment at offset 4", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decompress_LzoSegmentDecodingToMoreThanASector_Throws()
    {
        // One segment holding 8 KiB: a valid LZO1X stream, but not a valid btrfs segment.
        byte[] data = TestData.Words(8192, seed: 47);
        var stream = new byte[Lzo1x.MaxCompressedLength(data.Length)];
        int size = Lzo1x.Compress(data, stream);
        byte[] framed = new byte[8 + size];
        BinaryPrimitives.WriteUInt32LittleEndian(framed, (uint)framed.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(framed.AsSpan(4), (uint)size);
        stream.AsSpan(0, size).CopyTo(framed.AsSpan(8));

        var e = Assert.Throws<InvalidDataException>(() => Decompressor.Decompress(CompressionType.Lzo, framed, new byte[8192], Sector));
        Assert.Contains("output overrun", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decompress_ZlibHeaderNotDeflate_Throws()
    {
        byte[] compressed = Compress(CompressionType.Zlib, TestData.Words(20000, seed: 48));
        compressed[0] = 0x79; // CM = 9

        var e = Assert.Throws<InvalidDataException>(() => Decompressor.Decompress(CompressionType.Zlib, compressed, new byte[20000], Sector));
        Assert.Contains("header", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decompress_ZstdTruncatedFrame_Throws()
    {
        byte[] compressed = Compress(CompressionType.Zstd, TestData.Words(50000, seed: 49));

        var e = Assert.Throws<InvalidDataException>(() => Decompressor.Decompress(CompressionType.Zstd, compressed[..(compressed.Length / 2)], new byte[50000], Sector));
        Assert.Contains("truncated", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decompress_ZstdFrameWithWindowLargerThanBtrfsAllows_Throws()
    {
        byte[] data = TestData.Random(1 << 20, seed: 50);
        byte[] repeated = [.. data, .. data];
        using var compressor = new ZstdSharp.Compressor(3);
        compressor.SetParameter(ZstdSharp.Unsafe.ZSTD_cParameter.ZSTD_c_windowLog, 21);
        byte[] frame = compressor.Wrap(repeated).ToArray();

        Assert.Throws<InvalidDataException>(() => Decompressor.Decompress(CompressionType.Zstd, frame, new byte[repeated.Length], Sector));
    }

    private static byte[] Compress(CompressionType type, byte[] data)
    {
        var compressed = new byte[data.Length];
        Assert.True(Compressor.TryCompress(type, data, compressed, Sector, out int written));
        return compressed[..written];
    }

    private static int RoundUp(int value, int alignment) => (value + alignment - 1) / alignment * alignment;
}
