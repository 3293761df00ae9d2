// SPDX-License-Identifier: MIT
using Crfs.Client.Coherence;
using Crfs.Coherence.Tests.Infrastructure;
using Crfs.Coherence.Tests.Simulation;
using Crfs.Protocol.Messages;
using Crfs.Server.Locks;

namespace Crfs.Coherence.Tests;

public sealed class LockServerTests
{
    private const LockMode N = LockMode.Null;
    private const LockMode R = LockMode.Read;
    private const LockMode W = LockMode.Write;
    private const LockMode WO = LockMode.WriteOnly;

    private static readonly KeyRange s_g0 = LockRanges.InodeGroup(5, 256);
    private static readonly KeyRange s_g1 = LockRanges.InodeGroup(5, 4096);
    private static readonly KeyRange s_orphans = LockRanges.Orphans(5);

    private readonly SimTime _time = new();
    private readonly RecordingServerOutbox _out = new();
    private readonly LockServer _server;
    private ulong _lastRequestId;

    public LockServerTests()
    {
        _server = new LockServer(_out, _time, new LockServerOptions
        {
            RevokeResendInterval = TimeSpan.FromSeconds(1),
            RevokeWarning = TimeSpan.FromSeconds(5),
            RevokeTimeout = TimeSpan.FromSeconds(10),
        });
        for (ulong s = 1; s <= 4; s++)
        {
            Assert.True(_server.OpenSession(s));
        }
    }

    [Fact]
    public void Read_BySeveralSessions_IsGrantedToAllAtOnceWithoutRevokes()
    {
        Assert.Equal(LockRequestStatus.Granted, Ask(1, s_g0, R));
        Assert.Equal(LockRequestStatus.Granted, Ask(2, s_g0, R));
        Assert.Equal(LockRequestStatus.Granted, Ask(3, s_g0, R));
        Assert.Empty(_out.Revokes);
        Assert.Equal([R, R, R], _server.GetHoldings().Select(h => h.Mode));
    }

    [Fact]
    public void Write_WhileTwoSessionsRead_RevokesBothToNullAndGrantsAfterTheLastAnswer()
    {
        Ask(1, s_g0, R);
        Ask(2, s_g0, R);
        Assert.Equal(LockRequestStatus.Queued, Ask(3, s_g0, W));
        Assert.Equal([(1ul, N), (2ul, N)], _out.Revokes.Select(r => (r.Session, r.New)));

        Answer(1, s_g0);
        Assert.DoesNotContain(_out.Grants, g => g.Session == 3);
        Answer(2, s_g0);
        SentGrant grant = _out.LastGrantTo(3);
        Assert.Equal((N, W), (grant.Old, grant.New));
        Assert.Equal(W, _server.GetMode(3, s_g0));
        Assert.Equal(N, _server.GetMode(1, s_g0));
    }

    [Fact]
    public void Read_WhileAnotherSessionWrites_DowngradesTheWriterToRead()
    {
        Ask(1, s_g0, W);
        Ask(2, s_g0, R);
        SentRevoke revoke = _out.LastRevokeTo(1);
        Assert.Equal((W, R), (revoke.Old, revoke.New));
        Answer(1, s_g0);
        Assert.Equal(R, _server.GetMode(1, s_g0));
        Assert.Equal(R, _server.GetMode(2, s_g0));
    }

    [Fact]
    public void Write_WhileAnotherSessionWrites_RevokesTheWriterToNull()
    {
        Ask(1, s_g0, W);
        Ask(2, s_g0, W);
        Assert.Equal((W, N), (_out.LastRevokeTo(1).Old, _out.LastRevokeTo(1).New));
    }

