// SPDX-License-Identifier: MIT
using Crfs.Client.Cache;
using Crfs.Client.Coherence;
using Crfs.Client.Session;
using Crfs.Client.Tests.Fakes;
using Crfs.Format.Btrfs;
using Crfs.Protocol;
using Crfs.Protocol.Framing;
using Crfs.Protocol.Messages;

namespace Crfs.Client.Tests;

public sealed class CrfsSessionTests : IAsyncLifetime
{
    private static readonly TimeSpan s_patience = TimeSpan.FromSeconds(20);
    private readonly FakeServer _server = new();
    private readonly ManualTimeProvider _time = new();
    private CrfsSession _session = null!;

    private static KeyRange Group(ulong ino) => KeyRange.ForInodeGroup(ObjectIds.FsTree, ino);

    private static BtrfsKey K(ulong id, ItemType type = ItemType.InodeItem, ulong offset = 0) => new(id, type, offset);

    public async Task InitializeAsync() => _session = await ConnectAsync(new CrfsSessionOptions { TimeProvider = _time });

    public async Task DisposeAsync()
    {
        await _session.DisposeAsync();
        await _server.DisposeAsync();
    }

    private Task<CrfsSession> ConnectAsync(CrfsSessionOptions options) => CrfsSession.ConnectAsync(_server.ConnectAsync, options);

    private async Task<LockLease> LockAsync(ulong ino, LockMode mode = LockMode.Write)
    {
        LockAcquisition a = await _session.Locks.AcquireAsync(Group(ino), mode).WaitAsync(s_patience);
        Assert.True(a.IsGranted);
        return a.Lease;
    }

    private static ChangeSet Put(ulong ino, byte value, int size = 1)
    {
        var changes = new ChangeSet(ObjectIds.FsTree);
        byte[] bytes = new byte[size];
        bytes[0] = value;
        changes.Put(K(ino), bytes);
        return changes;
    }

    private static async Task EventuallyAsync(Func<bool> condition)
    {
        for (int i = 0; i < 2000 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition());
    }

    [Fact]
    public void Connect_GreetsWithTheSessionsRandomClientId()
    {
        Assert.NotEqual(Guid.Empty, _session.ClientId);
        Assert.Equal(_session.ClientId, _server.LastClientId);
    }

    [Fact]
    public async Task ReadItem_AbsentKeyInsideAReadSpan_SecondLookupCostsNoRoundTrip()
    {
        using LockLease lease = await LockAsync(FakeServer.RootIno, LockMode.Read);

        byte[]? root = await _session.ReadItemAsync(lease.Range, K(FakeServer.RootIno));
        byte[]? missing = await _session.ReadItemAsync(lease.Range, K(FakeServer.RootIno, ItemType.DirItem, 12345));

        Assert.NotNull(root);
        Assert.Null(missing);
        Assert.Equal(1, _session.Counters.RoundTrips(Command.ItemRead));
    }

    [Fact]
    public async Task CommitAsync_SendsOneCommitWithTheAppliedItems_AndWaitsForTheReply()
    {
        using (await LockAsync(300))
        {
            _session.Apply(Put(300, 7));
            _session.Apply(Put(301, 8));
        }

        Assert.True(await _session.CommitAsync().WaitAsync(s_patience));

        CommitRequest commit = Assert.Single(_server.Commits);
        Assert.Equal([K(300), K(301)], commit.Items.Select(i => i.Key));
        Assert.Equal(new byte[] { 8 }, _server.Item(K(301)));
        Assert.Equal(1, _session.Counters.Commits);
        Assert.Empty(_server.Violations);
    }

    [Fact]
    public async Task OpenTransaction_IsCommittedWhenTheIntervalPasses()
    {
        using (await LockAsync(300))
        {
            _session.Apply(Put(300, 1));
        }

        _time.Advance(TimeSpan.FromSeconds(4));
        Assert.Empty(_server.Commits);
        _time.Advance(TimeSpan.FromSeconds(1));

        await EventuallyAsync(() => _server.Commits.Count == 1);
    }

    [Fact]
    public async Task OpenTransaction_IsCommittedWhenItReachesTheDirtyLimit()
    {
        await using CrfsSession small = await ConnectAsync(new CrfsSessionOptions { TimeProvider = _time, DirtyLimit = 4096 });
        LockAcquisition a = await small.Locks.AcquireAsync(Group(300), LockMode.Write).WaitAsync(s_patience);
        using (a.Lease!)
        {
            small.Apply(Put(300, 1, size: 100));
            Assert.Empty(_server.Commits);
            small.Apply(Put(301, 1, size: 5000));
        }

        await EventuallyAsync(() => _server.Commits.Count == 1);
    }

    [Fact]
    public async Task Revoke_CommitsTheTransactionBeforeAnswering_ThenDropsTheRange()
    {
        using (LockLease lease = await LockAsync(300))
        {
            _session.Apply(Put(300, 5));
            Assert.NotNull(await _session.ReadItemAsync(lease.Range, K(300)));
        }

        Reply<RevokeReply> answer = await _server.RevokeAsync(Group(300), LockMode.Write, LockMode.Null).WaitAsync(s_patience);

        Assert.True(answer.IsOk);
        Assert.Single(_server.Commits);
        Assert.Equal(new byte[] { 5 }, _server.Item(K(300)));
        Assert.Equal(0, _session.CachedItems);
        Assert.Equal(LockMode.Null, _session.Locks.GetMode(Group(300)));
    }

