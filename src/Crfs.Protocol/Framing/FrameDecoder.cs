// SPDX-License-Identifier: MIT
using System.Buffers;
using System.Buffers.Binary;

namespace Crfs.Protocol.Framing;

/// <summary>
/// Cuts frames out of a received byte stream and validates everything that can be checked
/// without knowing the connection's state: magic, payload limit, command, flags, status rules,
/// the HELLO numbering rules and the checksum. The header is judged as soon as its 40 bytes have
/// arrived, so an oversized or garbage frame is refused before any of its payload is buffered.
/// Stateful rules (sequence continuity, direction, continuation runs) and message bodies are
/// checked by the connection and <see cref="Messages.MessageCodec"/>.
/// </summary>
/// <remarks>
/// This is a fuzz target: for any input it returns one of the three <see cref="FrameReadStatus"/>
/// values and never throws. It allocates only a frame's payload copy, and only once the whole
/// frame is buffered and its header has passed.
/// </remarks>
public static class FrameDecoder
{
    /// <summary>
    /// Reads one frame from the front of <paramref name="buffer"/>. On <see cref="FrameReadStatus.Frame"/>
    /// <paramref name="buffer"/> is advanced past it; otherwise it is left as it was.
    /// </summary>
    public static FrameReadStatus TryReadFrame(
        ref ReadOnlySequence<byte> buffer, int maxPayload, out Frame frame, out ProtocolViolation? violation)
    {
        frame = default;
        if (buffer.Length < FrameHeader.Size)
        {
            violation = buffer.Length >= 4 ? CheckMagicPrefix(buffer) : null;
            return violation is null ? FrameReadStatus.NeedMoreData : FrameReadStatus.Violation;
        }

        Span<byte> headerBytes = stackalloc byte[FrameHeader.Size];
        buffer.Slice(0, FrameHeader.Size).CopyTo(headerBytes);
        if (!TryParseHeader(headerBytes, maxPayload, out FrameHeader header, out violation))
        {
            return FrameReadStatus.Violation;
        }

        long frameLength = FrameHeader.Size + (long)header.PayloadLength;
        if (buffer.Length < frameLength)
        {
            return FrameReadStatus.NeedMoreData;
        }

        byte[] payload = header.PayloadLength == 0 ? [] : new byte[header.PayloadLength];
        buffer.Slice(FrameHeader.Size, header.PayloadLength).CopyTo(payload);
        uint stored = BinaryPrimitives.ReadUInt32LittleEndian(headerBytes[FrameHeaderLayout.Crc..]);
        uint computed = FrameEncoder.ComputeCrc(headerBytes, payload);
        if (stored != computed)
        {
            violation = new ProtocolViolation(
                ViolationKind.BadChecksum,
                $"crc32c 0x{stored:x8} of {Describe(header)} does not match the computed 0x{computed:x8}");
            return FrameReadStatus.Violation;
        }

        frame = new Frame(header, payload);
        buffer = buffer.Slice(frameLength);
        return FrameReadStatus.Frame;
    }

