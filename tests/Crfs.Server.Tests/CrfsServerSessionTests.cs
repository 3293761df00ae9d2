// SPDX-License-Identifier: MIT
using System.Net;
using Crfs.Protocol;
using Crfs.Protocol.Messages;
using Crfs.Protocol.Transports;

namespace Crfs.Server.Tests;

public sealed class CrfsServerSessionTests
{
    private static readonly KeyRange s_group0 = KeyRange.ForInodeGroup(5, 0);

    [Fact]
    public async Task Hello_InMemory_OpensNewSessionWithThisInstance()
    {
        await using ServerFixture f = ServerFixture.Create();
        await using TestClient client = await f.ConnectAsync();

        Assert.Equal(GreetingOutcome.Attached, client.Greeting.Outcome);
        Assert.Equal(HelloMode.New, client.Greeting.Reply!.Mode);
        Assert.Equal(f.Server.InstanceId, client.Greeting.Reply.ServerInstance);
        Assert.True((await client.SendAsync(PingRequest.Instance)).IsOk);
        Assert.Single(f.Server.GetSessions());
    }

    [Fact]
    public async Task Hello_OverTcpLoopback_ServesPingAndStatfs()
    {
        await using ServerFixture f = ServerFixture.Create();
        await using CrfsTcpListener listener = CrfsTcpListener.Start(new IPEndPoint(IPAddress.Loopback, 0));
        using var stop = new CancellationTokenSource();
        Task serving = f.Server.ListenAsync(listener, stop.Token);
        TcpTransport transport = await TcpTransport.ConnectAsync(listener.LocalEndPoint);
        await using TestClient client = await TestClient.ConnectAsync(transport);

        Assert.Equal(HelloMode.New, client.Greeting.Reply!.Mode);
        Assert.True((await client.SendAsync(PingRequest.Instance)).IsOk);
        Reply<StatfsReply> statfs = await client.SendAsync(StatfsRequest.Instance);
        Assert.True(statfs.IsOk);
        Assert.Equal(256UL * 1024 * 1024 / 4096, statfs.Value.Blocks);
        Assert.InRange(statfs.Value.FreeBlocks, 1UL, statfs.Value.Blocks - 1);
        await stop.CancelAsync();
        await serving;
    }

    [Fact]
    public async Task Hello_ReconnectToSameInstance_ResumesTheSession()
    {
        await using ServerFixture f = ServerFixture.Create();
        await using TestClient first = await f.ConnectAsync();
        await first.LockAsync(s_group0, LockMode.Write);

        // A second transport for the same client id, naming this instance: the old session, its locks intact.
        var resumed = new CrfsConnection(ConnectionRole.Client, DelegateRequestHandler.RefuseAll, new CrfsConnectionOptions { ResumeAcrossTransports = true });
        GreetingResult again = await resumed.ConnectAsync(f.Server.ConnectInMemory(), TestClient.Hello(first.ClientId, f.Server.InstanceId));
        await resumed.DisposeAsync();

        Assert.Equal(HelloMode.Resumed, again.Reply!.Mode);
        ulong id = Assert.Single(f.Server.GetSessions()).Id;
        Assert.Equal(LockMode.Write, f.Server.Locks.GetMode(id, s_group0));
    }

    [Fact]
    public async Task Hello_NamingAnotherServerInstance_IsToldEvicted()
    {
        await using ServerFixture f = ServerFixture.Create();
        await using TestClient client = await TestClient.ConnectAsync(f.Server.ConnectInMemory(), lastInstance: f.Server.InstanceId ^ 1);

        Assert.Equal(GreetingOutcome.Refused, client.Greeting.Outcome);
        Assert.Equal(HelloMode.Evicted, client.Greeting.Reply!.Mode);
        Assert.Empty(f.Server.GetSessions());
    }

