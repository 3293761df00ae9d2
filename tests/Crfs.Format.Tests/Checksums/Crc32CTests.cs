// SPDX-License-Identifier: MIT
using System.Text;
using Crfs.Format.Checksums;

namespace Crfs.Format.Tests.Checksums;

public class Crc32CTests
{
    public static TheoryData<string, uint> KnownVectors => new()
    {
        // The CRC catalogue check value, and the iSCSI vectors of RFC 3720 B.4.
        { "313233343536373839", 0xE3069283 },
        { "", 0x00000000 },
        { new string('0', 64), 0x8A9136AA },
        { new string('F', 64), 0x62A8AB43 },
        { "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f", 0x46DD794E },
        { "1f1e1d1c1b1a191817161514131211100f0e0d0c0b0a09080706050403020100", 0x113FDB5C },
    };

    [Theory]
    [MemberData(nameof(KnownVectors))]
    public void Compute_KnownVector_MatchesPublishedValue(string hex, uint expected)
    {
        byte[] data = Convert.FromHexString(hex);

        Assert.Equal(expected, Crc32C.Compute(data));
        Assert.Equal(expected, ~Crc32C.UpdatePortable(~0u, data));
    }

    [Fact]
    public void Update_ChainedOverPieces_EqualsOneUpdateOverWhole()
    {
        byte[] data = RandomBytes(1000, seed: 1);
        uint whole = Crc32C.Update(0x12345678, data);

        for (int split = 0; split <= data.Length; split += 37)
        {
            uint chained = Crc32C.Update(Crc32C.Update(0x12345678, data.AsSpan(0, split)), data.AsSpan(split));
            Assert.Equal(whole, chained);
        }
    }

    [Fact]
    public void Update_HardwareAndTablePaths_AgreeOnEveryLengthAndAlignment()
    {
        // On a machine without the instruction both sides are the table path; say so rather than pass silently.
        Assert.True(Crc32C.IsHardwareAccelerated, "this x64/Arm64 test machine should have a CRC32C instruction");
        byte[] data = RandomBytes(600, seed: 2);
        var random = new Random(3);

        for (int length = 0; length <= 80; length++)
        {
            for (int start = 0; start < 9; start++)
            {
                uint seed = (uint)random.Next() ^ ((uint)random.Next() << 16);
                ReadOnlySpan<byte> slice = data.AsSpan(start, length);
                Assert.Equal(Crc32C.UpdatePortable(seed, slice), Crc32C.Update(seed, slice));
            }
        }

        for (int i = 0; i < 200; i++)
        {
            int start = random.Next(0, 64);
            int length = random.Next(0, data.Length - start);
            uint seed = (uint)random.Next();
            Assert.Equal(Crc32C.UpdatePortable(seed, data.AsSpan(start, length)), Crc32C.Update(seed, data.AsSpan(start, length)));
        }
    }

    [Fact]
    public void Update_BitwiseReferenceDefinition_AgreesWithBothPaths()
    {
        byte[] data = RandomBytes(257, seed: 4);

        uint reference = 0xFFFFFFFE;
        foreach (byte b in data)
        {
            reference ^= b;
            for (int k = 0; k < 8; k++)
            {
                reference = (reference & 1) != 0 ? (reference >> 1) ^ 0x82F63B78 : reference >> 1;
            }
        }

        Assert.Equal(reference, Crc32C.Update(0xFFFFFFFE, data));
        Assert.Equal(reference, Crc32C.UpdatePortable(0xFFFFFFFE, data));
    }

    [Fact]
    public void Compute_IsInvertedRegister_NotTheRawUpdate()
    {
        byte[] data = Encoding.ASCII.GetBytes("123456789");

        Assert.Equal(~Crc32C.Update(~0u, data), Crc32C.Compute(data));
        Assert.NotEqual(Crc32C.Update(~0u, data), Crc32C.Compute(data));
    }

    private static byte[] RandomBytes(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }
}
