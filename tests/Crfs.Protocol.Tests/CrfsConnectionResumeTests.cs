// SPDX-License-Identifier: MIT
using System.Collections.Concurrent;
using Crfs.Protocol.Messages;
using Crfs.Protocol.Tests.Infrastructure;
using Crfs.Protocol.Transports;

namespace Crfs.Protocol.Tests;

/// <summary>
/// The sequence mechanics across transports: a Resumed greeting resends exactly what the peer
/// has not acknowledged and the peer delivers each frame once, in order; a New or Recover
/// greeting restarts the stream and requeues unanswered requests.
/// </summary>
public class CrfsConnectionResumeTests
{
    private static readonly TimeSpan s_patience = Peers.Patience;
    private static readonly CrfsConnectionOptions s_resumable = new() { ResumeAcrossTransports = true };

    [Theory]
    [InlineData(new long[] { 3_000, 7_000, 20_000 }, new long[] { 9_000, 2_500, 40_000 })]
    // Greeting: 104 bytes up (HELLO), 73 down (reply). Then ALLOC_INO requests are 61 bytes, replies 52, REVOKEs 84.
    [InlineData(new long[] { 104 + 61 + 10, 104 + (3 * 61) + 5, 1_000 }, new long[] { 73 + 5, 73 + 52 + 12, 300 })]
    public async Task LinkCutMidStream_ThenResumed_DeliversEveryRequestExactlyOnceInOrder(long[] upBudgets, long[] downBudgets)
    {
        const int Up = 300;
        const int Down = 100;
        var serverSaw = new ConcurrentQueue<ulong>();
        var clientSaw = new ConcurrentQueue<ulong>();
        var server = new CrfsConnection(ConnectionRole.Server, Peers.Handler(m =>
        {
            var a = (AllocInoRequest)m;
            serverSaw.Enqueue(a.OpSeq);
            return Reply.Ok(new AllocInoReply(a.OpSeq * 1024, a.Count));
        }), s_resumable);
        var client = new CrfsConnection(ConnectionRole.Client, Peers.Handler(m =>
        {
            var r = (RevokeRequest)m;
            clientSaw.Enqueue(r.Range.Start.ObjectId / KeyRange.InodeGroupSize);
            return Reply.Ok(new RevokeReply(r.Range, r.OldMode, r.NewMode));
        }), s_resumable);
        await using (client)
        await using (server)
        {
            Guid clientId = Guid.NewGuid();
            var link = new CuttableLink(upBudgets[0], downBudgets[0]);
            await Peers.GreetAsync(client, server, link.ClientEnd, link.ServerEnd, HelloMode.New, clientId);

            Task<Reply<AllocInoReply>>[] up = [.. Enumerable.Range(1, Up).Select(i => client.SendRequestAsync(new AllocInoRequest((ulong)i, 5, InodeKind.File, (uint)i)))];
            Task<Reply<RevokeReply>>[] down = [.. Enumerable.Range(1, Down).Select(i => server.SendRequestAsync(
                new RevokeRequest(KeyRange.ForInodeGroup(5, (ulong)i * KeyRange.InodeGroupSize), LockMode.Write, LockMode.Read)))];
            Task everything = Task.WhenAll(Task.WhenAll(up), Task.WhenAll(down));

            int cuts = 0;
            for (int round = 1; round <= upBudgets.Length; round++)
            {
                await Task.WhenAny(link.Cut, everything).WaitAsync(s_patience);
                if (everything.IsCompleted)
                {
                    break;
                }

                cuts++;
                link = round < upBudgets.Length ? new CuttableLink(upBudgets[round], downBudgets[round]) : new CuttableLink();
                await ResumeAsync(client, server, link, clientId);
            }

            if (!everything.IsCompleted)
            {
                await link.CutNowAsync();
                link = new CuttableLink();
                await ResumeAsync(client, server, link, clientId);
            }

            await everything.WaitAsync(s_patience);

            Assert.True(cuts >= 1, "the budgets should have cut the link at least once mid-stream");
            Assert.Equal(Enumerable.Range(1, Up).Select(i => (ulong)i), serverSaw);
            Assert.Equal(Enumerable.Range(1, Down).Select(i => (ulong)i), clientSaw);
            for (int i = 1; i <= Up; i++)
            {
                Assert.Equal(new AllocInoReply((ulong)i * 1024, (uint)i), (await up[i - 1]).Value);
            }

            for (int i = 1; i <= Down; i++)
            {
                Assert.Equal(LockMode.Read, (await down[i - 1]).Value.NewMode);
            }
        }
    }