    [Fact]
    public void WriteOnly_IsSharedBetweenWritersButRevokedForAReader()
    {
        Assert.Equal(LockRequestStatus.Granted, Ask(1, s_orphans, WO));
        Assert.Equal(LockRequestStatus.Granted, Ask(2, s_orphans, WO));
        Assert.Empty(_out.Revokes);
        Assert.Equal(LockRequestStatus.Queued, Ask(3, s_orphans, R));
        Assert.Equal([(1ul, WO, N), (2ul, WO, N)], _out.Revokes.Select(r => (r.Session, r.Old, r.New)));
    }

    [Fact]
    public void Requests_AreServedInArrivalOrder_EvenWhenALaterOneWouldFitNow()
    {
        Ask(1, s_g0, R);
        Assert.Equal(LockRequestStatus.Queued, Ask(2, s_g0, W));

        // Compatible with the current reader, but it arrived after the writer: it waits.
        Assert.Equal(LockRequestStatus.Queued, Ask(3, s_g0, R));
        Assert.Equal(2, _server.QueueLength(s_g0));

        Answer(1, s_g0);
        Assert.Equal(W, _out.LastGrantTo(2).New);
        Assert.DoesNotContain(_out.Grants, g => g.Session == 3);
        Assert.Equal((W, R), (_out.LastRevokeTo(2).Old, _out.LastRevokeTo(2).New));

        Answer(2, s_g0);
        Assert.Equal(R, _out.LastGrantTo(3).New);
        Assert.Equal(0, _server.QueueLength(s_g0));
    }

    [Fact]
    public void GrantGen_GrowsWithEveryGrant()
    {
        Ask(1, s_g0, R);
        Ask(2, s_g1, W);
        Ask(3, s_g0, R);
        Ask(1, s_g0, N);
        ulong[] gens = [.. _out.Grants.Select(g => g.GrantGen)];
        Assert.Equal(4, gens.Length);
        Assert.True(gens.Zip(gens.Skip(1)).All(p => p.First < p.Second), string.Join(",", gens));
    }

    [Fact]
    public void Request_CoveredByTheHeldMode_IsAnsweredAtOnceWithTheHeldMode()
    {
        Ask(1, s_g0, W);
        Ask(2, s_g1, R);
        Assert.Equal(LockRequestStatus.Granted, Ask(1, s_g0, R));
        SentGrant grant = _out.LastGrantTo(1);
        Assert.Equal((W, W), (grant.Old, grant.New));
        Assert.Empty(_out.Revokes);
    }

    [Fact]
    public void Upgrade_FromReadToWrite_RevokesTheOtherReadersOnly()
    {
        Ask(1, s_g0, R);
        Ask(2, s_g0, R);
        Assert.Equal(LockRequestStatus.Queued, Ask(1, s_g0, W));
        Assert.Equal([2ul], _out.Revokes.Select(r => r.Session));
        Answer(2, s_g0);
        SentGrant grant = _out.LastGrantTo(1);
        Assert.Equal((R, W), (grant.Old, grant.New));
    }

    [Fact]
    public void NullRequest_ReleasesTheLockAndServesTheQueue()
    {
        Ask(1, s_g0, W);
        Ask(2, s_g0, W);
        Assert.Equal(LockRequestStatus.Granted, Ask(1, s_g0, N));
        Assert.Equal((W, N), (_out.LastGrantTo(1).Old, _out.LastGrantTo(1).New));
        Assert.Equal(W, _out.LastGrantTo(2).New);

        // The revoke it had outstanding is moot; a late answer to it changes nothing.
        SentRevoke moot = _out.LastRevokeTo(1);
        Assert.Equal(RevokeAnswerStatus.Stale, _server.ReceiveRevokeAnswer(1, s_g0, moot.GrantGen, moot.Old, moot.New));
        Assert.Equal(W, _server.GetMode(2, s_g0));
    }

    [Fact]
    public void DuplicateRequest_IsDropped()
    {
        ulong id = ++_lastRequestId;
        Assert.Equal(LockRequestStatus.Granted, _server.ReceiveRequest(1, id, s_g0, N, W));
        Assert.Equal(LockRequestStatus.Granted, Ask(1, s_g0, N));

        // A stale copy of the first request must not take the lock again.
        Assert.Equal(LockRequestStatus.Duplicate, _server.ReceiveRequest(1, id, s_g0, N, W));
        Assert.Equal(N, _server.GetMode(1, s_g0));
    }

