// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using System.IO.Hashing;
using System.Security.Cryptography;
using Crfs.Format.Btrfs;

namespace Crfs.Format.Checksums;

/// <summary>
/// The four checksum algorithms a btrfs volume may use (the superblock's <c>csum_type</c>), as
/// btrfs stores them: one algorithm per volume, applied alike to superblocks (bytes
/// <c>0x20..0x1000</c>), tree blocks (<c>0x20..nodesize</c>) and data sectors (in the csum tree).
/// </summary>
/// <remarks>
/// Every on-disk checksum field is <see cref="MaxSize"/> (32) bytes; an algorithm fills its first
/// <see cref="Size"/> bytes and the rest stay zero. The byte orders are the kernel's: CRC-32C is
/// the standard (inverted) CRC stored little-endian; XXH64 (seed 0) is stored little-endian too,
/// which is the reverse of the canonical big-endian XXH64 digest that
/// <c>System.IO.Hashing.XxHash64.Hash</c> produces; SHA-256 and BLAKE2b-256 are their digest bytes.
/// All four run without allocating.
/// </remarks>
public static class BtrfsChecksum
{
    /// <summary>The size of every checksum field on disk.</summary>
    public const int MaxSize = 32;

    /// <summary>The number of meaningful bytes at the start of a checksum field.</summary>
    public static int Size(ChecksumType type) => type switch
    {
        ChecksumType.Crc32c => 4,
        ChecksumType.XxHash64 => 8,
        ChecksumType.Sha256 => 32,
        ChecksumType.Blake2b => 32,
        _ => throw new ArgumentOutOfRangeException(nameof(type), type, "unknown btrfs checksum type"),
    };

    /// <summary>
    /// Writes the checksum of <paramref name="data"/> to the first <see cref="Size"/> bytes of
    /// <paramref name="destination"/>; bytes after those are left untouched.
    /// </summary>
    public static void Compute(ChecksumType type, ReadOnlySpan<byte> data, Span<byte> destination)
    {
        int size = Size(type);
        if (destination.Length < size)
        {
            throw new ArgumentException($"destination holds {destination.Length} bytes; a {type} checksum needs {size}", nameof(destination));
        }

        switch (type)
        {
            case ChecksumType.Crc32c:
                BinaryPrimitives.WriteUInt32LittleEndian(destination, Crc32C.Compute(data));
                break;
            case ChecksumType.XxHash64:
                BinaryPrimitives.WriteUInt64LittleEndian(destination, XxHash64.HashToUInt64(data, seed: 0));
                break;
            case ChecksumType.Sha256:
                SHA256.HashData(data, destination[..size]);
                break;
            case ChecksumType.Blake2b:
                Blake2b.Hash(data, destination[..size]);
                break;
        }
    }

    /// <summary>
    /// True when the first <see cref="Size"/> bytes of <paramref name="expected"/> (a 32-byte
    /// on-disk field or just the meaningful prefix) equal the checksum of <paramref name="data"/>.
    /// </summary>
    public static bool Verify(ChecksumType type, ReadOnlySpan<byte> data, ReadOnlySpan<byte> expected)
    {
        int size = Size(type);
        if (expected.Length < size)
        {
            throw new ArgumentException($"expected holds {expected.Length} bytes; a {type} checksum needs {size}", nameof(expected));
        }

        Span<byte> actual = stackalloc byte[MaxSize];
        Compute(type, data, actual);
        return actual[..size].SequenceEqual(expected[..size]);
    }

    /// <summary>Formats the meaningful bytes of a checksum field as lowercase hex, for messages.</summary>
    public static string ToHex(ChecksumType type, ReadOnlySpan<byte> checksum) =>
        Convert.ToHexStringLower(checksum[..Math.Min(Size(type), checksum.Length)]);
}
