// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;

namespace Crfs.Volume.Compression;

/// <summary>
/// Compresses file data into the containers the kernel writes (a zlib stream, btrfs-framed LZO1X
/// segments, a zstd frame), and decides, as the kernel does, whether the result is worth storing.
/// </summary>
/// <remarks>
/// A compressed regular extent occupies whole sectors and holds at most 128 KiB of file data.
/// The kernel keeps compression for an extent only if the compressed size rounded up to a sector,
/// plus one more sector, still fits in the input rounded up to a sector (<c>compress_file_range</c>):
/// compressing must save at least one whole sector. <see cref="TryCompress"/> applies that rule;
/// its output may then be padded with zeros to the sector-aligned <c>disk_num_bytes</c>, which all
/// readers ignore. Small files stored inline follow a different rule (the compressed data only has
/// to be smaller than the input), which <see cref="TryCompressInline"/> applies. Levels follow the
/// kernel defaults (zlib 3, zstd 3 with a window of at most 128 KiB), and the output is decodable
/// by the kernel but not byte-identical to what it would write.
/// </remarks>
public static class Compressor
{
    /// <summary>The kernel's BTRFS_MAX_UNCOMPRESSED: the most file data one compressed extent holds.</summary>
    public const int MaxUncompressedExtent = 128 * 1024;

    /// <summary>
    /// Compresses <paramref name="data"/> (at most 128 KiB) for a regular extent. Returns false,
    /// writing nothing meaningful, when compression would not save at least one sector (the
    /// kernel then stores the data uncompressed); otherwise writes <paramref name="written"/>
    /// bytes to <paramref name="destination"/>. A destination of <c>data.Length</c> bytes is
    /// always large enough.
    /// </summary>
    public static bool TryCompress(CompressionType type, ReadOnlySpan<byte> data, Span<byte> destination, int sectorSize, out int written)
    {
        ValidateInput(type, data, sectorSize);
        int alignedInput = (int)RoundUp(data.Length, sectorSize);
        int limit = Math.Min(destination.Length, alignedInput - sectorSize);
        if (limit <= 0)
        {
            written = 0;
            return false;
        }

        return TryCompressCore(type, data, destination[..limit], sectorSize, out written);
    }

    /// <summary>
    /// Compresses the whole content of a small file for an inline extent: succeeds when the
    /// result is smaller than <paramref name="data"/>. Fitting the result into the leaf and under
    /// the inline size limits is the caller's business. For LZO the data must fit in one sector
    /// (an inline LZO extent is a single segment).
    /// </summary>
    public static bool TryCompressInline(CompressionType type, ReadOnlySpan<byte> data, Span<byte> destination, int sectorSize, out int written)
    {
        ValidateInput(type, data, sectorSize);
        if (type == CompressionType.Lzo && data.Length > sectorSize)
        {
            throw new ArgumentOutOfRangeException(nameof(data), data.Length, $"an inline LZO extent holds one segment, at most one {sectorSize}-byte sector");
        }

        int limit = Math.Min(destination.Length, data.Length - 1);
        if (limit <= 0)
        {
            written = 0;
            return false;
        }

        return TryCompressCore(type, data, destination[..limit], sectorSize, out written);
    }

    private static bool TryCompressCore(CompressionType type, ReadOnlySpan<byte> data, Span<byte> destination, int sectorSize, out int written)
    {
        return type switch
        {
            CompressionType.Zlib => ZlibCodec.TryCompress(data, destination, out written),
            CompressionType.Lzo => BtrfsLzo.TryCompress(data, destination, sectorSize, out written),
            CompressionType.Zstd => ZstdCodec.TryCompress(data, destination, out written),
            _ => throw new ArgumentOutOfRangeException(nameof(type), type, "not a btrfs compression algorithm"),
        };
    }

    private static void ValidateInput(CompressionType type, ReadOnlySpan<byte> data, int sectorSize)
    {
        Decompressor.ValidateSectorSize(sectorSize);
        if (type is not (CompressionType.Zlib or CompressionType.Lzo or CompressionType.Zstd))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "not a btrfs compression algorithm");
        }

        if (data.Length > MaxUncompressedExtent)
        {
            throw new ArgumentOutOfRangeException(nameof(data), data.Length, $"a compressed extent holds at most {MaxUncompressedExtent} bytes");
        }
    }

    private static long RoundUp(long value, int alignment) => (value + alignment - 1) & ~((long)alignment - 1);
}