    [Fact]
    public async Task LockGrantCarryingItems_PrimesTheCache()
    {
        _server.GrantWithItems = true;
        using LockLease lease = await LockAsync(FakeServer.RootIno, LockMode.Read);

        Assert.NotNull(await _session.ReadItemAsync(lease.Range, K(FakeServer.RootIno)));
        Assert.Null(await _session.ReadItemAsync(lease.Range, K(1000)));
        Assert.Equal(0, _session.Counters.RoundTrips(Command.ItemRead));
    }

    [Fact]
    public async Task CommitReplyItems_ReplaceTheClientsCachedVersions()
    {
        _server.CommitServerItems = _ => [new WireItem(K(300, ItemType.ExtentData, 0), new byte[] { 42 })];
        using LockLease lease = await LockAsync(300);
        _session.MarkKnownEmpty(ObjectIds.FsTree, KeySteps.First(300), KeySteps.Last(300));
        _session.Apply(Put(300, 1));

        Assert.True(await _session.CommitAsync().WaitAsync(s_patience));

        Assert.Equal(new byte[] { 42 }, await _session.ReadItemAsync(lease.Range, K(300, ItemType.ExtentData, 0)));
        Assert.Equal(0, _session.Counters.RoundTrips(Command.ItemRead));
    }

    [Fact]
    public async Task NextTransaction_FillsWhileACommitIsInFlight()
    {
        _server.CommitGate = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        using (await LockAsync(300))
        {
            _session.Apply(Put(300, 1));
            Task<bool> first = _session.CommitAsync();
            _session.Apply(Put(301, 2));
            Assert.False(first.IsCompleted);
            Assert.True(_session.DirtyBytes > 0);
            _server.CommitGate.SetResult();
            Assert.True(await first.WaitAsync(s_patience));
        }

        Assert.True(await _session.CommitAsync().WaitAsync(s_patience));
        Assert.Equal(2, _server.Commits.Count);
        Assert.Equal([K(301)], _server.Commits[1].Items.Select(i => i.Key));
    }

    [Fact]
    public async Task AllocateInode_ServesALeaseWithOneRoundTrip()
    {
        var numbers = new List<ulong>();
        for (int i = 0; i < 100; i++)
        {
            numbers.Add(await _session.AllocateInodeAsync(ObjectIds.FsTree, InodeKind.File));
        }

        Assert.Equal(100, numbers.Distinct().Count());
        Assert.Equal(1, _session.Counters.RoundTrips(Command.AllocIno));
        Assert.Equal(numbers[0] + 99, numbers[^1]);
    }

    [Fact]
    public async Task ServerSync_CommitsTheOpenTransaction()
    {
        using (await LockAsync(300))
        {
            _session.Apply(Put(300, 3));
        }

        Reply<SyncReply> reply = await _server.SyncAsync().WaitAsync(s_patience);

        Assert.True(reply.IsOk);
        Assert.Single(_server.Commits);
    }

    [Fact]
    public async Task InUseQuery_AnswersFromTheRegistry()
    {
        _session.InUse.Acquire(ObjectIds.FsTree, 1024 + 9);

        Reply<InUseQueryReply> reply = await _server.InUseQueryAsync(ObjectIds.FsTree, 1).WaitAsync(s_patience);

        byte[] bitmap = reply.Value.Bitmap.ToArray();
        Assert.Equal(128, bitmap.Length);
        Assert.Equal(0b10, bitmap[1]);
        Assert.Equal(1, bitmap.Count(b => b != 0));
    }

    [Fact]
    public async Task LostTransport_ReconnectsAfterTheBackoff_AndResumesTheSession()
    {
        await _server.DropTransportAsync();
        await EventuallyAsync(() =>
        {
            // Each advance lets the pending backoff delay (100 ms, doubling) expire.
            _time.Advance(TimeSpan.FromSeconds(1));
            return _session.Counters.Reconnects == 1;
        });

        using (await LockAsync(300))
        {
            _session.Apply(Put(300, 6));
        }

        Assert.True(await _session.CommitAsync().WaitAsync(s_patience));
        Assert.Equal(new byte[] { 6 }, _server.Item(K(300)));
    }

    [Fact]
    public async Task ReadData_MergesBufferedWritesOverServerBytes()
    {
        using (await LockAsync(300))
        {
            var write = new ChangeSet(ObjectIds.FsTree);
            write.Data(DataOperation.Write(300, 0, "hello world"u8.ToArray()));
            _session.Apply(write);
        }

        Assert.True(await _session.CommitAsync().WaitAsync(s_patience));
        using (await LockAsync(300))
        {
            var patch = new ChangeSet(ObjectIds.FsTree);
            patch.Data(DataOperation.Write(300, 6, "WORLD"u8.ToArray()));
            _session.Apply(patch);
            byte[] read = await _session.ReadDataAsync(ObjectIds.FsTree, 300, 0, 100, 11);
            Assert.Equal("hello WORLD"u8.ToArray(), read);
        }

        Assert.Equal(1, _session.Counters.RoundTrips(Command.DataRead));
    }
}
