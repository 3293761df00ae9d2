// SPDX-License-Identifier: MIT
using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using Crfs.Format.Btrfs;
using Crfs.Protocol.Messages;
using Crfs.Protocol.Tests.Infrastructure;
using Crfs.Protocol.Transports;

namespace Crfs.Protocol.Tests;

/// <summary>End to end over loopback TCP (port 0): a listener, an accept loop and real sockets.</summary>
public class TcpTransportTests
{
    private static readonly TimeSpan s_patience = Peers.Patience;

    [Fact]
    public async Task ClientAndServer_OverLoopback_ExchangeSmallAndMultiFrameMessages()
    {
        byte[] data = new byte[(9 << 20) + 17];
        new Random(3).NextBytes(data);
        await using var server = new TestServer(Peers.Handler(m => m switch
        {
            LockRequest l => Reply.Ok(new LockReply(l.OldMode, l.NewMode, 7, Samples.Group)),
            CommitRequest c => Reply.Ok(new CommitReply([new WireItem(new BtrfsKey(c.Data[0].Ino, ItemType.ExtentData, 0), c.Data[0].Data)])),
            _ => Reply.Error(WireError.NotSupported),
        }));
        await using CrfsConnection client = await server.ConnectClientAsync();

        Reply<LockReply> locked = await client.SendRequestAsync(new LockRequest(Samples.Range, LockMode.Null, LockMode.Write)).WaitAsync(s_patience);
        Reply<CommitReply> committed = await client.SendRequestAsync(new CommitRequest(1, 5, [], [DataOperation.Write(2050, 0, data)])).WaitAsync(s_patience);
        Reply<StatfsReply> statfs = await client.SendRequestAsync(StatfsRequest.Instance).WaitAsync(s_patience);

        Assert.Equal(7ul, locked.Value.GrantGeneration);
        Samples.AssertEquivalent(Samples.Group, locked.Value.Items);
        Assert.Equal(data, committed.Value.ServerItems[0].Value.ToArray());
        Assert.Equal(WireError.NotSupported, statfs.Status);
        Assert.True(client.GetStreamSnapshot().HighestSent >= 5, "the 9 MiB commit should span several 4 MiB frames");
    }

    [Fact]
    public async Task Sockets_HaveNoDelayKeepAliveAndUserTimeout()
    {
        await using CrfsTcpListener listener = CrfsTcpListener.Start(new IPEndPoint(IPAddress.Loopback, 0));
        ValueTask<TcpTransport> accept = listener.AcceptAsync();
        await using TcpTransport client = await TcpTransport.ConnectAsync(listener.LocalEndPoint, new TcpTransportOptions { UserTimeout = TimeSpan.FromSeconds(7) });
        await using TcpTransport accepted = await accept;

        TcpSocketSettings settings = client.ReadSettings();
        TcpSocketSettings serverSide = accepted.ReadSettings();

        Assert.True(settings.NoDelay);
        Assert.True(settings.KeepAlive);
        Assert.Equal(OperatingSystem.IsLinux() ? 7000 : -1, settings.UserTimeoutMilliseconds);
        Assert.Equal(OperatingSystem.IsLinux() ? 24000 : -1, serverSide.UserTimeoutMilliseconds);
        Assert.NotEqual(0, listener.LocalEndPoint.Port);
    }

    [Fact]
    public async Task GarbageFromOnePeer_ClosesOnlyThatPeer_OthersKeepWorking()
    {
        await using var server = new TestServer(Peers.Handler(m => m is AllocInoRequest a ? Reply.Ok(new AllocInoReply(a.OpSeq, 1)) : Reply.Ok(PingReply.Instance)));
        await using CrfsConnection good = await server.ConnectClientAsync();
        await using CrfsConnection doomed = await server.ConnectClientAsync();

        // A stranger that is not speaking CRFS at all.
        using (var stranger = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp))
        {
            await stranger.ConnectAsync(server.EndPoint);
            await stranger.SendAsync("GET / HTTP/1.1\r\n\r\n"u8.ToArray());
            DisconnectReason refused = await server.NextRefusal.WaitAsync(s_patience);
            Assert.Equal(ViolationKind.BadMagic, refused.Violation!.Kind);
        }

