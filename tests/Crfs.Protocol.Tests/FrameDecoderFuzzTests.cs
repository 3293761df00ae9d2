// SPDX-License-Identifier: MIT
using System.Buffers;
using Crfs.Protocol.Framing;
using Crfs.Protocol.Messages;
using Crfs.Protocol.Tests.Infrastructure;

namespace Crfs.Protocol.Tests;

/// <summary>
/// Seeded fuzz loops over the wire decoders. Whatever the bytes, the frame decoder answers Frame,
/// NeedMoreData or Violation and the message codec answers a message or a violation: no other
/// exception, and (because every answer either consumes bytes or stops) no hang.
/// </summary>
public class FrameDecoderFuzzTests
{
    private const int Limit = WireFormat.MinMaxPayload;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void RandomBytes_OnlyEverYieldFramesNeedMoreOrViolations(int seed)
    {
        var random = new Random(seed);
        for (int round = 0; round < 3000; round++)
        {
            byte[] bytes = new byte[random.Next(0, 200)];
            random.NextBytes(bytes);
            if (round % 2 == 0 && bytes.Length >= 4)
            {
                // Start with the magic half the time, so the header checks behind it get exercised.
                BitConverter.GetBytes(WireFormat.Magic).CopyTo(bytes, 0);
            }

            DrainAndCount(bytes);
        }
    }

    [Theory]
    [InlineData(11)]
    [InlineData(12)]
    public void OneToThreeBitFlipsInValidFrames_AreAlwaysCaught(int seed)
    {
        var random = new Random(seed);
        byte[][] valid = [.. Samples.All.Select((m, i) => m.IsResponse ? Frames.Response(m, (ulong)i + 1, 7) : Frames.Request(m, (ulong)i + 1, 7))];
        int caught = 0;
        for (int round = 0; round < 3000; round++)
        {
            byte[] frame = (byte[])valid[random.Next(valid.Length)].Clone();
            var bits = new HashSet<int>();
            int flips = random.Next(1, 4);
            while (bits.Count < flips)
            {
                bits.Add(random.Next(frame.Length * 8));
            }

            foreach (int bit in bits)
            {
                frame[bit / 8] ^= (byte)(1 << (bit % 8));
            }

            var buffer = new ReadOnlySequence<byte>(frame);
            FrameReadStatus status = FrameDecoder.TryReadFrame(ref buffer, WireFormat.HardMaxPayload, out Frame decoded, out _);
            if (status == FrameReadStatus.Frame)
            {
                // Only a flip that a CRC-32C cannot see could get here; CRC-32C sees every 1-3 bit error in these sizes.
                Assert.Fail($"round {round}: a corrupted frame passed as {decoded.Header}");
            }

            caught++;
        }

        Assert.Equal(3000, caught);
    }

    [Theory]
    [InlineData(21)]
    [InlineData(22)]
    public void RandomBodiesBehindValidHeaders_DecodeToMessagesThatReencodeExactly_OrToViolations(int seed)
    {
        var random = new Random(seed);
        Command[] commands = Enum.GetValues<Command>();
        int accepted = 0;
        for (int round = 0; round < 20000; round++)
        {
            Command command = commands[random.Next(commands.Length)];
            bool isResponse = random.Next(2) == 1;
            byte[] body = MutatedBody(random, command, isResponse);

            bool ok;
            Message? message;
            ProtocolViolation? violation;
            try
            {
                ok = MessageCodec.TryDecode(command, isResponse, body, out message, out violation);
            }
            catch (Exception ex)
            {
                Assert.Fail($"round {round}: {CommandInfo.Name(command)} {(isResponse ? "response" : "request")} body {Convert.ToHexString(body)} threw {ex}");
                return;
            }

            if (ok)
            {
                accepted++;
                Assert.Equal(body, MessageCodec.EncodeBody(message!));
            }
            else
            {
                Assert.False(string.IsNullOrEmpty(violation!.Reason));
            }
        }

        Assert.InRange(accepted, 1, 19999);
    }

    // A sample body of the command, perturbed: bytes flipped, cut, extended, or replaced by noise.
    private static byte[] MutatedBody(Random random, Command command, bool isResponse)
    {
        Message[] samples = [.. Samples.All.Where(m => m.Command == command && m.IsResponse == isResponse)];
        byte[] body = MessageCodec.EncodeBody(samples[random.Next(samples.Length)]);
        switch (random.Next(5))
        {
            case 0:
                return body;
            case 1:
                if (body.Length > 0)
                {
                    body[random.Next(body.Length)] = (byte)random.Next(256);
                }

                return body;
            case 2:
                return body[..random.Next(body.Length + 1)];
            case 3:
                byte[] extra = new byte[random.Next(1, 8)];
                random.NextBytes(extra);
                return [.. body, .. extra];
            default:
                byte[] noise = new byte[random.Next(0, 80)];
                random.NextBytes(noise);
                return noise;
        }
    }

    private static void DrainAndCount(byte[] bytes)
    {
        var buffer = new ReadOnlySequence<byte>(bytes);
        for (int guard = 0; guard <= bytes.Length; guard++)
        {
            long before = buffer.Length;
            FrameReadStatus status = FrameDecoder.TryReadFrame(ref buffer, Limit, out _, out ProtocolViolation? violation);
            switch (status)
            {
                case FrameReadStatus.Frame:
                    Assert.True(buffer.Length < before, "a decoded frame must consume bytes");
                    continue;
                case FrameReadStatus.NeedMoreData:
                    Assert.Equal(before, buffer.Length);
                    Assert.True(buffer.IsEmpty || FrameDecoder.DescribeTruncation(buffer, Limit)!.Kind == ViolationKind.Truncated);
                    return;
                default:
                    Assert.False(string.IsNullOrEmpty(violation!.Reason));
                    return;
            }
        }

        Assert.Fail("the decoder kept returning frames without running out of bytes");
    }
}
