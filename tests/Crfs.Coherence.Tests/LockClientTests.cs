// SPDX-License-Identifier: MIT
using Crfs.Client.Coherence;
using Crfs.Coherence.Tests.Infrastructure;
using Crfs.Protocol.Messages;

namespace Crfs.Coherence.Tests;

public sealed class LockClientTests
{
    private const LockMode N = LockMode.Null;
    private const LockMode R = LockMode.Read;
    private const LockMode W = LockMode.Write;
    private const LockMode WO = LockMode.WriteOnly;

    private static readonly KeyRange s_g0 = LockRanges.InodeGroup(5, 256);
    private static readonly KeyRange s_g1 = LockRanges.InodeGroup(5, 4096);
    private static readonly KeyRange s_g2 = LockRanges.InodeGroup(5, 9000);
    private static readonly KeyRange s_orphans = LockRanges.Orphans(5);

    private readonly ClientHarness _h = new();

    [Fact]
    public void Acquire_NotHeld_SendsOneRequestForAllWaitersAndCompletesOnTheGrant()
    {
        Task<LockAcquisition> first = _h.Acquire(s_g0, R);
        Task<LockAcquisition> second = _h.Acquire(s_g0, R);
        Assert.Single(_h.Requests);
        Assert.Equal(new SentRequest(1, s_g0, N, R), _h.LastRequest);
        Assert.False(first.IsCompleted || second.IsCompleted);

        _h.Grant(1, s_g0, N, R, grantGen: 7);
        Assert.True(Settled.Of(first).IsGranted && Settled.Of(second).IsGranted);
        Assert.Equal(R, _h.Client.GetMode(s_g0));
        Assert.Equal(2, _h.Client.GetLocks().Single().Users);
    }

    [Fact]
    public void Acquire_ReadWhileWriteIsHeld_IsAdmittedWithoutAMessage()
    {
        LockLease writer = _h.Take(s_g0, W, grantGen: 1);
        LockLease reader = _h.Hold(s_g0, R);
        Assert.Single(_h.Requests);
        Assert.Equal((W, R), (writer.Mode, reader.Mode));
    }

    [Fact]
    public void Acquire_ReadersAndAWriterWaiting_RequestsWriteForAllOfThem()
    {
        Task<LockAcquisition> reader = _h.Acquire(s_g0, R);
        _h.Grant(1, s_g0, N, R, 1);
        Task<LockAcquisition> writer = _h.Acquire(s_g0, W);
        Assert.Equal(new SentRequest(2, s_g0, R, W), _h.LastRequest);

        _h.Dispose(Settled.Of(reader).Lease!);
        Task<LockAcquisition> r2 = _h.Acquire(s_g0, R);
        Assert.True(r2.IsCompleted);
        _h.Grant(2, s_g0, R, W, 2);
        Assert.True(Settled.Of(writer).IsGranted);
        Assert.Equal(2, _h.Requests.Count);
    }

    [Fact]
    public void Revoke_WriteToNull_WaitsForUsersThenFlushesInvalidatesAndAnswers()
    {
        LockLease user = _h.Take(s_g0, W, grantGen: 4);
        _h.Log.Clear();
        _h.Revoke(s_g0, 4, W, N);
        Assert.Empty(_h.Log);

        // No new user while the revoke is pending.
        Task<LockAcquisition> late = _h.Acquire(s_g0, R);
        Assert.False(late.IsCompleted);

        _h.Dispose(user);
        Assert.Equal(["flush", "invalidate", "answer Write->Null", "request Read"], _h.Log);
        Assert.Equal(new SentAnswer(s_g0, 4, W, N), _h.Answers.Single());
        Assert.Equal(N, _h.Client.GetMode(s_g0));
        Assert.False(late.IsCompleted);
    }

    [Fact]
    public void Revoke_WriteToRead_FlushesWithoutInvalidatingAndKeepsAdmittingReaders()
    {
        _h.HoldFlushes = true;
        LockLease writer = _h.Take(s_g0, W, grantGen: 4);
        _h.Log.Clear();
        _h.Revoke(s_g0, 4, W, R);
        _h.Dispose(writer);
        Assert.Equal(["flush"], _h.Log);

        LockLease reader = _h.Hold(s_g0, R);
        Task<LockAcquisition> writer2 = _h.Acquire(s_g0, W);
        Assert.False(writer2.IsCompleted);

        _h.CompleteFlush();
        Assert.Equal(["flush", "answer Write->Read", "request Write"], _h.Log);
        Assert.Equal(R, _h.Client.GetMode(s_g0));
        Assert.Equal(R, reader.Mode);
    }

    [Fact]
    public void Revoke_OfAReadLock_InvalidatesWithoutFlushing()
    {
        LockLease reader = _h.Take(s_g0, R, grantGen: 2);
        _h.Dispose(reader);
        _h.Log.Clear();
        _h.Revoke(s_g0, 2, R, N);
        Assert.Equal(["invalidate", "answer Read->Null"], _h.Log);
    }