    [Fact]
    public void RevokeAnswer_NotEchoingTheOutstandingRevoke_IsStale()
    {
        Ask(1, s_g0, W);
        Ask(2, s_g0, W);
        SentRevoke r = _out.LastRevokeTo(1);
        Assert.Equal(RevokeAnswerStatus.Stale, _server.ReceiveRevokeAnswer(1, s_g0, r.GrantGen - 1, r.Old, r.New));
        Assert.Equal(RevokeAnswerStatus.Stale, _server.ReceiveRevokeAnswer(1, s_g0, r.GrantGen, r.Old, R));
        Assert.Equal(RevokeAnswerStatus.Stale, _server.ReceiveRevokeAnswer(3, s_g0, r.GrantGen, r.Old, r.New));
        Assert.Equal(W, _server.GetMode(1, s_g0));
        Assert.Equal(RevokeAnswerStatus.Accepted, _server.ReceiveRevokeAnswer(1, s_g0, r.GrantGen, r.Old, r.New));
        Assert.Equal(RevokeAnswerStatus.Stale, _server.ReceiveRevokeAnswer(1, s_g0, r.GrantGen, r.Old, r.New));
    }

    [Fact]
    public void Request_FromAHolderWhoseAnswerIsInFlight_WaitsForThatAnswer()
    {
        Ask(1, s_g0, W);
        Ask(2, s_g0, W);

        // Session 1 has answered (the answer is still on the wire) and asks again.
        Assert.Equal(LockRequestStatus.Queued, Ask(1, s_g0, W, old: N));
        Assert.Single(_out.Grants, g => g.Session == 1);

        Answer(1, s_g0);
        Assert.Equal(W, _out.LastGrantTo(2).New);
        Assert.Equal((W, N), (_out.LastRevokeTo(2).Old, _out.LastRevokeTo(2).New));
    }

    [Fact]
    public void Tick_ResendsAnUnansweredRevokeEveryInterval()
    {
        Ask(1, s_g0, W);
        Ask(2, s_g0, R);
        _time.Advance(900);
        _server.Tick();
        Assert.Single(_out.Revokes);
        _time.Advance(100);
        _server.Tick();
        Assert.Equal(2, _out.Revokes.Count);
        Assert.Equal(_out.Revokes[0], _out.Revokes[1]);
        _time.Advance(1000);
        _server.Tick();
        Assert.Equal(3, _out.Revokes.Count);
    }

    [Fact]
    public void Tick_EvictsAHolderSilentPastTheTimeout_ThenGrantsTheWaiter()
    {
        Ask(1, s_g0, W);
        Ask(1, s_g1, R);
        Ask(2, s_g0, W);
        _time.Advance(9_999);
        _server.Tick();
        Assert.Empty(_out.Evicted);

        _time.Advance(1);
        _server.Tick();
        Assert.Equal([1ul], _out.Evicted);
        Assert.Equal("evicted s1", _out.Log[^2]);
        Assert.Equal("grant s2 #3 Write", _out.Log[^1]);
        Assert.False(_server.IsSessionOpen(1));
        Assert.Equal(N, _server.GetMode(1, s_g1));
        Assert.Equal(LockRequestStatus.UnknownSession, Ask(1, s_g0, R));
    }

    [Fact]
    public void Tick_DoesNotCountTimeAHolderSpendsQueuedBehindASilentSession()
    {
        // Session 2 holds g0 and waits for g1 (a later lock) held by session 1, which went silent.
        Ask(1, s_g1, W);
        Ask(2, s_g0, R);
        Ask(2, s_g1, R);
        _time.Advance(2_000);
        _server.Tick();

        // Session 3 wants g0: session 2 cannot answer until its task gets g1.
        Ask(3, s_g0, W);
        for (int i = 0; i < 30; i++)
        {
            _time.Advance(500);
            _server.Tick();
        }

        Assert.Equal([1ul], _out.Evicted);
        Assert.True(_server.IsSessionOpen(2));
        Assert.Equal(R, _out.LastGrantTo(2).New);
    }

