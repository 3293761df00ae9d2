// SPDX-License-Identifier: MIT
using Crfs.Client.Coherence;
using Crfs.FileSystem;
using Crfs.Format.Btrfs;
using Crfs.Posix;
using Crfs.Protocol.Messages;

namespace Crfs.Server.Tests;

/// <summary>
/// Eviction end to end, in process: a client whose revoke handling is stuck is evicted at the
/// revoke timeout, the others proceed, its unwritten changes are dropped rather than written late,
/// and it comes back in a new session by itself.
/// </summary>
public sealed class EvictionTests
{
    private static readonly Caller s_root = Caller.Root;

    [Fact]
    public async Task AClientStuckOnARevoke_IsEvictedAtTheTimeout_TheOtherProceeds_AndTheStuckOneFailsThenWorksAgain()
    {
        await using ServerFixture f = ServerFixture.Create();
        await using FsClient a = await FsClient.ConnectAsync(f.Server);
        await using FsClient b = await FsClient.ConnectAsync(f.Server);
        await a.CreateAsync("mine", "durable");
        FsResult<OpenedFile> open = await a.Fs.OpenAsync(s_root, (await a.Fs.LookupAsync(s_root, FsClient.RootIno, FsClient.N("mine"))).Value.Ino, OpenFlags.ReadWrite);
        Assert.True(open.IsOk);
        Assert.True((await a.Fs.WriteAsync(s_root, open.Value.Handle, 0, FsClient.N("LOST!!!"))).IsOk); // dirty, never committed

        // A task of A's that never lets go of the root group: A cannot answer the revoke B causes.
        KeyRange rootGroup = KeyRange.ForInodeGroup(ObjectIds.FsTree, FsClient.RootIno);
        LockSetAcquisition stuck = await a.Session.Locks.AcquireAllAsync([new LockNeed(rootGroup, LockMode.Read)]);
        Assert.True(stuck.IsGranted);
        Task<FsResult<InodeAttributes>> bCreate = b.Fs.CreateAsync(s_root, FsClient.RootIno, FsClient.N("theirs"), 0x1A4).AsTask();
        await WaitUntilAsync(() => f.Server.Locks.QueueLength(rootGroup) > 0, "B's WRITE request to queue behind A");
        Assert.False(bCreate.IsCompleted);

        f.Time.Advance(TimeSpan.FromSeconds(61)); // past the default revoke timeout of 60 s
        f.Server.Tick();

        FsResult<InodeAttributes> created = await bCreate.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Errno.Ok, created.Error);
        Assert.Equal(Errno.Ok, await b.Fs.SyncAsync());
        Assert.Equal("durable", await b.ReadAsync(await b.OpenAsync("mine")));

        // A learns of its eviction: its unwritten change is dropped (whichever commit carried it, the
        // revoke's write-back or this sync, was refused), never written late...
        stuck.Leases.Dispose();
        Errno synced = await a.Fs.SyncAsync();
        await WaitUntilAsync(() => a.Session.Counters.Evictions > 0, "A to notice its eviction");
        Assert.True(synced is Errno.EIO or Errno.Ok, $"sync after the eviction: {synced}");
        Assert.Equal("durable", await b.ReadAsync(await b.OpenAsync("mine")));

        // ...and then it works again in a new session, seeing B's file and not its own lost write.
        FsResult<InodeAttributes> theirs = await RetryAsync(() => a.Fs.LookupAsync(s_root, FsClient.RootIno, FsClient.N("theirs")));
        Assert.Equal(created.Value.Ino, theirs.Value.Ino);
        Assert.Equal("durable", await a.ReadAsync(await a.OpenAsync("mine")));
        Assert.Equal(Errno.Ok, (await a.Fs.CreateAsync(s_root, FsClient.RootIno, FsClient.N("after"), 0x1A4)).Error);
        Assert.Equal(Errno.Ok, await a.Fs.SyncAsync());
        Assert.Equal(Errno.Ok, (await b.Fs.LookupAsync(s_root, FsClient.RootIno, FsClient.N("after"))).Error);
    }

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        for (int i = 0; i < 2000 && !condition(); i++)
        {
            await Task.Delay(10);
        }

        Assert.True(condition(), $"timed out waiting for {what}");
    }

    /// <summary>An operation right after an eviction may still fail with EIO while the new session is greeted.</summary>
    private static async Task<FsResult<T>> RetryAsync<T>(Func<ValueTask<FsResult<T>>> op)
    {
        FsResult<T> r = await op();
        for (int i = 0; i < 200 && r.Error == Errno.EIO; i++)
        {
            await Task.Delay(50);
            r = await op();
        }

        Assert.True(r.IsOk, $"still failing after the new session: {r.Error}");
        return r;
    }
}