    [Fact]
    public void Revoke_ForALockNotHeldOrAnOlderGrant_IsAnsweredAtOnce()
    {
        _h.Revoke(s_g1, 3, R, N);
        Assert.Equal(new SentAnswer(s_g1, 3, R, N), _h.Answers.Single());

        LockLease user = _h.Take(s_g0, W, grantGen: 9);
        _h.Revoke(s_g0, 8, W, N);
        Assert.Equal(new SentAnswer(s_g0, 8, W, N), _h.Answers[^1]);
        Assert.Equal(W, _h.Client.GetMode(s_g0));
        Assert.DoesNotContain("flush", _h.Log);
        _h.Dispose(user);
    }

    [Fact]
    public void Revoke_ArrivingBeforeItsGrant_WaitsForTheGrantAndLetsItsWaitersInFirst()
    {
        Task<LockAcquisition> waiter = _h.Acquire(s_g0, W);
        _h.Revoke(s_g0, 5, W, N);
        Assert.Empty(_h.Answers);

        _h.Grant(_h.LastRequest.RequestId, s_g0, N, W, 5);
        Assert.True(Settled.Of(waiter).IsGranted);
        Assert.Empty(_h.Answers);

        _h.Dispose(Settled.Of(waiter).Lease!);
        Assert.Equal(new SentAnswer(s_g0, 5, W, N), _h.Answers.Single());
        Assert.Equal(N, _h.Client.GetMode(s_g0));
    }

    [Fact]
    public void Revoke_Duplicates_AreAnsweredOnceAndThenEchoed()
    {
        _h.HoldFlushes = true;
        _h.Dispose(_h.Take(s_g0, W, grantGen: 3));
        _h.Revoke(s_g0, 3, W, N);
        _h.Revoke(s_g0, 3, W, N);
        Assert.Equal(1, _h.HeldFlushCount);
        _h.CompleteFlush();
        Assert.Single(_h.Answers);

        // A resend arriving after the answer is echoed again, which the server ignores.
        _h.Revoke(s_g0, 3, W, N);
        Assert.Equal(2, _h.Answers.Count);
        Assert.Equal(1, _h.Log.Count(l => l == "flush"));
    }

    [Fact]
    public void Grant_Duplicate_IsIgnored()
    {
        LockLease user = _h.Take(s_g0, W, grantGen: 3);
        _h.Dispose(user);
        _h.Revoke(s_g0, 3, W, N);
        _h.Grant(1, s_g0, N, W, 3);
        Assert.Equal(N, _h.Client.GetMode(s_g0));
    }

    [Fact]
    public void IdleLocks_BeyondTheLimit_AreWrittenBackAndReleasedOldestFirst()
    {
        var h = new ClientHarness(idleLockLimit: 1);
        h.Dispose(h.Take(s_g0, W, grantGen: 1));
        h.Dispose(h.Take(s_g1, R, grantGen: 2));
        Assert.Equal(new SentRequest(3, s_g0, N, N), h.LastRequest);
        Assert.Equal(["request Write", "request Read", "flush", "invalidate", "request Null"], h.Log);
        Assert.Equal(1, h.Client.IdleCount);

        h.Grant(3, s_g0, W, N, 3);
        Assert.Equal([s_g1], h.Client.GetLocks().Select(l => l.Range));

        // A read-only lock is released without a write-back.
        h.Log.Clear();
        h.Dispose(h.Take(s_g2, R, grantGen: 4));
        Assert.Equal(["request Read", "invalidate", "request Null"], h.Log);
    }

    [Fact]
    public void IdleLock_UsedAgain_LeavesTheLruAndIsKept()
    {
        var h = new ClientHarness(idleLockLimit: 1);
        h.Dispose(h.Take(s_g0, W, grantGen: 1));
        Assert.Equal(1, h.Client.IdleCount);
        LockLease again = h.Hold(s_g0, R);
        Assert.Equal(0, h.Client.IdleCount);
        h.Dispose(again);
        Assert.Equal(1, h.Client.IdleCount);
        Assert.Single(h.Requests);
    }

    [Fact]
    public void ModeChange_BetweenWriteOnlyAndWrite_ReleasesFirst()
    {
        LockLease blind = _h.Take(s_orphans, WO, grantGen: 1);
        Task<LockAcquisition> reader = _h.Acquire(s_orphans, R);
        Assert.Single(_h.Requests);

        _h.Dispose(blind);
        Assert.Equal(new SentRequest(2, s_orphans, N, N), _h.LastRequest);
        Assert.Equal(["request WriteOnly", "flush", "invalidate", "request Null"], _h.Log);

        _h.Grant(2, s_orphans, WO, N, 2);
        Assert.Equal(new SentRequest(3, s_orphans, N, R), _h.LastRequest);
        _h.Grant(3, s_orphans, N, R, 3);
        Assert.True(Settled.Of(reader).IsGranted);
    }

