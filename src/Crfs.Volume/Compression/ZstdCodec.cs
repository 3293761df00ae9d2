// SPDX-License-Identifier: MIT
using System.Buffers;
using System.Buffers.Binary;
using ZstdSharp.Unsafe;
using ZstdCompressor = ZstdSharp.Compressor;
using ZstdDecompressor = ZstdSharp.Decompressor;
using ZstdException = ZstdSharp.ZstdException;

namespace Crfs.Volume.Compression;

/// <summary>
/// btrfs zstd extents: one zstd frame per extent, followed by zero padding up to the extent's
/// sector-aligned size.
/// </summary>
/// <remarks>
/// The kernel compresses with a window of at most 2^17 bytes (ZSTD_BTRFS_MAX_WINDOWLOG) and sizes
/// its decoder for that, so a frame asking for more is not one btrfs can read; refusing it here
/// also stops a corrupt header from making us allocate a large window. The kernel's streaming
/// decoder stops at the end of the frame; ZstdSharp's would carry on into the zero padding and
/// fail on it, so the frame is first walked (header, then block headers; RFC 8878 section 3.1.1)
/// to find its length and window, and only that slice is decoded. Contexts are per thread and
/// reused; level 3 is the kernel's default for <c>compress=zstd</c>.
/// </remarks>
internal static class ZstdCodec
{
    private const int BtrfsMaxWindowLog = 17;
    private const uint FrameMagic = 0xFD2FB528;
    private const int KernelDefaultLevel = 3;

    [ThreadStatic]
    private static ZstdDecompressor? s_decompressor;

    [ThreadStatic]
    private static ZstdCompressor? s_compressor;

    public static int Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        source = source[..FrameLength(source)];
        ZstdDecompressor decompressor = s_decompressor ??= CreateDecompressor();
        decompressor.ResetStream();
        OperationStatus status;
        int consumed;
        int written;
        try
        {
            status = decompressor.UnwrapStream(source, destination, out consumed, out written);
        }
        catch (ZstdException e)
        {
            decompressor.ResetStream();
            throw new InvalidDataException($"zstd frame of {source.Length} bytes is corrupt: {e.Message}", e);
        }

        switch (status)
        {
            case OperationStatus.Done:
            case OperationStatus.DestinationTooSmall:
                // The frame ended, or the caller asked for no more than we produced.
                return written;
            case OperationStatus.NeedMoreData:
                throw new InvalidDataException($"zstd frame is truncated: all {source.Length} bytes consumed after {written} bytes of output");
            default:
                throw new InvalidDataException($"zstd frame of {source.Length} bytes is corrupt near input offset {consumed}, after {written} bytes of output");
        }
    }

    public static bool TryCompress(ReadOnlySpan<byte> data, Span<byte> destination, out int written)
    {
        ZstdCompressor compressor = s_compressor ??= CreateCompressor();
        return compressor.TryWrap(data, destination, out written);
    }

    /// <summary>
    /// The length of the zstd frame at the start of <paramref name="source"/>, after checking
    /// that it is a plain frame whose window btrfs can decode. Block contents are not examined.
    /// </summary>
    private static int FrameLength(ReadOnlySpan<byte> source)
    {
        if (source.Length < 6 || BinaryPrimitives.ReadUInt32LittleEndian(source) != FrameMagic)
        {
            throw new InvalidDataException($"zstd extent of {source.Length} bytes does not start with a zstd frame magic");
        }

        byte descriptor = source[4];
        int contentSizeFlag = descriptor >> 6;
        bool singleSegment = (descriptor & 0x20) != 0;
        bool hasChecksum = (descriptor & 0x04) != 0;
        if ((descriptor & 0x08) != 0)
        {
            throw new InvalidDataException($"zstd frame descriptor {descriptor:x2} at offset 4 sets the reserved bit");
        }

        int position = 5;
        ulong window = 0;
        if (!singleSegment)
        {
            byte w = source[position++];
            int windowLog = 10 + (w >> 3);
            window = (1UL << windowLog) + ((1UL << windowLog) / 8 * (ulong)(w & 7));
        }

        position += (descriptor & 3) switch { 0 => 0, 1 => 1, 2 => 2, _ => 4 }; // dictionary id
        int contentSizeBytes = contentSizeFlag switch { 0 => singleSegment ? 1 : 0, 1 => 2, 2 => 4, _ => 8 };
        if (source.Length - position < contentSizeBytes)
        {
            throw new InvalidDataException($"zstd frame header is truncated at offset {position} ({source.Length} bytes)");
        }

        if (singleSegment)
        {
            ReadOnlySpan<byte> field = source.Slice(position, contentSizeBytes);
            window = contentSizeBytes switch
            {
                1 => field[0],
                2 => BinaryPrimitives.ReadUInt16LittleEndian(field) + 256UL,
                4 => BinaryPrimitives.ReadUInt32LittleEndian(field),
                _ => BinaryPrimitives.ReadUInt64LittleEndian(field),
            };
        }

        if (window > 1UL << BtrfsMaxWindowLog)
        {
            throw new InvalidDataException($"zstd frame needs a {window}-byte window; btrfs frames use at most {1 << BtrfsMaxWindowLog}");
        }

        position += contentSizeBytes;
        while (true)
        {
            if (source.Length - position < 3)
            {
                throw new InvalidDataException($"zstd frame is truncated: block header at offset {position} is cut off ({source.Length} bytes)");
            }

            int header = source[position] | (source[position + 1] << 8) | (source[position + 2] << 16);
            int blockType = (header >> 1) & 3;
            int blockBytes = blockType switch
            {
                0 or 2 => header >> 3, // raw, compressed
                1 => 1, // RLE: one byte repeated
                _ => throw new InvalidDataException($"zstd block header at offset {position} has the reserved block type"),
            };
            if (source.Length - position - 3 < blockBytes)
            {
                throw new InvalidDataException($"zstd frame is truncated: block at offset {position} needs {blockBytes} bytes, {source.Length - position - 3} remain");
            }

            position += 3 + blockBytes;
            if ((header & 1) != 0)
            {
                break;
            }
        }

        if (hasChecksum)
        {
            if (source.Length - position < 4)
            {
                throw new InvalidDataException($"zstd frame is truncated: content checksum at offset {position} is cut off");
            }

            position += 4;
        }

        return position;
    }

    private static ZstdDecompressor CreateDecompressor()
    {
        var decompressor = new ZstdDecompressor();
        decompressor.SetParameter(ZSTD_dParameter.ZSTD_d_windowLogMax, BtrfsMaxWindowLog);
        return decompressor;
    }

    private static ZstdCompressor CreateCompressor()
    {
        var compressor = new ZstdCompressor(KernelDefaultLevel);
        compressor.SetParameter(ZSTD_cParameter.ZSTD_c_windowLog, BtrfsMaxWindowLog);
        return compressor;
    }
}