        // A greeted client whose next frame is corrupt: the server drops exactly that session.
        CrfsConnection doomedServerSide = server.Sessions[1];
        Task<CrfsConnection> nextSession = server.NextSession;
        TcpTransport raw = await TcpTransport.ConnectAsync(server.EndPoint);
        await raw.Output.WriteAsync(Frames.Hello(Peers.ClientHello()));
        await Frames.ReadAsync(raw.Input).WaitAsync(s_patience);
        CrfsConnection rawServerSide = await nextSession.WaitAsync(s_patience);
        byte[] bad = Frames.Request(PingRequest.Instance, seq: 1, id: 1);
        bad[^1] ^= 0xFF;
        await raw.Output.WriteAsync(bad);
        DisconnectReason closed = await rawServerSide.Completion.WaitAsync(s_patience);
        await raw.DisposeAsync();
        await doomed.DisposeAsync();

        Reply<AllocInoReply> stillFine = await good.SendRequestAsync(new AllocInoRequest(9, 5, InodeKind.File, 1)).WaitAsync(s_patience);

        Assert.Equal(ViolationKind.BadChecksum, closed.Violation!.Kind);
        Assert.Equal(9ul, stillFine.Value.Start);
        Assert.Equal(ConnectionState.Attached, server.Sessions[0].State);
        Assert.Equal(DisconnectKind.PeerClosed, (await doomedServerSide.Completion.WaitAsync(s_patience)).Kind);
    }

    /// <summary>A minimal server: an accept loop that greets every transport as a new session.</summary>
    private sealed class TestServer : IAsyncDisposable
    {
        private readonly CrfsTcpListener _listener = CrfsTcpListener.Start(new IPEndPoint(IPAddress.Loopback, 0));
        private readonly ICrfsRequestHandler _handler;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task _acceptLoop;
        private readonly ConcurrentQueue<CrfsConnection> _sessions = new();
        private TaskCompletionSource<DisconnectReason> _refusal = new(TaskCreationOptions.RunContinuationsAsynchronously);
        private TaskCompletionSource<CrfsConnection> _session = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TestServer(ICrfsRequestHandler handler)
        {
            _handler = handler;
            _acceptLoop = AcceptLoopAsync();
        }

        public IPEndPoint EndPoint => _listener.LocalEndPoint;

        public IReadOnlyList<CrfsConnection> Sessions => [.. _sessions];

        public Task<DisconnectReason> NextRefusal => _refusal.Task;

        public Task<CrfsConnection> NextSession => _session.Task;

        public async Task<CrfsConnection> ConnectClientAsync()
        {
            var client = new CrfsConnection(ConnectionRole.Client, DelegateRequestHandler.RefuseAll);
            TcpTransport transport = await TcpTransport.ConnectAsync(EndPoint);
            Task<CrfsConnection> session = NextSession;
            GreetingResult result = await client.ConnectAsync(transport, Peers.ClientHello()).WaitAsync(s_patience);
            Assert.Equal(GreetingOutcome.Attached, result.Outcome);
            await session.WaitAsync(s_patience);
            return client;
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await _listener.DisposeAsync();
            await _acceptLoop;
            foreach (CrfsConnection session in _sessions)
            {
                await session.DisposeAsync();
            }

            _stop.Dispose();
        }

        private async Task AcceptLoopAsync()
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpTransport transport;
                try
                {
                    transport = await _listener.AcceptAsync(_stop.Token);
                }
                catch (Exception ex) when (ex is OperationCanceledException or ObjectDisposedException or SocketException)
                {
                    return;
                }

                _ = GreetAsync(transport);
            }
        }

        private async Task GreetAsync(TcpTransport transport)
        {
            HelloReadResult read = await CrfsConnection.ReadHelloAsync(transport);
            if (read.Hello is null)
            {
                Interlocked.Exchange(ref _refusal, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(read.Failure!);
                return;
            }

            var session = new CrfsConnection(ConnectionRole.Server, _handler);
            _sessions.Enqueue(session);
            await session.AcceptAsync(read.Hello, Peers.ServerReply(HelloMode.New));
            Interlocked.Exchange(ref _session, new(TaskCreationOptions.RunContinuationsAsynchronously)).TrySetResult(session);
        }
    }
}
