// SPDX-License-Identifier: MIT
using Crfs.Volume.Compression;

namespace Crfs.Volume.Tests.Compression;

public class Lzo1xTests
{
    public static TheoryData<int> Lengths => [0, 1, 2, 3, 4, 5, 17, 238, 239, 240, 300, 4095, 4096, 20000, 65536, 131072];

    [Theory]
    [MemberData(nameof(Lengths))]
    public void Compress_ThenDecompress_ReturnsTheInput(int length)
    {
        foreach ((string name, byte[] data) in TestData.Corpus(length))
        {
            var compressed = new byte[Lzo1x.MaxCompressedLength(length)];
            int size = Lzo1x.Compress(data, compressed);
            Assert.True(size > 0, name);

            var output = new byte[length];
            int produced = Lzo1x.Decompress(compressed.AsSpan(0, size), output);

            Assert.Equal(length, produced);
            Assert.True(data.AsSpan().SequenceEqual(output), $"{name} of {length} bytes did not round-trip");
        }
    }

    [Fact]
    public void Compress_DistancesBeyond16KiB_UseTheFarMatchFormAndRoundTrip()
    {
        // Three copies of a 20 KiB random block: the copies match 20 KiB and 40 KiB back.
        byte[] block = TestData.Random(20000, seed: 9);
        byte[] data = [.. block, .. block, .. block];
        var compressed = new byte[Lzo1x.MaxCompressedLength(data.Length)];

        int size = Lzo1x.Compress(data, compressed);
        var output = new byte[data.Length];
        Lzo1x.Decompress(compressed.AsSpan(0, size), output);

        Assert.True(size < 21000, $"far matches should make 3 copies cost about one; got {size} bytes");
        Assert.Equal(data, output);
    }

    [Fact]
    public void Compress_ZeroRun_CompressesAbout255To1()
    {
        var compressed = new byte[Lzo1x.MaxCompressedLength(65536)];

        int size = Lzo1x.Compress(new byte[65536], compressed);

        Assert.InRange(size, 3, 400);
    }

    [Fact]
    public void Compress_Incompressible_StaysWithinWorstCaseBound()
    {
        byte[] data = TestData.Random(4096, seed: 10);
        var compressed = new byte[Lzo1x.MaxCompressedLength(data.Length)];

        int size = Lzo1x.Compress(data, compressed);

        Assert.InRange(size, data.Length, Lzo1x.MaxCompressedLength(data.Length));
    }

    [Fact]
    public void Compress_DestinationTooSmall_ReturnsMinusOne()
    {
        Assert.Equal(-1, Lzo1x.Compress(TestData.Random(1000, seed: 11), new byte[500]));
    }

    [Theory]
    [InlineData("110000", "")] // the end marker alone: an empty stream
    [InlineData("1561626364110000", "abcd")] // first byte 17+4: four literals
    [InlineData("136162110000", "ab")] // first byte 17+2: two literals, state 2
    public void Decompress_HandWrittenStream_DecodesAsSpecified(string hex, string expected)
    {
        var output = new byte[16];

        int produced = Lzo1x.Decompress(Convert.FromHexString(hex), output);

        Assert.Equal(expected, System.Text.Encoding.ASCII.GetString(output, 0, produced));
    }

    [Theory]
    [InlineData("", "shorter than")]
    [InlineData("1561626364", "input overrun")] // no end marker
    [InlineData("15616263641100", "input overrun")] // cut inside the end marker
    [InlineData("156162636411000000", "more input bytes follow")]
    [InlineData("1561626364" + "2002001100" + "00", "look-behind")] // match 129 bytes back after 4 bytes of output
    [InlineData("1100000000000000", "bitstream version")]
    [InlineData("1561626364" + "120000", "end marker")] // distance 0 but length 4
    [InlineData("1561626364" + "20" + "0000000000", "length extension")] // extension of zeros to the end
    [InlineData("1661626364650005110000", "look-behind")] // after 5 literals, a 3-byte match 2 KiB back
    public void Decompress_MalformedStream_ThrowsInvalidDataNamingTheProblem(string hex, string expectedFragment)
    {
        var e = Assert.Throws<InvalidDataException>(() => Lzo1x.Decompress(Convert.FromHexString(hex), new byte[64]));

        Assert.Contains(expectedFragment, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Decompress_OutputLargerThanDestination_ThrowsOutputOverrun()
    {
        byte[] data = TestData.Words(1000, seed: 12);
        var compressed = new byte[Lzo1x.MaxCompressedLength(data.Length)];
        int size = Lzo1x.Compress(data, compressed);

        var e = Assert.Throws<InvalidDataException>(() => Lzo1x.Decompress(compressed.AsSpan(0, size), new byte[999]));

        Assert.Contains("output overrun", e.Message, StringComparison.Ordinal);
    }
}