    [Fact]
    public async Task Lock_ConflictingRequest_RevokesHolderWithGrantGenThenGrants()
    {
        await using ServerFixture f = ServerFixture.Create();
        await using TestClient a = await f.ConnectAsync();
        await using TestClient b = await f.ConnectAsync();

        LockReply held = await a.LockAsync(s_group0, LockMode.Write);
        LockReply granted = await b.LockAsync(s_group0, LockMode.Read);

        RevokeRequest revoke = Assert.Single(a.Revokes);
        Assert.Equal(s_group0, revoke.Range);
        Assert.Equal((LockMode.Write, LockMode.Read), (revoke.OldMode, revoke.NewMode));
        Assert.Equal(held.GrantGeneration, revoke.GrantGen);
        Assert.Equal(LockMode.Read, granted.NewMode);
        Assert.True(granted.GrantGeneration > held.GrantGeneration);
        ulong[] ids = [.. f.Server.GetSessions().Select(s => s.Id).Order()];
        Assert.Equal(LockMode.Read, f.Server.Locks.GetMode(ids[0], s_group0));
    }

    [Fact]
    public async Task Lock_HolderNeverAnswersRevoke_IsEvictedAndItsSessionReclaimed()
    {
        await using ServerFixture f = ServerFixture.Create();
        await using TestClient silent = await f.ConnectAsync(answerRevokes: false);
        await using TestClient b = await f.ConnectAsync();
        var reclaimed = new TaskCompletionSource<ulong>(TaskCreationOptions.RunContinuationsAsynchronously);
        f.Server.SessionReclaimed += id => reclaimed.TrySetResult(id);
        await silent.LockAsync(s_group0, LockMode.Write);
        ulong silentId = f.Server.GetSessions().Single(s => s.ClientId == silent.ClientId).Id;

        Task<LockReply> waiting = b.LockAsync(s_group0, LockMode.Write);
        await silent.FirstRevoke.WaitAsync(TimeSpan.FromSeconds(30));
        f.Time.Advance(TimeSpan.FromSeconds(61));
        f.Server.Tick();

        Assert.Equal(silentId, await reclaimed.Task.WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(LockMode.Write, (await waiting).NewMode);
        Assert.DoesNotContain(f.Server.GetSessions(), s => s.Id == silentId);
        await using TestClient back = await TestClient.ConnectAsync(f.Server.ConnectInMemory(), clientId: silent.ClientId, lastInstance: f.Server.InstanceId);
        Assert.Equal(HelloMode.Evicted, back.Greeting.Reply!.Mode);
    }

    [Fact]
    public async Task Detached_PastReconnectWindow_SessionIsReclaimed()
    {
        await using ServerFixture f = ServerFixture.Create();
        TestClient client = await f.ConnectAsync();
        await client.LockAsync(s_group0, LockMode.Write);
        ulong id = Assert.Single(f.Server.GetSessions()).Id;
        await client.DisposeAsync();
        await WaitUntilAsync(() => f.Server.GetSessions().Single().Detached);

        f.Time.Advance(TimeSpan.FromSeconds(21));
        f.Server.Tick();

        Assert.Empty(f.Server.GetSessions());
        Assert.Equal(LockMode.Null, f.Server.Locks.GetMode(id, s_group0));
    }

    [Fact]
    public async Task Farewell_ReleasesLocks_AndLaterFarewellHelloGetsFarewellDone()
    {
        await using ServerFixture f = ServerFixture.Create();
        await using TestClient client = await f.ConnectAsync();
        await client.LockAsync(s_group0, LockMode.Write);
        ulong id = Assert.Single(f.Server.GetSessions()).Id;

        Assert.True((await client.SendAsync(FarewellRequest.Instance)).IsOk);

        Assert.Equal(LockMode.Null, f.Server.Locks.GetMode(id, s_group0));
        Assert.Empty(f.Server.GetSessions());
        await using TestClient again = await TestClient.ConnectAsync(f.Server.ConnectInMemory(), clientId: client.ClientId, lastInstance: f.Server.InstanceId, flags: HelloFlags.Farewell);
        Assert.Equal(HelloMode.FarewellDone, again.Greeting.Reply!.Mode);
    }

    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }
}
