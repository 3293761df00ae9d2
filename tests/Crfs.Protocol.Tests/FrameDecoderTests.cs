// SPDX-License-Identifier: MIT
using System.Buffers;
using System.Buffers.Binary;
using Crfs.Format.Btrfs;
using Crfs.Protocol.Framing;
using Crfs.Protocol.Messages;
using Crfs.Protocol.Tests.Infrastructure;

namespace Crfs.Protocol.Tests;

public class FrameDecoderTests
{
    private const int Limit = WireFormat.DefaultMaxPayload;

    private static readonly byte[] s_lockFrame = Frames.Request(
        new LockRequest(KeyRange.ForInodeGroup(5, 2000), LockMode.Null, LockMode.Write), seq: 7, id: 3, ack: 2);

    [Fact]
    public void WholeFrame_DecodesHeaderAndPayloadAndAdvancesPastIt()
    {
        var buffer = new ReadOnlySequence<byte>([.. s_lockFrame, 0x43]);

        FrameReadStatus status = FrameDecoder.TryReadFrame(ref buffer, Limit, out Frame frame, out ProtocolViolation? violation);

        Assert.Equal(FrameReadStatus.Frame, status);
        Assert.Null(violation);
        Assert.Equal(new FrameHeader(Command.Lock, FrameFlags.None, WireError.Ok, 7, 2, 3, LockRequest.Size), frame.Header);
        Assert.Equal(s_lockFrame[FrameHeader.Size..], frame.Payload);
        Assert.Equal(1, buffer.Length);
    }

    [Fact]
    public void FrameSplitIntoTwoSegments_AtEveryBytePosition_DecodesTheSame()
    {
        for (int cut = 1; cut < s_lockFrame.Length; cut++)
        {
            ReadOnlySequence<byte> buffer = Sequences.Split(s_lockFrame, cut);

            FrameReadStatus status = FrameDecoder.TryReadFrame(ref buffer, Limit, out Frame frame, out _);

            Assert.True(status == FrameReadStatus.Frame, $"cut at {cut}: {status}");
            Assert.Equal(s_lockFrame[FrameHeader.Size..], frame.Payload);
            Assert.Equal(7ul, frame.Header.Seq);
            Assert.True(buffer.IsEmpty);
        }
    }

    [Fact]
    public void FrameInOneByteSegments_Decodes()
    {
        ReadOnlySequence<byte> buffer = Sequences.Split(s_lockFrame, [.. Enumerable.Range(1, s_lockFrame.Length - 1)]);

        Assert.Equal(FrameReadStatus.Frame, FrameDecoder.TryReadFrame(ref buffer, Limit, out Frame frame, out _));
        Assert.Equal(LockRequest.Size, frame.Payload.Length);
    }

    [Fact]
    public void EveryProperPrefix_NeedsMoreDataAndLeavesTheBufferAlone()
    {
        for (int length = 0; length < s_lockFrame.Length; length++)
        {
            var buffer = new ReadOnlySequence<byte>(s_lockFrame, 0, length);

            Assert.Equal(FrameReadStatus.NeedMoreData, FrameDecoder.TryReadFrame(ref buffer, Limit, out _, out _));
            Assert.Equal(length, buffer.Length);
        }
    }

    [Fact]
    public void OversizedLength_IsRefusedFromTheHeaderAlone()
    {
        byte[] header = Header(Command.Commit, FrameFlags.None, seq: 1, id: 1, length: Limit + 1);
        var buffer = new ReadOnlySequence<byte>(header);

        Assert.Equal(FrameReadStatus.Violation, FrameDecoder.TryReadFrame(ref buffer, Limit, out _, out ProtocolViolation? violation));
        Assert.Equal(ViolationKind.PayloadTooLarge, violation!.Kind);
        Assert.Contains($"payload length {Limit + 1} exceeds the limit {Limit}", violation.Reason);
    }

    [Fact]
    public void BadMagic_IsRefusedAsSoonAsFourBytesArrive()
    {
        var buffer = new ReadOnlySequence<byte>("GET /"u8.ToArray());

        Assert.Equal(FrameReadStatus.Violation, FrameDecoder.TryReadFrame(ref buffer, Limit, out _, out ProtocolViolation? violation));
        Assert.Equal(ViolationKind.BadMagic, violation!.Kind);
        Assert.Contains("0x20544547", violation.Reason);
    }

    [Fact]
    public void FlippedPayloadBit_FailsTheChecksumNamingBothValues()
    {
        byte[] frame = (byte[])s_lockFrame.Clone();
        frame[^1] ^= 0x10;
        var buffer = new ReadOnlySequence<byte>(frame);

        Assert.Equal(FrameReadStatus.Violation, FrameDecoder.TryReadFrame(ref buffer, Limit, out _, out ProtocolViolation? violation));
        Assert.Equal(ViolationKind.BadChecksum, violation!.Kind);
        Assert.Matches("crc32c 0x[0-9a-f]{8} of LOCK request seq 7 id 3 .* does not match the computed 0x[0-9a-f]{8}", violation.Reason);
    }