    [Fact]
    public void CloseSession_ReleasesItsLocksAndServesTheQueue_AndLaterMessagesAreIgnored()
    {
        Ask(1, s_g0, W);
        Ask(2, s_g0, R);
        SentRevoke r = _out.LastRevokeTo(1);
        Assert.True(_server.CloseSession(1));
        Assert.False(_server.CloseSession(1));
        Assert.Equal(R, _out.LastGrantTo(2).New);
        Assert.Empty(_out.Evicted);
        Assert.Equal(RevokeAnswerStatus.UnknownSession, _server.ReceiveRevokeAnswer(1, s_g0, r.GrantGen, r.Old, r.New));
        Assert.Equal(LockRequestStatus.UnknownSession, Ask(1, s_g1, W));
    }

    [Fact]
    public void CloseSession_OfTheWaitingHead_LetsTheNextRequestThrough()
    {
        Ask(1, s_g0, R);
        Ask(2, s_g0, W);
        Ask(3, s_g0, R);
        _server.CloseSession(2);
        Assert.Equal(R, _out.LastGrantTo(3).New);
        Assert.Equal(0, _server.QueueLength(s_g0));
    }

    [Fact]
    public void Requests_ForForeignRangesOrWriteOnlyInodeGroups_AreRefused()
    {
        Assert.Equal(LockRequestStatus.InvalidRange, Ask(1, new KeyRange(5, Format.Btrfs.BtrfsKey.Min, Format.Btrfs.BtrfsKey.Max), R));
        Assert.Equal(LockRequestStatus.InvalidRange, Ask(1, s_g0, WO));
        Assert.Empty(_out.Grants);
        Assert.Equal(0, _server.LockCount);
    }

    [Fact]
    public void SecondRequestWhileOneWaits_IsAProtocolViolation()
    {
        Ask(1, s_g0, W);
        Ask(2, s_g0, W);
        Assert.Equal(LockRequestStatus.AlreadyWaiting, Ask(2, s_g0, R));
        Assert.Equal(1, _server.QueueLength(s_g0));
    }

    [Fact]
    public void GetMode_StaysTheOldModeUntilTheAnswerArrives()
    {
        Ask(1, s_g0, W);
        Ask(2, s_g0, R);
        Assert.Equal(W, _server.GetMode(1, s_g0));
        Assert.Equal(R, _server.GetHoldings().Single(h => h.Session == 1).RevokeTarget);
        Answer(1, s_g0);
        Assert.Equal(R, _server.GetMode(1, s_g0));
        Assert.Null(_server.GetHoldings().Single(h => h.Session == 1).RevokeTarget);
    }

    [Fact]
    public void IdleLocks_AreForgottenOnceNobodyHoldsOrWaits()
    {
        Ask(1, s_g0, W);
        Ask(1, s_g1, R);
        Assert.Equal(2, _server.LockCount);
        Ask(1, s_g0, N);
        _server.CloseSession(1);
        Assert.Equal(0, _server.LockCount);
    }

    private LockRequestStatus Ask(ulong session, KeyRange range, LockMode wanted, LockMode old = N) =>
        _server.ReceiveRequest(session, ++_lastRequestId, range, old, wanted);

    private void Answer(ulong session, KeyRange range)
    {
        SentRevoke r = _out.LastRevokeTo(session);
        Assert.Equal(range, r.Range);
        Assert.Equal(RevokeAnswerStatus.Accepted, _server.ReceiveRevokeAnswer(session, range, r.GrantGen, r.Old, r.New));
    }
}
