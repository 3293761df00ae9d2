// SPDX-License-Identifier: MIT
using System.IO.Compression;

namespace Crfs.Volume.Compression;

/// <summary>
/// btrfs zlib extents: one zlib stream (RFC 1950) per extent, possibly followed by padding up to
/// the extent's sector-aligned size.
/// </summary>
/// <remarks>
/// Reading follows the kernel (<c>zlib_decompress_bio</c>): the two-byte header is checked and
/// skipped and the raw deflate data inflated, so the trailing Adler-32 is not verified; the data
/// checksums of the csum tree, which cover the compressed bytes, are the integrity check. Writing
/// uses level 3, the kernel's default for <c>compress=zlib</c>. The BCL offers zlib only as a
/// stream, so input and output go through per-thread <see cref="BufferStream"/>s; the deflate
/// stream object itself is created per call.
/// </remarks>
internal static class ZlibCodec
{
    private const int KernelDefaultLevel = 3;

    [ThreadStatic]
    private static BufferStream? s_input;

    [ThreadStatic]
    private static BufferStream? s_output;

    public static int Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (source.Length < 2)
        {
            throw new InvalidDataException($"zlib extent of {source.Length} bytes has no 2-byte stream header");
        }

        byte cmf = source[0];
        byte flg = source[1];
        if ((cmf & 0x0F) != 8 || (cmf >> 4) > 7 || ((cmf << 8) | flg) % 31 != 0 || (flg & 0x20) != 0)
        {
            throw new InvalidDataException($"zlib stream header {cmf:x2}{flg:x2} at offset 0 is not a dictionary-free deflate header");
        }

        BufferStream input = s_input ??= new BufferStream();
        input.Load(source[2..]);
        using var inflater = new DeflateStream(input, CompressionMode.Decompress, leaveOpen: true);
        int written = 0;
        while (written < destination.Length)
        {
            int n = inflater.Read(destination[written..]);
            if (n == 0)
            {
                break;
            }

            written += n;
        }

        return written;
    }

    public static bool TryCompress(ReadOnlySpan<byte> data, Span<byte> destination, out int written)
    {
        BufferStream output = s_output ??= new BufferStream();
        output.Reset();
        using (var deflater = new ZLibStream(output, new ZLibCompressionOptions { CompressionLevel = KernelDefaultLevel }, leaveOpen: true))
        {
            deflater.Write(data);
        }

        ReadOnlySpan<byte> result = output.Written;
        if (result.Length > destination.Length)
        {
            written = 0;
            return false;
        }

        result.CopyTo(destination);
        written = result.Length;
        return true;
    }
}