    [Fact]
    public void Eviction_FailsWaitersAndLaterAcquisitionsUntilReset()
    {
        LockLease held = _h.Take(s_g0, W, grantGen: 1);
        Task<LockAcquisition> waiting = _h.Acquire(s_g1, R);
        _h.Evict();
        Assert.Equal(LockOutcome.Evicted, Settled.Of(waiting).Outcome);
        Assert.Equal(LockOutcome.Evicted, Settled.Of(_h.Acquire(s_g0, R)).Outcome);
        Assert.True(_h.Client.IsEvicted);

        // Revokes are no longer answered: the server has forgotten this session.
        _h.Revoke(s_g0, 1, W, N);
        _h.Dispose(held);
        Assert.Empty(_h.Answers);

        _h.Reset();
        Assert.False(_h.Client.IsEvicted);
        Assert.Empty(_h.Client.GetLocks());
        Task<LockAcquisition> fresh = _h.Acquire(s_g0, W);
        Assert.Equal(new SentRequest(_h.LastRequest.RequestId, s_g0, N, W), _h.LastRequest);
        _h.Grant(_h.LastRequest.RequestId, s_g0, N, W, 2);
        Assert.True(Settled.Of(fresh).IsGranted);
    }

    [Fact]
    public void Reset_LeasesFromBeforeItDisposeIntoNothing()
    {
        LockLease old = _h.Take(s_g0, W, grantGen: 1);
        _h.Evict();
        _h.Reset();
        LockLease fresh = _h.Take(s_g0, R, grantGen: 2);
        _h.Dispose(old);
        Assert.Equal(1, _h.Client.GetLocks().Single().Users);
        _h.Dispose(fresh);
        Assert.Equal(0, _h.Client.GetLocks().Single().Users);
    }

    [Fact]
    public void WriteBackRefused_ActsAsEvictionAndLeavesTheRevokeUnanswered()
    {
        _h.FlushSucceeds = false;
        LockLease user = _h.Take(s_g0, W, grantGen: 1);
        Task<LockAcquisition> waiting = _h.Acquire(s_g1, R);
        _h.Revoke(s_g0, 1, W, N);
        _h.Dispose(user);
        Assert.Empty(_h.Answers);
        Assert.DoesNotContain("invalidate", _h.Log);
        Assert.True(_h.Client.IsEvicted);
        Assert.Equal(LockOutcome.Evicted, Settled.Of(waiting).Outcome);
    }

    [Fact]
    public void Cancellation_EndsOnlyTheWait_AndTheLateGrantIsKeptIdle()
    {
        using var cts = new CancellationTokenSource();
        Task<LockAcquisition> waiter = _h.Acquire(s_g0, W, cts.Token);
        _h.Run(cts.Cancel);
        Assert.True(waiter.IsCanceled);

        _h.Grant(1, s_g0, N, W, 1);
        ClientLockState state = _h.Client.GetLocks().Single();
        Assert.Equal((W, 0, 0), (state.Mode, state.Users, state.Waiters));
        Assert.Equal(1, _h.Client.IdleCount);
    }

    [Fact]
    public void AcquireAll_TakesRangesInLockOrderOneAtATime()
    {
        KeyRange rename = LockRanges.Rename(5);
        Task<LockSetAcquisition> all = _h.AcquireAll(new(s_g1, W), new(rename, W), new(s_g0, R), new(s_g1, R));
        Assert.Equal([rename], _h.Requests.Select(r => r.Range));
        _h.Grant(_h.LastRequest.RequestId, rename, N, W, 1);
        Assert.Equal(s_g0, _h.LastRequest.Range);
        _h.Grant(_h.LastRequest.RequestId, s_g0, N, R, 2);
        Assert.Equal(new SentRequest(3, s_g1, N, W), _h.LastRequest);
        _h.Grant(3, s_g1, N, W, 3);

        LockSetAcquisition acquired = Settled.Of(all);
        Assert.True(acquired.IsGranted);
        Assert.Equal([rename, s_g0, s_g1], acquired.Leases.Leases.Select(l => l.Range));
        _h.Dispose(acquired.Leases);
        Assert.All(_h.Client.GetLocks(), l => Assert.Equal(0, l.Users));
    }

    [Fact]
    public void AcquireAll_WhenEvictedHalfway_ReleasesWhatItHeld()
    {
        Task<LockSetAcquisition> all = _h.AcquireAll(new(s_g0, W), new(s_g1, W));
        _h.Grant(1, s_g0, N, W, 1);
        _h.Evict();
        Assert.Equal(LockOutcome.Evicted, Settled.Of(all).Outcome);
        Assert.Equal(0, _h.Client.GetLocks().Single(l => l.Range == s_g0).Users);
    }
}
