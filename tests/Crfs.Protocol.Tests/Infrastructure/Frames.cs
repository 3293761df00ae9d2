// SPDX-License-Identifier: MIT
using System.Buffers;
using System.IO.Pipelines;
using Crfs.Protocol.Framing;
using Crfs.Protocol.Messages;

namespace Crfs.Protocol.Tests.Infrastructure;

/// <summary>Hand-made frames, for tests that play a peer byte by byte.</summary>
public static class Frames
{
    public static byte[] Request(Message body, ulong seq, ulong id, ulong ack = 0) =>
        FrameEncoder.Encode(new FrameHeader(body.Command, FrameFlags.None, WireError.Ok, seq, ack, id, MessageCodec.GetBodyLength(body)), MessageCodec.EncodeBody(body));

    public static byte[] Response(Message body, ulong seq, ulong id, ulong ack = 0) =>
        FrameEncoder.Encode(new FrameHeader(body.Command, FrameFlags.Response, WireError.Ok, seq, ack, id, MessageCodec.GetBodyLength(body)), MessageCodec.EncodeBody(body));

    public static byte[] Hello(HelloRequest hello) =>
        FrameEncoder.Encode(new FrameHeader(Command.Hello, FrameFlags.None, WireError.Ok, 0, 0, 0, HelloRequest.Size), MessageCodec.EncodeBody(hello));

    public static byte[] HelloReply(HelloReply reply) =>
        FrameEncoder.Encode(new FrameHeader(Command.Hello, FrameFlags.Response, WireError.Ok, 0, 0, 0, Messages.HelloReply.Size), MessageCodec.EncodeBody(reply));

    /// <summary>A frame with any header and payload, sealed with a correct checksum.</summary>
    public static byte[] Raw(Command command, FrameFlags flags, ulong seq, ulong id, byte[] payload, WireError status = WireError.Ok, ulong ack = 0) =>
        FrameEncoder.Encode(new FrameHeader(command, flags, status, seq, ack, id, payload.Length), payload);

    /// <summary>Reads one frame from <paramref name="input"/> (throws if the stream ends or breaks the rules).</summary>
    public static async Task<Frame> ReadAsync(PipeReader input, int maxPayload = WireFormat.HardMaxPayload)
    {
        while (true)
        {
            ReadResult result = await input.ReadAsync();
            ReadOnlySequence<byte> buffer = result.Buffer;
            FrameReadStatus status = FrameDecoder.TryReadFrame(ref buffer, maxPayload, out Frame frame, out ProtocolViolation? violation);
            if (status == FrameReadStatus.Frame)
            {
                input.AdvanceTo(buffer.Start);
                return frame;
            }

            if (status == FrameReadStatus.Violation)
            {
                throw new InvalidDataException(violation!.ToString());
            }

            if (result.IsCompleted)
            {
                throw new EndOfStreamException("stream ended before a whole frame");
            }

            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    public static T Decode<T>(Frame frame)
        where T : Message
    {
        Assert.True(MessageCodec.TryDecode(frame.Header.Command, frame.Header.IsResponse, frame.Payload, out Message? message, out ProtocolViolation? violation), violation?.ToString());
        return Assert.IsType<T>(message);
    }
}
