// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using Crfs.Format.Checksums;

namespace Crfs.Protocol.Framing;

/// <summary>Writes frame headers and seals frames with their checksum.</summary>
public static class FrameEncoder
{
    /// <summary>
    /// Stamps <paramref name="header"/> into <c>frame[0..40)</c> and its checksum over the header
    /// and <c>frame[40..40+len)</c>, where the caller has already placed the payload.
    /// </summary>
    public static void Seal(Span<byte> frame, in FrameHeader header)
    {
        header.Write(frame);
        uint crc = ComputeCrc(frame[..FrameHeader.Size], frame.Slice(FrameHeader.Size, header.PayloadLength));
        BinaryPrimitives.WriteUInt32LittleEndian(frame[FrameHeaderLayout.Crc..], crc);
    }

    /// <summary>A complete frame: header, payload and checksum.</summary>
    public static byte[] Encode(in FrameHeader header, ReadOnlySpan<byte> payload)
    {
        if (header.PayloadLength != payload.Length)
        {
            throw new ArgumentException($"header declares {header.PayloadLength} payload bytes but {payload.Length} were given", nameof(payload));
        }

        var frame = new byte[FrameHeader.Size + payload.Length];
        payload.CopyTo(frame.AsSpan(FrameHeader.Size));
        Seal(frame, header);
        return frame;
    }

    /// <summary>The standard CRC-32C of header bytes [0, 36) followed by the payload.</summary>
    public static uint ComputeCrc(ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload)
    {
        uint crc = Crc32C.Update(~0u, header[..FrameHeaderLayout.Crc]);
        return ~Crc32C.Update(crc, payload);
    }
}
