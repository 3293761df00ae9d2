// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using System.Text.RegularExpressions;
using Crfs.Format.Btrfs;
using Crfs.Format.Checksums;
using Crfs.Testing;

namespace Crfs.Format.Tests.Checksums;

public partial class BtrfsChecksumTests
{
    private const int SuperblockOffset = 0x10000;
    private const int SuperblockSize = 0x1000;
    private const int ChecksummedStart = 0x20;

    [Theory]
    [InlineData(ChecksumType.Crc32c, 4)]
    [InlineData(ChecksumType.XxHash64, 8)]
    [InlineData(ChecksumType.Sha256, 32)]
    [InlineData(ChecksumType.Blake2b, 32)]
    public void Size_EachType_IsTheKernelCsumSize(ChecksumType type, int size)
    {
        Assert.Equal(size, BtrfsChecksum.Size(type));
        Assert.True(size <= BtrfsChecksum.MaxSize);
    }

    [Fact]
    public void Size_UnknownType_Throws()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => BtrfsChecksum.Size((ChecksumType)4));
        Assert.Throws<ArgumentOutOfRangeException>(() => BtrfsChecksum.Compute((ChecksumType)4, [], new byte[32]));
    }

    // "123456789": CRC-32C E3069283 stored LE; XXH64 (seed 0) 44BC2CF5AD770999 of "abc" stored LE
    // (byte-reversed against the canonical big-endian XXH64 digest); SHA-256 and BLAKE2b-256 as digests.
    [Theory]
    [InlineData(ChecksumType.Crc32c, "123456789", "839206e3")]
    [InlineData(ChecksumType.XxHash64, "abc", "990977adf52cbc44")]
    [InlineData(ChecksumType.XxHash64, "", "99e9d85137db46ef")]
    [InlineData(ChecksumType.Sha256, "abc", "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad")]
    [InlineData(ChecksumType.Blake2b, "abc", "bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319")]
    public void Compute_KnownInput_WritesKernelByteOrder(ChecksumType type, string text, string expectedHex)
    {
        byte[] field = new byte[BtrfsChecksum.MaxSize];
        field.AsSpan().Fill(0xEE);

        BtrfsChecksum.Compute(type, System.Text.Encoding.ASCII.GetBytes(text), field);

        int size = BtrfsChecksum.Size(type);
        Assert.Equal(expectedHex, Convert.ToHexStringLower(field.AsSpan(0, size)));
        Assert.All(field.AsSpan(size).ToArray(), b => Assert.Equal(0xEE, b)); // bytes past Size untouched
    }

    [Fact]
    public void Compute_DestinationShorterThanSize_Throws()
    {
        Assert.Throws<ArgumentException>(() => BtrfsChecksum.Compute(ChecksumType.XxHash64, "x"u8, new byte[7]));
    }

    [Fact]
    public void Verify_FlippedDataBit_ReturnsFalse()
    {
        byte[] data = new byte[4096];
        new Random(5).NextBytes(data);
        foreach (ChecksumType type in Enum.GetValues<ChecksumType>())
        {
            byte[] field = new byte[BtrfsChecksum.MaxSize];
            BtrfsChecksum.Compute(type, data, field);
            Assert.True(BtrfsChecksum.Verify(type, data, field));

            data[1234] ^= 0x10;
            Assert.False(BtrfsChecksum.Verify(type, data, field));
            data[1234] ^= 0x10;
        }
    }

    [SkippableTheory]
    [InlineData("crc32c", ChecksumType.Crc32c)]
    [InlineData("xxhash", ChecksumType.XxHash64)]
    [InlineData("sha256", ChecksumType.Sha256)]
    [InlineData("blake2", ChecksumType.Blake2b)]
    public void Compute_MkfsImage_MatchesSuperblockAndRootLeafChecksums(string mkfsName, ChecksumType type)
    {
        Skip.IfNot(Capabilities.HasMkfsBtrfs, "mkfs.btrfs is not installed");
        using var dir = new TempDirectory("crfs-csum");
        string image = dir.Combine("csum.img");
        BtrfsTool.Mkfs(image, $"--csum {mkfsName}");

        byte[] super = BtrfsTool.ReadAt(image, SuperblockOffset, SuperblockSize);
        Assert.Equal(type, (ChecksumType)BinaryPrimitives.ReadUInt16LittleEndian(super.AsSpan(0xC4)));
        int size = BtrfsChecksum.Size(type);
        Assert.True(
            BtrfsChecksum.Verify(type, super.AsSpan(ChecksummedStart), super),
            $"superblock csum {Convert.ToHexStringLower(super.AsSpan(0, size))} of {mkfsName} image does not match");
        Assert.All(super.AsSpan(size, BtrfsChecksum.MaxSize - size).ToArray(), b => Assert.Equal(0, b));

        // A tree block too: the root tree's root leaf, found through the chunk tree.
        ulong rootLogical = BinaryPrimitives.ReadUInt64LittleEndian(super.AsSpan(0x50));
        int nodeSize = BinaryPrimitives.ReadInt32LittleEndian(super.AsSpan(0x94));
        byte[] node = BtrfsTool.ReadAt(image, BtrfsTool.Physical(image, rootLogical), nodeSize);
        Assert.Equal(rootLogical, BinaryPrimitives.ReadUInt64LittleEndian(node.AsSpan(0x30)));
        Assert.True(
            BtrfsChecksum.Verify(type, node.AsSpan(ChecksummedStart), node),
            $"root tree block at logical {rootLogical} csum {Convert.ToHexStringLower(node.AsSpan(0, size))} does not match");
    }

    [SkippableFact]
    public void Compute_XxHashImage_StoresDigestLittleEndian()
    {
        // Pins the byte order against the tool itself: dump-super prints the csum as 0x + hex bytes in disk order.
        Skip.IfNot(Capabilities.HasMkfsBtrfs, "mkfs.btrfs is not installed");
        using var dir = new TempDirectory("crfs-csum");
        string image = dir.Combine("xx.img");
        BtrfsTool.Mkfs(image, "--csum xxhash");
        byte[] super = BtrfsTool.ReadAt(image, SuperblockOffset, SuperblockSize);

        string printed = ProcessRunner.Run("btrfs", "inspect-internal", "dump-super", image).EnsureSuccess().StdOut;
        string csum = CsumLine().Match(printed).Groups[1].Value;

        ulong value = System.IO.Hashing.XxHash64.HashToUInt64(super.AsSpan(ChecksummedStart));
        byte[] littleEndian = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(littleEndian, value);
        Assert.Equal(Convert.ToHexStringLower(littleEndian), csum);
        Assert.Equal(csum, Convert.ToHexStringLower(super.AsSpan(0, 8)));
    }

    [GeneratedRegex(@"^csum\s+0x([0-9a-f]+) \[match\]", RegexOptions.Multiline)]
    private static partial Regex CsumLine();
}
