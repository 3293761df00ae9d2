// SPDX-License-Identifier: MIT
using System.Collections.Concurrent;
using Crfs.Format.Btrfs;
using Crfs.Protocol.Framing;
using Crfs.Protocol.Messages;
using Crfs.Protocol.Tests.Infrastructure;
using Crfs.Protocol.Transports;
using Microsoft.Extensions.Logging;

namespace Crfs.Protocol.Tests;

public class CrfsConnectionTests
{
    private static readonly TimeSpan s_patience = Peers.Patience;

    [Fact]
    public async Task Request_GetsItsTypedReply()
    {
        (CrfsConnection client, CrfsConnection server) = await Peers.ConnectAsync(
            serverHandler: Peers.Handler(m => m is AllocInoRequest a ? Reply.Ok(new AllocInoReply(a.OpSeq * 1024, a.Count)) : Reply.Error(WireError.Invalid)));
        await using (client)
        await using (server)
        {
            Reply<AllocInoReply> reply = await client.SendRequestAsync(new AllocInoRequest(3, 5, InodeKind.File, 10)).WaitAsync(s_patience);

            Assert.True(reply.IsOk);
            Assert.Equal(new AllocInoReply(3072, 10), reply.Value);
        }
    }

    [Fact]
    public async Task ErrorStatus_IsReturnedAsAValueWithoutABody()
    {
        (CrfsConnection client, CrfsConnection server) = await Peers.ConnectAsync(serverHandler: Peers.Handler(_ => Reply.Error(WireError.NotFound)));
        await using (client)
        await using (server)
        {
            Reply<ItemReadReply> reply = await client.SendRequestAsync(new ItemReadRequest(Samples.Range, Samples.Range.Start, 100)).WaitAsync(s_patience);

            Assert.Equal(WireError.NotFound, reply.Status);
            Assert.Null(reply.Body);
            Assert.Throws<InvalidOperationException>(() => reply.Value);
        }
    }

    [Fact]
    public async Task ManyParallelRequestsInBothDirections_AnsweredOutOfOrder_EachGetsItsOwnReply()
    {
        var random = new Random(5);
        var delays = Enumerable.Range(0, 400).Select(_ => random.Next(0, 4)).ToArray();
        var serverHandler = Peers.Handler(async m =>
        {
            var a = (AllocInoRequest)m;
            await Task.Delay(delays[a.OpSeq % 400]);
            return Reply.Ok(new AllocInoReply(a.OpSeq * 1000, a.Count));
        });
        var clientHandler = Peers.Handler(async m =>
        {
            var q = (InUseQueryRequest)m;
            await Task.Delay(delays[q.Group % 400]);
            return Reply.Ok(new InUseQueryReply(BitConverter.GetBytes(q.Group * 3)));
        });
        (CrfsConnection client, CrfsConnection server) = await Peers.ConnectAsync(clientHandler, serverHandler);
        await using (client)
        await using (server)
        {
            Task<Reply<AllocInoReply>>[] up = [.. Enumerable.Range(1, 400).Select(i => client.SendRequestAsync(new AllocInoRequest((ulong)i, 5, InodeKind.Directory, (uint)i)))];
            Task<Reply<InUseQueryReply>>[] down = [.. Enumerable.Range(1, 200).Select(i => server.SendRequestAsync(new InUseQueryRequest(5, (ulong)i)))];
            Reply<AllocInoReply>[] upReplies = await Task.WhenAll(up).WaitAsync(s_patience);
            Reply<InUseQueryReply>[] downReplies = await Task.WhenAll(down).WaitAsync(s_patience);

            for (int i = 1; i <= 400; i++)
            {
                Assert.Equal(new AllocInoReply((ulong)i * 1000, (uint)i), upReplies[i - 1].Value);
            }

            for (int i = 1; i <= 200; i++)
            {
                Assert.Equal(BitConverter.GetBytes((ulong)i * 3), downReplies[i - 1].Value.Bitmap.ToArray());
            }
        }
    }

