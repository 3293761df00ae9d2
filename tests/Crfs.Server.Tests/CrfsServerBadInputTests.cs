// SPDX-License-Identifier: MIT
using System.IO.Pipelines;
using Crfs.Protocol;
using Crfs.Protocol.Messages;
using Crfs.Protocol.Transports;

namespace Crfs.Server.Tests;

public sealed class CrfsServerBadInputTests
{
    [Fact]
    public async Task Garbage_InsteadOfHello_ClosesThatTransportAndOpensNoSession()
    {
        await using ServerFixture f = ServerFixture.Create();
        await using TestClient other = await f.ConnectAsync();
        (InMemoryTransport raw, InMemoryTransport serverEnd) = InMemoryTransport.CreatePair();
        Task serving = f.Server.ServeTransportAsync(serverEnd);

        await raw.Output.WriteAsync(Enumerable.Repeat((byte)0xA5, 64).ToArray());

        await AssertClosedByServerAsync(raw);
        await serving.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Single(f.Server.GetSessions());
        Assert.True((await other.SendAsync(PingRequest.Instance)).IsOk);
    }

    [Fact]
    public async Task TruncatedHello_ThenEndOfStream_ClosesThatTransportAndOpensNoSession()
    {
        await using ServerFixture f = ServerFixture.Create();
        (InMemoryTransport raw, InMemoryTransport serverEnd) = InMemoryTransport.CreatePair();
        Task serving = f.Server.ServeTransportAsync(serverEnd);

        await raw.Output.WriteAsync("CRFS\u0001\0"u8.ToArray());
        await raw.Output.CompleteAsync();

        await AssertClosedByServerAsync(raw);
        await serving.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Empty(f.Server.GetSessions());
    }

    [Fact]
    public async Task Garbage_AfterGreeting_DropsOnlyThatTransport_OtherSessionsAndVolumeUnaffected()
    {
        await using ServerFixture f = ServerFixture.Create();
        await using TestClient other = await f.ConnectAsync();
        var toServer = new Pipe();
        var toClient = new Pipe();
        ICrfsTransport clientEnd = InMemoryTransport.Wrap(new DuplexPipe(toClient.Reader, toServer.Writer), "test-client");
        ICrfsTransport serverEnd = InMemoryTransport.Wrap(new DuplexPipe(toServer.Reader, toClient.Writer), "test-server");
        _ = f.Server.ServeTransportAsync(serverEnd);
        await using TestClient victim = await TestClient.ConnectAsync(clientEnd);
        Assert.True((await victim.SendAsync(PingRequest.Instance)).IsOk);
        ulong generation = f.Server.Writer.Generation;

        // The connection's writer is idle after the ping: inject a frame with a bad magic.
        await toServer.Writer.WriteAsync(Enumerable.Repeat((byte)0x5A, 40).ToArray());

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!f.Server.GetSessions().Single(s => s.ClientId == victim.ClientId).Detached)
        {
            await Task.Delay(10, timeout.Token);
        }

        Assert.True((await other.SendAsync(PingRequest.Instance)).IsOk);
        Assert.Equal(generation, f.Server.Writer.Generation);
    }

    private static async Task AssertClosedByServerAsync(ICrfsTransport raw)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            ReadResult r = await raw.Input.ReadAsync(timeout.Token);
            raw.Input.AdvanceTo(r.Buffer.End);
            if (r.IsCompleted)
            {
                return;
            }
        }
    }

    private sealed class DuplexPipe(PipeReader input, PipeWriter output) : IDuplexPipe
    {
        public PipeReader Input { get; } = input;

        public PipeWriter Output { get; } = output;
    }
}