    [Fact]
    public async Task ServerRestart_RecoverMode_ResendsUnansweredRequestsToTheNewInstance_AndDropsStaleReplies()
    {
        var firstSaw = new ConcurrentQueue<ulong>();
        var secondSaw = new ConcurrentQueue<ulong>();
        var never = new TaskCompletionSource<Reply>();
        var revokeSeen = new TaskCompletionSource();
        var releaseRevoke = new TaskCompletionSource();
        var first = new CrfsConnection(ConnectionRole.Server, Peers.Handler(m =>
        {
            ulong op = ((AllocInoRequest)m).OpSeq;
            firstSaw.Enqueue(op);
            return op <= 2 ? Task.FromResult(Reply.Ok(new AllocInoReply(op, 1))) : never.Task;
        }), s_resumable);
        var client = new CrfsConnection(ConnectionRole.Client, Peers.Handler(async m =>
        {
            var r = (RevokeRequest)m;
            revokeSeen.TrySetResult();
            await releaseRevoke.Task;
            return Reply.Ok(new RevokeReply(r.Range, r.OldMode, r.NewMode));
        }), s_resumable);
        var logger = new ListLogger();
        var second = new CrfsConnection(ConnectionRole.Server, Peers.Handler(m =>
        {
            if (m is PingRequest)
            {
                return Reply.Ok(PingReply.Instance);
            }

            ulong op = ((AllocInoRequest)m).OpSeq;
            secondSaw.Enqueue(op);
            return Reply.Ok(new AllocInoReply(op + 1000, 1));
        }), s_resumable, logger);
        await using (client)
        await using (first)
        await using (second)
        {
            Guid clientId = Guid.NewGuid();
            (InMemoryTransport a1, InMemoryTransport b1) = InMemoryTransport.CreatePair();
            await Peers.GreetAsync(client, first, a1, b1, HelloMode.New, clientId);
            Task<Reply<AllocInoReply>>[] requests = [.. Enumerable.Range(1, 5).Select(i => client.SendRequestAsync(new AllocInoRequest((ulong)i, 5, InodeKind.File, 1)))];
            _ = first.SendRequestAsync(new RevokeRequest(KeyRange.ForInodeGroup(5, 0), LockMode.Write, LockMode.Null));
            await Task.WhenAll(requests[0], requests[1]).WaitAsync(s_patience);
            await revokeSeen.Task.WaitAsync(s_patience);
            while (firstSaw.Count < 5)
            {
                await Task.Delay(5);
            }

            first.Close("server crashed");
            (InMemoryTransport a2, InMemoryTransport b2) = InMemoryTransport.CreatePair();
            Task<GreetingResult> connect = client.ConnectAsync(a2, Peers.ClientHello(clientId, lastServerInstance: 42));
            HelloReadResult read = await CrfsConnection.ReadHelloAsync(b2).WaitAsync(s_patience);
            await second.AcceptAsync(read.Hello!, Peers.ServerReply(HelloMode.Recover, instance: 43)).WaitAsync(s_patience);
            Assert.Equal(GreetingOutcome.Attached, (await connect.WaitAsync(s_patience)).Outcome);
            releaseRevoke.SetResult();

            Reply<AllocInoReply>[] done = await Task.WhenAll(requests).WaitAsync(s_patience);
            Reply<PingReply> ping = await client.SendRequestAsync(PingRequest.Instance).WaitAsync(s_patience);

            Assert.Equal([1ul, 2, 3, 4, 5], firstSaw.ToArray());
            Assert.Equal([3ul, 4, 5], secondSaw.ToArray());
            Assert.Equal([1ul, 2, 1003, 1004, 1005], done.Select(r => r.Value.Start));
            Assert.True(ping.IsOk);
            Assert.Equal(2, client.GetStreamSnapshot().Epoch);
            Assert.DoesNotContain(logger.Entries, e => e.EventId == 201);
        }
    }

    [Fact]
    public async Task ResumedReplyFromAServerThatLostAcknowledgedFrames_FailsTheClientGreetingWithTheReason()
    {
        var client = new CrfsConnection(ConnectionRole.Client, DelegateRequestHandler.RefuseAll, s_resumable);
        var server = new CrfsConnection(ConnectionRole.Server, Peers.Handler(_ => Reply.Ok(PingReply.Instance)), s_resumable);
        await using (client)
        await using (server)
        {
            (InMemoryTransport a1, InMemoryTransport b1) = InMemoryTransport.CreatePair();
            await Peers.GreetAsync(client, server, a1, b1);
            for (int i = 0; i < 4; i++)
            {
                await client.SendRequestAsync(PingRequest.Instance).WaitAsync(s_patience);
            }

            // A peer claiming to be the same server, but acknowledging nothing of what the real one acknowledged.
            (InMemoryTransport a2, InMemoryTransport rawServer) = InMemoryTransport.CreatePair();
            Task<GreetingResult> connect = client.ConnectAsync(a2, Peers.ClientHello());
            await Frames.ReadAsync(rawServer.Input).WaitAsync(s_patience);
            await rawServer.Output.WriteAsync(Frames.HelloReply(Peers.ServerReply(HelloMode.Resumed) with { RecvAck = 0 }));
            GreetingResult result = await connect.WaitAsync(s_patience);

            Assert.Equal(GreetingOutcome.Failed, result.Outcome);
            Assert.Equal(ViolationKind.BadSequence, result.Failure!.Violation!.Kind);
            Assert.Contains("the peer acknowledges only seq 0 but seq up to 4 were acknowledged and discarded before", result.Failure.Message);
            Assert.Equal(ConnectionState.Detached, client.State);
        }
    }

