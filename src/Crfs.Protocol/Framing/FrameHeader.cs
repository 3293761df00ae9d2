// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace Crfs.Protocol.Framing;

/// <summary>
/// The fixed 40-byte header in front of every frame, little-endian, every field naturally aligned:
/// <code>
/// 0       4     6     7      8               16              24              32      36      40
/// +-------+-----+-----+------+---------------+---------------+---------------+-------+-------+
/// | magic | cmd |flags|status|      seq      |      ack      |  request id   |  len  | crc32c|
/// |  u32  | u16 | u8  |  u8  |      u64      |      u64      |      u64      |  u32  |  u32  |
/// +-------+-----+-----+------+---------------+---------------+---------------+-------+-------+
/// </code>
/// <list type="bullet">
/// <item><c>magic</c> is <see cref="WireFormat.Magic"/>.</item>
/// <item><c>cmd</c> is a <see cref="Command"/>; <c>flags</c> are <see cref="FrameFlags"/>.</item>
/// <item><c>status</c> is a <see cref="WireError"/>; it is zero on requests, and a response whose
/// status is not <see cref="WireError.Ok"/> has an empty payload.</item>
/// <item><c>seq</c> numbers the sender's frames from 1, one sequence per direction; <c>ack</c> is
/// the highest sequence number the sender has delivered from its peer (cumulative). HELLO frames
/// stand outside both sequences: their <c>seq</c>, <c>ack</c> and <c>request id</c> are zero.</item>
/// <item><c>request id</c> is chosen by the requester (from 1) and echoed by the response.</item>
/// <item><c>len</c> is the payload length that follows the header.</item>
/// <item><c>crc32c</c> is the standard CRC-32C of header bytes [0, 36) followed by the payload.</item>
/// </list>
/// </summary>
public readonly record struct FrameHeader(
    Command Command,
    FrameFlags Flags,
    WireError Status,
    ulong Seq,
    ulong Ack,
    ulong RequestId,
    int PayloadLength)
{
    public const int Size = FrameHeaderLayout.Size;

    public bool IsResponse => (Flags & FrameFlags.Response) != 0;

    public bool HasMore => (Flags & FrameFlags.More) != 0;

    /// <summary>
    /// Writes every field except the checksum into the first <see cref="Size"/> bytes of
    /// <paramref name="destination"/>; <see cref="FrameEncoder"/> seals the frame.
    /// </summary>
    public void Write(Span<byte> destination)
    {
        Span<byte> b = destination[..Size];
        BinaryPrimitives.WriteUInt32LittleEndian(b[FrameHeaderLayout.Magic..], WireFormat.Magic);
        BinaryPrimitives.WriteUInt16LittleEndian(b[FrameHeaderLayout.Command..], (ushort)Command);
        b[FrameHeaderLayout.Flags] = (byte)Flags;
        b[FrameHeaderLayout.Status] = (byte)Status;
        BinaryPrimitives.WriteUInt64LittleEndian(b[FrameHeaderLayout.Seq..], Seq);
        BinaryPrimitives.WriteUInt64LittleEndian(b[FrameHeaderLayout.Ack..], Ack);
        BinaryPrimitives.WriteUInt64LittleEndian(b[FrameHeaderLayout.RequestId..], RequestId);
        BinaryPrimitives.WriteUInt32LittleEndian(b[FrameHeaderLayout.PayloadLength..], (uint)PayloadLength);
        BinaryPrimitives.WriteUInt32LittleEndian(b[FrameHeaderLayout.Crc..], 0);
    }

    public override string ToString() =>
        $"{CommandInfo.Name(Command)} {(IsResponse ? "response" : "request")} seq {Seq} ack {Ack} id {RequestId} len {PayloadLength} status {Status}{(HasMore ? " more" : "")}";
}

/// <summary>Byte offsets of the <see cref="FrameHeader"/> fields. Frozen by the golden tests.</summary>
public static class FrameHeaderLayout
{
    public const int Magic = 0;
    public const int Command = 4;
    public const int Flags = 6;
    public const int Status = 7;
    public const int Seq = 8;
    public const int Ack = 16;
    public const int RequestId = 24;
    public const int PayloadLength = 32;
    public const int Crc = 36;
    public const int Size = 40;
}