    [Fact]
    public async Task MessageLargerThanThePayloadLimit_TravelsAsAMoreRun()
    {
        var options = new CrfsConnectionOptions { MaxPayload = WireFormat.MinMaxPayload };
        byte[] data = new byte[(3 * WireFormat.MinMaxPayload) + 123];
        new Random(9).NextBytes(data);
        (CrfsConnection client, CrfsConnection server) = await Peers.ConnectAsync(
            serverHandler: Peers.Handler(m => m is CommitRequest c
                ? Reply.Ok(new CommitReply([new WireItem(new BtrfsKey(c.Data[0].Ino, ItemType.ExtentData, 0), c.Data[0].Data)]))
                : Reply.Error(WireError.Invalid)),
            options: options);
        await using (client)
        await using (server)
        {
            Reply<CommitReply> reply = await client.SendRequestAsync(new CommitRequest(1, 5, [], [DataOperation.Write(300, 0, data)])).WaitAsync(s_patience);

            Assert.Equal(data, reply.Value.ServerItems[0].Value.ToArray());
            Assert.True(client.GetStreamSnapshot().HighestSent >= 4, "the request should have taken at least four frames");
            Assert.True(server.GetStreamSnapshot().HighestSent >= 4, "the reply should have taken at least four frames");
        }
    }

    [Fact]
    public async Task TinyPipeThresholds_StillCarryLargeMessagesBothWays()
    {
        byte[] data = new byte[1 << 20];
        new Random(4).NextBytes(data);
        (CrfsConnection client, CrfsConnection server) = await Peers.ConnectAsync(
            serverHandler: Peers.Handler(m => Reply.Ok(new DataReadReply(data.AsMemory(0, (int)((DataReadRequest)m).Length)))),
            pauseWriterThreshold: 4096);
        await using (client)
        await using (server)
        {
            Task<Reply<DataReadReply>>[] reads = [.. Enumerable.Range(0, 8).Select(_ => client.SendRequestAsync(new DataReadRequest(5, 300, 0, (uint)data.Length)))];
            Reply<DataReadReply>[] replies = await Task.WhenAll(reads).WaitAsync(s_patience);

            Assert.All(replies, r => Assert.Equal(data, r.Value.Data.ToArray()));
        }
    }

    [Fact]
    public async Task RequestsSentBeforeTheGreeting_AreHeldAndDeliveredAfterIt()
    {
        var seen = new ConcurrentQueue<ulong>();
        var client = new CrfsConnection(ConnectionRole.Client, DelegateRequestHandler.RefuseAll);
        var server = new CrfsConnection(ConnectionRole.Server, Peers.Handler(m =>
        {
            seen.Enqueue(((AllocInoRequest)m).OpSeq);
            return Reply.Ok(new AllocInoReply(1, 1));
        }));
        await using (client)
        await using (server)
        {
            Task<Reply<AllocInoReply>> early1 = client.SendRequestAsync(new AllocInoRequest(1, 5, InodeKind.File, 1));
            Task<Reply<AllocInoReply>> early2 = client.SendRequestAsync(new AllocInoRequest(2, 5, InodeKind.File, 1));
            Assert.Equal(ConnectionState.Detached, client.State);
            Assert.False(early1.IsCompleted);

            (InMemoryTransport a, InMemoryTransport b) = InMemoryTransport.CreatePair();
            await Peers.GreetAsync(client, server, a, b);
            await Task.WhenAll(early1, early2).WaitAsync(s_patience);

            Assert.Equal([1ul, 2ul], seen);
        }
    }

    [Fact]
    public async Task FramesDribbledOneByteAtATime_AreReassembledByTheServer()
    {
        var server = new CrfsConnection(ConnectionRole.Server, Peers.Handler(_ => Reply.Ok(PingReply.Instance)));
        await using (server)
        {
            (InMemoryTransport peer, InMemoryTransport serverEnd) = InMemoryTransport.CreatePair();
            byte[] bytes = [.. Frames.Hello(Peers.ClientHello()), .. Frames.Request(PingRequest.Instance, seq: 1, id: 9)];
            Task dribble = Task.Run(async () =>
            {
                foreach (byte b in bytes)
                {
                    await peer.Output.WriteAsync(new[] { b });
                }
            });

            HelloReadResult read = await CrfsConnection.ReadHelloAsync(serverEnd).WaitAsync(s_patience);
            await server.AcceptAsync(read.Hello!, Peers.ServerReply(HelloMode.New)).WaitAsync(s_patience);
            await dribble.WaitAsync(s_patience);

            Frame helloReply = await Frames.ReadAsync(peer.Input).WaitAsync(s_patience);
            Frame pong = await Frames.ReadAsync(peer.Input).WaitAsync(s_patience);
            Assert.Equal(Command.Hello, helloReply.Header.Command);
            Assert.Equal(new FrameHeader(Command.Ping, FrameFlags.Response, WireError.Ok, 1, 1, 9, 0), pong.Header);
        }
    }