    [Fact]
    public async Task ResumedAcceptOnAConnectionThatNeverSentWhatTheClientAcknowledges_FailsWithTheReason()
    {
        var client = new CrfsConnection(ConnectionRole.Client, DelegateRequestHandler.RefuseAll, s_resumable);
        var server = new CrfsConnection(ConnectionRole.Server, Peers.Handler(_ => Reply.Ok(PingReply.Instance)), s_resumable);
        var stranger = new CrfsConnection(ConnectionRole.Server, DelegateRequestHandler.RefuseAll, s_resumable);
        await using (client)
        await using (server)
        await using (stranger)
        {
            (InMemoryTransport a1, InMemoryTransport b1) = InMemoryTransport.CreatePair();
            await Peers.GreetAsync(client, server, a1, b1);
            for (int i = 0; i < 3; i++)
            {
                await client.SendRequestAsync(PingRequest.Instance).WaitAsync(s_patience);
            }

            (InMemoryTransport a2, InMemoryTransport b2) = InMemoryTransport.CreatePair();
            Task<GreetingResult> connect = client.ConnectAsync(a2, Peers.ClientHello());
            HelloReadResult read = await CrfsConnection.ReadHelloAsync(b2).WaitAsync(s_patience);
            GreetingResult accepted = await stranger.AcceptAsync(read.Hello!, Peers.ServerReply(HelloMode.Resumed)).WaitAsync(s_patience);
            GreetingResult connected = await connect.WaitAsync(s_patience);

            Assert.Equal(GreetingOutcome.Failed, accepted.Outcome);
            Assert.Contains("resume: the peer acknowledges seq 3 but the highest sent is 0", accepted.Failure!.Message);
            Assert.Equal(GreetingOutcome.Failed, connected.Outcome);
            Assert.Equal(DisconnectKind.PeerClosed, connected.Failure!.Kind);
        }
    }

    [Fact]
    public async Task NonResumableConnection_ClosesWhenItsTransportDrops_AndRaisesDetached()
    {
        var detached = new TaskCompletionSource<DisconnectReason>();
        (CrfsConnection client, CrfsConnection server) = await Peers.ConnectAsync(serverHandler: Peers.Handler(_ => new TaskCompletionSource<Reply>().Task));
        client.Detached += (_, reason) => detached.TrySetResult(reason);
        await using (client)
        {
            Task<Reply<PingReply>> inFlight = client.SendRequestAsync(PingRequest.Instance);
            await server.DisposeAsync();

            DisconnectReason reason = await detached.Task.WaitAsync(s_patience);

            Assert.Equal(DisconnectKind.PeerClosed, reason.Kind);
            Assert.Equal(ConnectionState.Closed, client.State);
            await Assert.ThrowsAsync<ConnectionClosedException>(() => inFlight.WaitAsync(s_patience));
        }
    }

    [Fact]
    public async Task ResumableConnection_OnlyDetaches_AndKeepsItsRequestsPending()
    {
        var detached = new TaskCompletionSource<DisconnectReason>();
        var client = new CrfsConnection(ConnectionRole.Client, DelegateRequestHandler.RefuseAll, s_resumable);
        var server = new CrfsConnection(ConnectionRole.Server, Peers.Handler(_ => new TaskCompletionSource<Reply>().Task), s_resumable);
        client.Detached += (_, reason) => detached.TrySetResult(reason);
        await using (client)
        await using (server)
        {
            var link = new CuttableLink();
            await Peers.GreetAsync(client, server, link.ClientEnd, link.ServerEnd);
            Task<Reply<PingReply>> inFlight = client.SendRequestAsync(PingRequest.Instance);
            while (server.GetStreamSnapshot().Delivered < 1)
            {
                await Task.Delay(5);
            }

            await link.CutNowAsync();
            await detached.Task.WaitAsync(s_patience);

            Assert.Equal(ConnectionState.Detached, client.State);
            Assert.False(inFlight.IsCompleted);
            Assert.Equal(1, client.GetStreamSnapshot().PendingRequests);

            client.Close("giving up");
            ConnectionClosedException failed = await Assert.ThrowsAsync<ConnectionClosedException>(() => inFlight.WaitAsync(s_patience));
            Assert.Equal("giving up", failed.Reason.Message);
        }
    }

    private static async Task ResumeAsync(CrfsConnection client, CrfsConnection server, CuttableLink link, Guid clientId)
    {
        Task<GreetingResult> connect = client.ConnectAsync(link.ClientEnd, Peers.ClientHello(clientId, lastServerInstance: 42));
        HelloReadResult read = await CrfsConnection.ReadHelloAsync(link.ServerEnd).WaitAsync(s_patience);
        if (read.Hello is null)
        {
            // The new link was cut before even the HELLO got through; the client's attempt fails too.
            await connect.WaitAsync(s_patience);
            return;
        }

        await server.AcceptAsync(read.Hello, Peers.ServerReply(HelloMode.Resumed)).WaitAsync(s_patience);
        await connect.WaitAsync(s_patience);
    }
}
