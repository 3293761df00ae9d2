// SPDX-License-Identifier: MIT
using System.Numerics;
using Crfs.Format.Btrfs;

namespace Crfs.Volume.Compression;

/// <summary>
/// Expands the data of a compressed btrfs file extent: the on-disk bytes of a regular extent
/// (<c>disk_num_bytes</c> of them) or the data of an inline one, into its <c>ram_bytes</c>.
/// </summary>
/// <remarks>
/// <para>
/// Each <see cref="CompressionType"/> is the kernel's container, not just the algorithm: zlib is
/// one zlib stream, zstd one frame, both possibly followed by padding to the sector-aligned
/// extent size; LZO is btrfs's own segment framing around raw LZO1X (<see cref="BtrfsLzo"/>).
/// Whatever follows the end of the stream is ignored, as the kernel ignores it. A compressed
/// extent holds at most 128 KiB of data, and the whole extent is decompressed even when a file
/// extent item refers to part of it; callers slice <c>[offset, offset + num_bytes)</c> from the
/// result.
/// </para>
/// <para>
/// Compressed bytes come from disk and are untrusted even after their csum-tree checksums match
/// (a checksum proves the bytes are what was written, not that the writer was sane). Every codec
/// here therefore treats malformed input as an <see cref="InvalidDataException"/> naming the
/// offending offset, never as an out-of-range exception, an oversized allocation or a hang.
/// Codec state (zstd contexts, the buffers the stream-only BCL zlib needs, LZO scratch) is
/// reused per thread, so reading a volume does not allocate per extent beyond the BCL's
/// deflate stream object.
/// </para>
/// </remarks>
public static class Decompressor
{
    /// <summary>
    /// Decompresses <paramref name="source"/> into <paramref name="destination"/> and returns the
    /// number of bytes written. Decoding stops when <paramref name="destination"/> is full, so a
    /// prefix of the extent can be read with a shorter destination. A result shorter than
    /// <paramref name="destination"/> means the compressed data ended first; the kernel reads the
    /// missing tail as zeros, and callers that need the full <c>ram_bytes</c> decide whether to
    /// zero-fill or to report corruption. <paramref name="sectorSize"/> is the volume's sector
    /// size; it shapes the LZO framing and is validated for every type.
    /// </summary>
    /// <exception cref="InvalidDataException">The compressed data is malformed.</exception>
    /// <exception cref="ArgumentOutOfRangeException">Unknown <paramref name="type"/>, or a
    /// <paramref name="sectorSize"/> that is not a power of two in [512, 65536].</exception>
    public static int Decompress(CompressionType type, ReadOnlySpan<byte> source, Span<byte> destination, int sectorSize)
    {
        ValidateSectorSize(sectorSize);
        switch (type)
        {
            case CompressionType.None:
                int n = Math.Min(source.Length, destination.Length);
                source[..n].CopyTo(destination);
                return n;
            case CompressionType.Zlib:
                return ZlibCodec.Decompress(source, destination);
            case CompressionType.Lzo:
                return BtrfsLzo.Decompress(source, destination, sectorSize);
            case CompressionType.Zstd:
                return ZstdCodec.Decompress(source, destination);
            default:
                throw new ArgumentOutOfRangeException(nameof(type), type, "unknown btrfs compression type");
        }
    }

    internal static void ValidateSectorSize(int sectorSize)
    {
        if (sectorSize is < 512 or > 65536 || !BitOperations.IsPow2(sectorSize))
        {
            throw new ArgumentOutOfRangeException(nameof(sectorSize), sectorSize, "sector size must be a power of two in [512, 65536]");
        }
    }
}