    /// <summary>
    /// Parses and validates a 40-byte header (the checksum is not checked here: it covers the
    /// payload too). Returns false with the reason on any rule broken.
    /// </summary>
    public static bool TryParseHeader(ReadOnlySpan<byte> bytes, int maxPayload, out FrameHeader header, out ProtocolViolation? violation)
    {
        header = default;
        bytes = bytes[..FrameHeader.Size];
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(bytes[FrameHeaderLayout.Magic..]);
        if (magic != WireFormat.Magic)
        {
            violation = BadMagic(magic);
            return false;
        }

        var command = (Command)BinaryPrimitives.ReadUInt16LittleEndian(bytes[FrameHeaderLayout.Command..]);
        var flags = (FrameFlags)bytes[FrameHeaderLayout.Flags];
        var status = (WireError)bytes[FrameHeaderLayout.Status];
        ulong seq = BinaryPrimitives.ReadUInt64LittleEndian(bytes[FrameHeaderLayout.Seq..]);
        ulong ack = BinaryPrimitives.ReadUInt64LittleEndian(bytes[FrameHeaderLayout.Ack..]);
        ulong id = BinaryPrimitives.ReadUInt64LittleEndian(bytes[FrameHeaderLayout.RequestId..]);
        uint length = BinaryPrimitives.ReadUInt32LittleEndian(bytes[FrameHeaderLayout.PayloadLength..]);

        if (!CommandInfo.IsDefined(command))
        {
            violation = new ProtocolViolation(ViolationKind.UnknownCommand, $"unknown command {(ushort)command} (seq {seq}, id {id})");
            return false;
        }

        string what = $"{CommandInfo.Name(command)} {((flags & FrameFlags.Response) != 0 ? "response" : "request")} seq {seq} id {id}";
        if (length > (uint)maxPayload)
        {
            violation = new ProtocolViolation(ViolationKind.PayloadTooLarge, $"{what}: payload length {length} exceeds the limit {maxPayload}");
            return false;
        }

        if ((flags & ~FrameFlagsInfo.All) != 0)
        {
            violation = new ProtocolViolation(ViolationKind.BadFlags, $"{what}: unknown flag bits 0x{(byte)(flags & ~FrameFlagsInfo.All):x2}");
            return false;
        }

        bool isResponse = (flags & FrameFlags.Response) != 0;
        if (!WireErrors.IsDefined(status))
        {
            violation = new ProtocolViolation(ViolationKind.BadStatus, $"{what}: unknown status {(byte)status}");
            return false;
        }

        if (!isResponse && status != WireError.Ok)
        {
            violation = new ProtocolViolation(ViolationKind.BadStatus, $"{what}: a request carries status {status}");
            return false;
        }

        if (status != WireError.Ok && (length != 0 || (flags & FrameFlags.More) != 0))
        {
            violation = new ProtocolViolation(ViolationKind.BadStatus, $"{what}: an error response ({status}) carries {length} payload bytes{((flags & FrameFlags.More) != 0 ? " and the More flag" : "")}");
            return false;
        }

        if (command == Command.Hello)
        {
            if (seq != 0 || ack != 0 || id != 0)
            {
                violation = new ProtocolViolation(ViolationKind.BadSequence, $"{what}: HELLO frames stand outside the sequence and must carry seq, ack and id 0 (ack {ack})");
                return false;
            }

            if ((flags & FrameFlags.More) != 0)
            {
                violation = new ProtocolViolation(ViolationKind.BadFlags, $"{what}: HELLO cannot span frames");
                return false;
            }
        }
        else if (seq == 0 || id == 0)
        {
            violation = new ProtocolViolation(ViolationKind.BadSequence, $"{what}: sequence number and request id start at 1");
            return false;
        }

        header = new FrameHeader(command, flags, status, seq, ack, id, (int)length);
        violation = null;
        return true;
    }

    /// <summary>
    /// The violation for a stream that ended with <paramref name="remaining"/> bytes of an
    /// unfinished frame buffered; null when nothing was left (a clean end between frames).
    /// </summary>
    public static ProtocolViolation? DescribeTruncation(ReadOnlySequence<byte> remaining, int maxPayload)
    {
        if (remaining.IsEmpty)
        {
            return null;
        }

        if (remaining.Length < FrameHeader.Size)
        {
            return new ProtocolViolation(ViolationKind.Truncated, $"stream ended {remaining.Length} bytes into a {FrameHeader.Size}-byte frame header");
        }

        Span<byte> headerBytes = stackalloc byte[FrameHeader.Size];
        remaining.Slice(0, FrameHeader.Size).CopyTo(headerBytes);
        if (!TryParseHeader(headerBytes, maxPayload, out FrameHeader header, out ProtocolViolation? violation))
        {
            return violation;
        }

        return new ProtocolViolation(
            ViolationKind.Truncated,
            $"stream ended inside {Describe(header)}: {remaining.Length - FrameHeader.Size} of {header.PayloadLength} payload bytes arrived");
    }

    private static ProtocolViolation? CheckMagicPrefix(ReadOnlySequence<byte> buffer)
    {
        Span<byte> magicBytes = stackalloc byte[4];
        buffer.Slice(0, 4).CopyTo(magicBytes);
        uint magic = BinaryPrimitives.ReadUInt32LittleEndian(magicBytes);
        return magic == WireFormat.Magic ? null : BadMagic(magic);
    }

    private static ProtocolViolation BadMagic(uint magic) =>
        new(ViolationKind.BadMagic, $"bad frame magic 0x{magic:x8} (expected 0x{WireFormat.Magic:x8})");

    private static string Describe(FrameHeader header) =>
        $"{CommandInfo.Name(header.Command)} {(header.IsResponse ? "response" : "request")} seq {header.Seq} id {header.RequestId} (payload {header.PayloadLength} bytes)";
}