    [Fact]
    public async Task RepeatedSeq_IsDroppedAsADuplicate_AndTheStreamGoesOn()
    {
        int handled = 0;
        var logger = new ListLogger();
        var server = new CrfsConnection(ConnectionRole.Server, Peers.Handler(_ =>
        {
            Interlocked.Increment(ref handled);
            return Reply.Ok(PingReply.Instance);
        }), logger: logger);
        await using (server)
        {
            (InMemoryTransport peer, InMemoryTransport serverEnd) = InMemoryTransport.CreatePair();
            byte[] first = Frames.Request(PingRequest.Instance, seq: 1, id: 1);
            byte[] bytes = [.. Frames.Hello(Peers.ClientHello()), .. first, .. first, .. Frames.Request(PingRequest.Instance, seq: 2, id: 2)];
            await peer.Output.WriteAsync(bytes);
            HelloReadResult read = await CrfsConnection.ReadHelloAsync(serverEnd).WaitAsync(s_patience);
            await server.AcceptAsync(read.Hello!, Peers.ServerReply(HelloMode.New)).WaitAsync(s_patience);

            await Frames.ReadAsync(peer.Input).WaitAsync(s_patience);
            Frame one = await Frames.ReadAsync(peer.Input).WaitAsync(s_patience);
            Frame two = await Frames.ReadAsync(peer.Input).WaitAsync(s_patience);

            Assert.Equal((1ul, 1ul), (one.Header.Seq, one.Header.RequestId));
            Assert.Equal((2ul, 2ul), (two.Header.Seq, two.Header.RequestId));
            Assert.Equal(2, handled);
            Assert.Equal(2ul, server.GetStreamSnapshot().Delivered);
            Assert.Contains(logger.Entries, e => e.EventId == 200 && e.Message.Contains("dropped duplicate frame seq 1 id 1 (delivered up to seq 1)", StringComparison.Ordinal));
        }
    }

    public static IEnumerable<object[]> MalformedInputs() =>
    [
        ["oversize", OversizeHeader(), ViolationKind.PayloadTooLarge, "exceeds the limit 4194304"],
        ["bad magic", "SSH-2.0-OpenSSH_9.6\r\n"u8.ToArray(), ViolationKind.BadMagic, "bad frame magic 0x2d485353"],
        ["bad crc", Corrupt(Frames.Request(PingRequest.Instance, 1, 1)), ViolationKind.BadChecksum, "does not match the computed"],
        ["unknown command", Frames.Raw((Command)77, FrameFlags.None, 1, 1, []), ViolationKind.UnknownCommand, "unknown command 77"],
        ["truncated header", Frames.Request(PingRequest.Instance, 1, 1)[..17], ViolationKind.Truncated, "stream ended 17 bytes into a 40-byte frame header"],
        ["truncated body", Frames.Request(new AllocInoRequest(1, 5, InodeKind.File, 1), 1, 1)[..50], ViolationKind.Truncated, "10 of 21 payload bytes arrived"],
        ["short body", Frames.Raw(Command.Lock, FrameFlags.None, 1, 1, new byte[5]), ViolationKind.BodyTooShort, "LOCK request body: field 'range' needs 8 bytes at offset 0 but the body has 5 (seq 1, id 1)"],
        ["wrong direction", Frames.Request(SyncRequest.Instance, 1, 1), ViolationKind.UnexpectedCommand, "a client may not send SYNC requests"],
        ["sequence gap", Frames.Request(PingRequest.Instance, 2, 1), ViolationKind.BadSequence, "seq 2 skips ahead of the next expected 1"],
        ["second hello", Frames.Hello(Peers.ClientHello()), ViolationKind.UnexpectedCommand, "a second HELLO on one transport"],
        ["ack from the future", Frames.Request(PingRequest.Instance, 1, 1, ack: 5), ViolationKind.BadSequence, "ack 5 covers frames never sent"],
    ];