    [Theory]
    [InlineData(99, 0, 0, 1, 1, 0, ViolationKind.UnknownCommand, "unknown command 99")]
    [InlineData(0, 0, 0, 1, 1, 0, ViolationKind.UnknownCommand, "unknown command 0")]
    [InlineData(3, 4, 0, 1, 1, 0, ViolationKind.BadFlags, "unknown flag bits 0x04")]
    [InlineData(3, 0, 2, 1, 1, 0, ViolationKind.BadStatus, "a request carries status Exists")]
    [InlineData(3, 1, 200, 1, 1, 0, ViolationKind.BadStatus, "unknown status 200")]
    [InlineData(3, 1, 1, 1, 1, 4, ViolationKind.BadStatus, "error response (NotFound) carries 4 payload bytes")]
    [InlineData(3, 3, 1, 1, 1, 0, ViolationKind.BadStatus, "and the More flag")]
    [InlineData(3, 0, 0, 0, 1, 0, ViolationKind.BadSequence, "sequence number and request id start at 1")]
    [InlineData(3, 0, 0, 1, 0, 0, ViolationKind.BadSequence, "sequence number and request id start at 1")]
    [InlineData(1, 0, 0, 1, 0, 0, ViolationKind.BadSequence, "HELLO frames stand outside the sequence")]
    [InlineData(1, 2, 0, 0, 0, 0, ViolationKind.BadFlags, "HELLO cannot span frames")]
    public void HeaderBreakingARule_IsAViolationNamingIt(
        ushort command, byte flags, byte status, ulong seq, ulong id, int length, ViolationKind kind, string reason)
    {
        byte[] frame = Frames.Raw((Command)command, (FrameFlags)flags, seq, id, new byte[length], (WireError)status);
        var buffer = new ReadOnlySequence<byte>(frame);

        Assert.Equal(FrameReadStatus.Violation, FrameDecoder.TryReadFrame(ref buffer, Limit, out _, out ProtocolViolation? violation));
        Assert.Equal(kind, violation!.Kind);
        Assert.Contains(reason, violation.Reason);
    }

    [Fact]
    public void SeveralFramesInOneBuffer_DecodeOneAtATime()
    {
        byte[] ping = Frames.Request(PingRequest.Instance, seq: 8, id: 4);
        var buffer = new ReadOnlySequence<byte>([.. s_lockFrame, .. ping, .. s_lockFrame.AsSpan(0, 10)]);

        Assert.Equal(FrameReadStatus.Frame, FrameDecoder.TryReadFrame(ref buffer, Limit, out Frame first, out _));
        Assert.Equal(FrameReadStatus.Frame, FrameDecoder.TryReadFrame(ref buffer, Limit, out Frame second, out _));
        Assert.Equal(FrameReadStatus.NeedMoreData, FrameDecoder.TryReadFrame(ref buffer, Limit, out _, out _));
        Assert.Equal(Command.Lock, first.Header.Command);
        Assert.Equal(Command.Ping, second.Header.Command);
        Assert.Equal(10, buffer.Length);
    }

    [Fact]
    public void Truncation_InsideHeaderOrPayload_IsDescribedPrecisely()
    {
        Assert.Null(FrameDecoder.DescribeTruncation(ReadOnlySequence<byte>.Empty, Limit));

        ProtocolViolation inHeader = FrameDecoder.DescribeTruncation(new ReadOnlySequence<byte>(s_lockFrame, 0, 17), Limit)!;
        Assert.Equal(ViolationKind.Truncated, inHeader.Kind);
        Assert.Equal("stream ended 17 bytes into a 40-byte frame header", inHeader.Reason);

        ProtocolViolation inPayload = FrameDecoder.DescribeTruncation(new ReadOnlySequence<byte>(s_lockFrame, 0, FrameHeader.Size + 5), Limit)!;
        Assert.Equal(ViolationKind.Truncated, inPayload.Kind);
        Assert.Contains("LOCK request seq 7 id 3", inPayload.Reason);
        Assert.Contains($"5 of {LockRequest.Size} payload bytes arrived", inPayload.Reason);
    }

    [Fact]
    public void KeyLayoutOnTheWire_IsTheBtrfsDiskKey()
    {
        byte[] body = MessageCodec.EncodeBody(new LockRecoverRequest(9, new BtrfsKey(0x0102030405060708, ItemType.DirIndex, 0x1112131415161718)));

        Assert.Equal(9ul, BinaryPrimitives.ReadUInt64LittleEndian(body));
        Assert.Equal(new BtrfsKey(0x0102030405060708, ItemType.DirIndex, 0x1112131415161718), DiskKeyLayout.Read(body.AsSpan(8)));
    }

    private static byte[] Header(Command command, FrameFlags flags, ulong seq, ulong id, int length)
    {
        var header = new byte[FrameHeader.Size];
        new FrameHeader(command, flags, WireError.Ok, seq, 0, id, length).Write(header);
        return header;
    }
}
