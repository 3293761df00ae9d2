// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace Crfs.Volume.Compression;

/// <summary>
/// btrfs's own framing around LZO1X (<c>fs/btrfs/lzo.c</c>), used for both regular and inline
/// extents.
/// </summary>
/// <remarks>
/// Layout: a little-endian u32 with the total framed length (header and padding included), then
/// one segment per sector of uncompressed data, each a little-endian u32 payload length followed
/// by an independent LZO1X stream (no back-references across segments). A segment header never
/// straddles a sector boundary of the compressed bytes: when fewer than four bytes remain in a
/// sector after a payload, the writer zero-pads to the next sector and the reader skips there.
/// Payloads themselves may straddle sectors. An inline extent is a single segment whose total
/// length equals the item's data length.
/// <para>
/// The reader applies the kernel's checks: the total length may not exceed the 128 KiB cap
/// or the bytes supplied, and must account for every supplied sector (the extent's on-disk size
/// rounded up); a segment may not exceed the worst-case LZO1X size of one sector, and decodes to
/// at most one sector.
/// </para>
/// </remarks>
internal static class BtrfsLzo
{
    private const int LengthSize = 4;

    /// <summary>The kernel's BTRFS_MAX_COMPRESSED: the largest compressed extent.</summary>
    private const int MaxCompressed = 128 * 1024;

    [ThreadStatic]
    private static byte[]? s_scratch;

    public static int Decompress(ReadOnlySpan<byte> source, Span<byte> destination, int sectorSize)
    {
        if (source.Length < LengthSize)
        {
            throw new InvalidDataException($"btrfs LZO extent of {source.Length} bytes has no 4-byte length header");
        }

        uint total = BinaryPrimitives.ReadUInt32LittleEndian(source);
        if (total > Math.Min(MaxCompressed, source.Length) || RoundUp(total, sectorSize) < (ulong)source.Length)
        {
            throw new InvalidDataException($"btrfs LZO header length {total} is invalid for {source.Length} compressed bytes (sector size {sectorSize})");
        }

        ReadOnlySpan<byte> framed = source[..(int)total];
        int maxSegment = Lzo1x.MaxCompressedLength(sectorSize);
        int position = LengthSize;
        int written = 0;
        while (position < framed.Length && written < destination.Length)
        {
            if (framed.Length - position < LengthSize)
            {
                throw new InvalidDataException($"btrfs LZO segment header at offset {position} is cut off by the total length {total}");
            }

            int header = position;
            uint segmentLength = BinaryPrimitives.ReadUInt32LittleEndian(framed[position..]);
            position += LengthSize;
            if (segmentLength > maxSegment || segmentLength > (uint)(framed.Length - position))
            {
                throw new InvalidDataException($"btrfs LZO segment at offset {header} claims {segmentLength} bytes; at most {Math.Min(maxSegment, framed.Length - position)} are possible");
            }

            ReadOnlySpan<byte> segment = framed.Slice(position, (int)segmentLength);
            written += DecompressSegment(segment, destination[written..], sectorSize, header);
            position += (int)segmentLength;

            int sectorLeft = sectorSize - (position % sectorSize);
            if (sectorLeft < LengthSize)
            {
                position += sectorLeft;
            }
        }

        return written;
    }

    /// <summary>
    /// Frames <paramref name="data"/> into <paramref name="destination"/>; false when it does not
    /// fit (the caller's size limit decides whether compression was worth it).
    /// </summary>
    public static bool TryCompress(ReadOnlySpan<byte> data, Span<byte> destination, int sectorSize, out int written)
    {
        written = 0;
        int position = LengthSize;
        if (destination.Length < LengthSize)
        {
            return false;
        }

        int maxSegment = Lzo1x.MaxCompressedLength(sectorSize);
        byte[] scratch = Scratch(maxSegment);
        for (int offset = 0; offset < data.Length; offset += sectorSize)
        {
            ReadOnlySpan<byte> chunk = data.Slice(offset, Math.Min(sectorSize, data.Length - offset));
            int length = Lzo1x.Compress(chunk, scratch);
            if (destination.Length - position < LengthSize + length)
            {
                return false;
            }

            BinaryPrimitives.WriteUInt32LittleEndian(destination[position..], (uint)length);
            position += LengthSize;
            scratch.AsSpan(0, length).CopyTo(destination[position..]);
            position += length;

            int sectorLeft = sectorSize - (position % sectorSize);
            if (sectorLeft < LengthSize)
            {
                if (destination.Length - position < sectorLeft)
                {
                    return false;
                }

                destination.Slice(position, sectorLeft).Clear();
                position += sectorLeft;
            }
        }

        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)position);
        written = position;
        return true;
    }

    private static int DecompressSegment(ReadOnlySpan<byte> segment, Span<byte> destination, int sectorSize, int header)
    {
        try
        {
            if (destination.Length >= sectorSize)
            {
                return Lzo1x.Decompress(segment, destination[..sectorSize]);
            }

            // The caller wants less than this segment may hold: decode a whole sector aside.
            Span<byte> sector = Scratch(sectorSize).AsSpan(0, sectorSize);
            int produced = Lzo1x.Decompress(segment, sector);
            int take = Math.Min(produced, destination.Length);
            sector[..take].CopyTo(destination);
            return take;
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException($"btrfs LZO segment at offset {header} ({segment.Length} bytes): {e.Message}", e);
        }
    }

    private static byte[] Scratch(int size)
    {
        byte[]? buffer = s_scratch;
        if (buffer is null || buffer.Length < size)
        {
            s_scratch = buffer = new byte[size];
        }

        return buffer;
    }

    private static ulong RoundUp(uint value, int alignment) => ((ulong)value + (uint)alignment - 1) & ~((ulong)alignment - 1);
}