    [Theory]
    [MemberData(nameof(MalformedInputs))]
    public async Task MalformedInputAfterGreeting_ClosesTheConnectionWithThePreciseReason_AndFailsRequestsInFlight(
        string name, byte[] bytes, ViolationKind kind, string reason)
    {
        var logger = new ListLogger();
        var server = new CrfsConnection(ConnectionRole.Server, DelegateRequestHandler.RefuseAll, logger: logger);
        await using (server)
        {
            (InMemoryTransport peer, InMemoryTransport serverEnd) = InMemoryTransport.CreatePair();
            await peer.Output.WriteAsync(Frames.Hello(Peers.ClientHello()));
            HelloReadResult read = await CrfsConnection.ReadHelloAsync(serverEnd).WaitAsync(s_patience);
            await server.AcceptAsync(read.Hello!, Peers.ServerReply(HelloMode.New)).WaitAsync(s_patience);
            Task<Reply<SyncReply>> inFlight = server.SendRequestAsync(SyncRequest.Instance);

            await peer.Output.WriteAsync(bytes);
            if (kind == ViolationKind.Truncated)
            {
                await peer.Output.CompleteAsync();
            }

            DisconnectReason closed = await server.Completion.WaitAsync(s_patience);

            Assert.Equal(DisconnectKind.ProtocolViolation, closed.Kind);
            Assert.Equal(kind, closed.Violation!.Kind);
            Assert.Contains(reason, closed.Violation.Reason);
            ConnectionClosedException failed = await Assert.ThrowsAsync<ConnectionClosedException>(() => inFlight);
            Assert.Same(closed, failed.Reason);
            Assert.Equal(ConnectionState.Closed, server.State);
            Assert.Contains(logger.Entries, e => e.EventId == 103 && e.Level == LogLevel.Warning && e.Message.Contains(reason, StringComparison.Ordinal));
            _ = name;
        }
    }

    [Fact]
    public async Task FirstFrameThatIsNotAHello_IsRefusedAndTheTransportDisposed()
    {
        (InMemoryTransport peer, InMemoryTransport serverEnd) = InMemoryTransport.CreatePair();
        await peer.Output.WriteAsync(Frames.Request(PingRequest.Instance, 1, 1));

        HelloReadResult read = await CrfsConnection.ReadHelloAsync(serverEnd).WaitAsync(s_patience);

        Assert.Null(read.Hello);
        Assert.Equal(ViolationKind.UnexpectedCommand, read.Failure!.Violation!.Kind);
        Assert.Contains("the first frame on a transport must be a HELLO request", read.Failure.Message);
        System.IO.Pipelines.ReadResult end = await peer.Input.ReadAsync().AsTask().WaitAsync(s_patience);
        Assert.True(end.IsCompleted);
    }

    [Fact]
    public async Task HelloOfAnotherProtocolVersion_IsAnsweredProtocolErrorAndTheClientSeesARefusal()
    {
        var client = new CrfsConnection(ConnectionRole.Client, DelegateRequestHandler.RefuseAll);
        await using (client)
        {
            (InMemoryTransport a, InMemoryTransport b) = InMemoryTransport.CreatePair();
            Task<GreetingResult> connect = client.ConnectAsync(a, Peers.ClientHello() with { ProtocolVersion = 99 });
            HelloReadResult read = await CrfsConnection.ReadHelloAsync(b).WaitAsync(s_patience);
            GreetingResult result = await connect.WaitAsync(s_patience);

            Assert.Null(read.Hello);
            Assert.Contains($"speaks protocol version 99, this server speaks {WireFormat.ProtocolVersion}", read.Failure!.Message);
            Assert.Equal(GreetingOutcome.Refused, result.Outcome);
            Assert.Equal(WireError.ProtocolError, result.Status);
        }
    }

    [Fact]
    public async Task EvictedMode_IsARefusalThatClosesANonResumableConnection()
    {
        var client = new CrfsConnection(ConnectionRole.Client, DelegateRequestHandler.RefuseAll);
        await using (client)
        {
            Task<Reply<PingReply>> queued = client.SendRequestAsync(PingRequest.Instance);
            (InMemoryTransport a, InMemoryTransport b) = InMemoryTransport.CreatePair();
            Task<GreetingResult> connect = client.ConnectAsync(a, Peers.ClientHello());
            HelloReadResult read = await CrfsConnection.ReadHelloAsync(b).WaitAsync(s_patience);
            await read.Hello!.RefuseAsync(Peers.ServerReply(HelloMode.Evicted)).WaitAsync(s_patience);
            GreetingResult result = await connect.WaitAsync(s_patience);

            Assert.Equal(GreetingOutcome.Refused, result.Outcome);
            Assert.Equal(HelloMode.Evicted, result.Reply!.Mode);
            ConnectionClosedException failed = await Assert.ThrowsAsync<ConnectionClosedException>(() => queued.WaitAsync(s_patience));
            Assert.Contains("HELLO refused with mode Evicted", failed.Reason.Message);
        }
    }

    [Fact]
    public async Task HandlerThatThrows_AnswersIoAndLogsIt()
    {
        var logger = new ListLogger();
        (CrfsConnection client, CrfsConnection server) = await Peers.ConnectAsync(
            serverHandler: Peers.Handler((Func<RequestMessage, Reply>)(_ => throw new InvalidOperationException("boom"))), logger: logger);
        await using (client)
        await using (server)
        {
            Reply<PingReply> reply = await client.SendRequestAsync(PingRequest.Instance).WaitAsync(s_patience);

            Assert.Equal(WireError.Io, reply.Status);
            Assert.Contains(logger.Entries, e => e.EventId == 202 && e.Message.Contains("PING request seq 1 id 1", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task HandlerReplyWithTheWrongBody_AnswersIo()
    {
        var logger = new ListLogger();
        (CrfsConnection client, CrfsConnection server) = await Peers.ConnectAsync(serverHandler: Peers.Handler(_ => Reply.Ok(SyncReply.Instance)), logger: logger);
        await using (client)
        await using (server)
        {
            Reply<PingReply> reply = await client.SendRequestAsync(PingRequest.Instance).WaitAsync(s_patience);

            Assert.Equal(WireError.Io, reply.Status);
            Assert.Contains(logger.Entries, e => e.EventId == 203 && e.Message.Contains("a SYNC body", StringComparison.Ordinal));
        }
    }

    [Fact]
    public async Task CancelledRequest_StopsWaiting_AndItsLateReplyIsDropped()
    {
        var release = new TaskCompletionSource();
        (CrfsConnection client, CrfsConnection server) = await Peers.ConnectAsync(serverHandler: Peers.Handler(async m =>
        {
            if (((AllocInoRequest)m).OpSeq == 1)
            {
                await release.Task;
            }

            return Reply.Ok(new AllocInoReply(1, 1));
        }));
        await using (client)
        await using (server)
        {
            using var cts = new CancellationTokenSource();
            Task<Reply<AllocInoReply>> slow = client.SendRequestAsync(new AllocInoRequest(1, 5, InodeKind.File, 1), cts.Token);
            await cts.CancelAsync();
            await Assert.ThrowsAnyAsync<OperationCanceledException>(() => slow.WaitAsync(s_patience));
            release.SetResult();

            Reply<AllocInoReply> next = await client.SendRequestAsync(new AllocInoRequest(2, 5, InodeKind.File, 1)).WaitAsync(s_patience);

            Assert.True(next.IsOk);
            Assert.Equal(0, client.GetStreamSnapshot().PendingRequests);
        }
    }

    [Fact]
    public async Task SendingARequestOfThePeersDirection_IsRefusedLocally()
    {
        var client = new CrfsConnection(ConnectionRole.Client, DelegateRequestHandler.RefuseAll);
        await using (client)
        {
            await Assert.ThrowsAsync<ArgumentException>(() => client.SendRequestAsync(SyncRequest.Instance));
            await Assert.ThrowsAsync<ArgumentException>(() => client.SendRequestAsync(Peers.ClientHello()));
        }
    }

    [Fact]
    public async Task ClosedConnection_FailsNewRequestsWithTheCloseReason()
    {
        (CrfsConnection client, CrfsConnection server) = await Peers.ConnectAsync();
        await using (server)
        {
            await client.DisposeAsync();

            ConnectionClosedException failed = await Assert.ThrowsAsync<ConnectionClosedException>(() => client.SendRequestAsync(PingRequest.Instance));
            Assert.Equal("disposed", failed.Reason.Message);
            DisconnectReason serverSaw = await server.Completion.WaitAsync(s_patience);
            Assert.Equal(DisconnectKind.PeerClosed, serverSaw.Kind);
        }
    }

    private static byte[] OversizeHeader()
    {
        var header = new byte[FrameHeader.Size];
        new FrameHeader(Command.Commit, FrameFlags.None, WireError.Ok, 1, 0, 1, WireFormat.DefaultMaxPayload + 1).Write(header);
        return header;
    }

    private static byte[] Corrupt(byte[] frame)
    {
        frame[FrameHeaderLayout.Crc] ^= 1;
        return frame;
    }
}
