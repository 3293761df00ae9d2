// SPDX-License-Identifier: MIT
using Crfs.Protocol.Messages;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Crfs.Server.Locks;

/// <summary>
/// The lock server: it decides which session may cache which key range, and in what mode.
/// <para>
/// <b>Protocol.</b> A lock is named by its <see cref="KeyRange"/> (an inode group, the orphan
/// range or the rename lock; <see cref="LockRangeRules"/>). A client sends LOCK(range, old, wanted)
/// with a request id. Requests on one lock are served first in, first out. For the request at the
/// head, every other holder whose mode is incompatible with the wanted mode gets
/// REVOKE(range, grant_gen, old, target), where target is READ when a WRITE holder only has to make
/// way for a reader and NULL otherwise (<see cref="RevokeTarget"/>). Only when every one of those has
/// answered is the head granted, with a fresh <c>grant_gen</c> from a server-wide counter. Two
/// shortcuts skip the queue: a session that already holds a mode covering its request is answered at
/// once, and a request for NULL is a release, also answered at once (the client wrote back and
/// invalidated before asking). A client answers a revoke only after its whole transaction is durable,
/// so when a conflicting grant goes out, nothing the previous holder wrote is still in its cache.
/// </para>
/// <para>
/// <b>Invariants</b> (the simulation in Crfs.Coherence.Tests checks them at every step):
/// the holders of one lock are pairwise compatible; every outstanding revoke belongs to some head
/// request (or to one that left the queue when its session closed — harmless, it only lowers a mode);
/// a grant is sent only when no incompatible holder remains. The protocol layer delivers in order and
/// exactly once, but nothing here relies on that; messages may be duplicated and reordered. Request ids
/// are strictly increasing per session and lock, so duplicates are dropped; a revoke carries the grant_gen it
/// revokes and an answer must echo (grant_gen, old, new) exactly, so a stale answer can never release
/// a newer grant; a request from a session whose own revoke answer is still in flight waits, because
/// its real mode is unknown until that answer arrives.
/// </para>
/// <para>
/// <b>Concurrency.</b> One lock (<c>_gate</c>) guards all state; every public method takes it once and
/// does a bounded amount of work. Effects go to the <see cref="ILockServerOutbox"/> while the gate is
/// held, so they leave in the order they happened; the outbox must only enqueue. Lock order: gate, then
/// outbox. There are no timers inside: time comes from the injected <see cref="TimeProvider"/> and the
/// host calls <see cref="Tick"/> periodically (a second or so is plenty).
/// </para>
/// <para>
/// <b>Eviction.</b> On <see cref="Tick"/>, revokes unanswered for
/// <see cref="LockServerOptions.RevokeResendInterval"/> are sent again, and a session that leaves one
/// unanswered for <see cref="LockServerOptions.RevokeTimeout"/> is evicted (not counting time it spent
/// queued behind another session's unanswered revoke; see <see cref="Tick"/>):
/// <see cref="ILockServerOutbox.SessionEvicted"/> is raised, then its grants and queued requests are
/// dropped and every lock it touched is served again. Because the server alone owns the disk, that is
/// the whole fence: the session layer must reject the evicted session's later COMMITs, which it can do
/// by checking <see cref="GetMode"/> for every key (an unknown session holds nothing).
/// <see cref="CloseSession"/> (disconnect past the reconnect window, farewell) releases the same way.
/// Session ids must never be reused: messages still in flight for a closed session are recognised by
/// their id and dropped.
/// </para>
/// <para>
/// Not here yet: lock recovery after a server restart (LOCK_RECOVER), and throttled recall of idle locks.
/// </para>
/// </summary>
public sealed class LockServer
{
    private readonly Lock _gate = new();
    private readonly ILockServerOutbox _outbox;
    private readonly TimeProvider _time;
    private readonly LockServerOptions _options;
    private readonly ILogger _logger;

    // All guarded by _gate.
    private readonly Dictionary<KeyRange, ServerLock> _locks = [];
    private readonly Dictionary<ulong, ServerSession> _sessions = [];
    private readonly HashSet<KeyRange> _revoking = [];
    private ulong _lastGrantGen;
    private long _lastTick;

    public LockServer(ILockServerOutbox outbox, TimeProvider time, LockServerOptions? options = null, ILogger<LockServer>? logger = null)
    {
        _outbox = outbox;
        _time = time;
        _options = options ?? new LockServerOptions();
        _logger = logger ?? (ILogger)NullLogger.Instance;
        _lastTick = _time.GetTimestamp();
    }

    /// <summary>
    /// The mode a holder of <paramref name="held"/> is revoked to so that a request for
    /// <paramref name="wanted"/> can be granted: WRITE drops to READ when the requester only reads
    /// (the holder keeps its clean cache); every other conflict drops to NULL.
    /// </summary>
    public static LockMode RevokeTarget(LockMode held, LockMode wanted) =>
        held == LockMode.Write && wanted == LockMode.Read ? LockMode.Read : LockMode.Null;

    /// <summary>Admit a session. Returns false if it is already open.</summary>
    public bool OpenSession(ulong session)
    {
        lock (_gate)
        {
            return _sessions.TryAdd(session, new ServerSession(session));
        }
    }

    /// <summary>
    /// Remove a session (disconnected for good, farewell, or evicted by the session layer): release its
    /// grants, drop its queued requests and re-evaluate those locks. Idempotent; returns false if the
    /// session was not open. Does not raise <see cref="ILockServerOutbox.SessionEvicted"/>.
    /// </summary>
    public bool CloseSession(ulong session)
    {
        lock (_gate)
        {
            return RemoveSession(session);
        }
    }

    /// <summary>A LOCK request from <paramref name="session"/>. See <see cref="LockRequestStatus"/> for what is sent.</summary>
    public LockRequestStatus ReceiveRequest(ulong session, ulong requestId, KeyRange range, LockMode oldMode, LockMode wanted)
    {
        lock (_gate)
        {
            if (!_sessions.TryGetValue(session, out ServerSession? s))
            {
                return LockRequestStatus.UnknownSession;
            }

            if (!LockRangeRules.Allows(range, wanted))
            {
                return LockRequestStatus.InvalidRange;
            }

            if (s.LastRequestId.TryGetValue(range, out ulong last) && requestId <= last)
            {
                return LockRequestStatus.Duplicate;
            }

            if (_locks.TryGetValue(range, out ServerLock? existing) && FindQueued(existing, session) is not null)
            {
                return LockRequestStatus.AlreadyWaiting;
            }

            s.LastRequestId[range] = requestId;
            ServerLock lk = existing ?? AddLock(range);
            lk.Holders.TryGetValue(session, out LockHolder? own);
            long now = _time.GetTimestamp();

            if (wanted == LockMode.Null)
            {
                LockMode old = own?.Mode ?? LockMode.Null;
                if (own is not null)
                {
                    RemoveHolder(lk, own);
                }

                _outbox.SendGrant(session, requestId, range, old, LockMode.Null, ++_lastGrantGen);
                ProcessQueue(lk, now);
                ForgetIfUnused(lk, s);
                return LockRequestStatus.Granted;
            }

            if (own is { Revoke: null } && LockModes.Covers(own.Mode, wanted))
            {
                own.GrantGen = ++_lastGrantGen;
                _outbox.SendGrant(session, requestId, range, own.Mode, own.Mode, own.GrantGen);
                return LockRequestStatus.Granted;
            }

            var request = new QueuedRequest(session, requestId, oldMode, wanted);
            lk.Queue.AddLast(request);
            s.Locks.Add(range);
            ProcessQueue(lk, now);
            return FindQueued(lk, session) is null ? LockRequestStatus.Granted : LockRequestStatus.Queued;
        }
    }

    /// <summary>
    /// A session's answer to REVOKE(range, grantGen, oldMode, newMode). Accepted only if it echoes an
    /// outstanding revoke exactly; the holder then holds <paramref name="newMode"/>.
    /// </summary>
    public RevokeAnswerStatus ReceiveRevokeAnswer(ulong session, KeyRange range, ulong grantGen, LockMode oldMode, LockMode newMode)
    {
        lock (_gate)
        {
            if (!_sessions.TryGetValue(session, out ServerSession? s))
            {
                return RevokeAnswerStatus.UnknownSession;
            }

            if (!_locks.TryGetValue(range, out ServerLock? lk)
                || !lk.Holders.TryGetValue(session, out LockHolder? holder)
                || holder.GrantGen != grantGen
                || holder.Revoke is not { } revoke
                || revoke.Old != oldMode
                || revoke.New != newMode)
            {
                return RevokeAnswerStatus.Stale;
            }

            ClearRevoke(lk, holder);
            holder.Mode = newMode;
            if (newMode == LockMode.Null)
            {
                RemoveHolder(lk, holder);
            }

            ProcessQueue(lk, _time.GetTimestamp());
            ForgetIfUnused(lk, s);
            return RevokeAnswerStatus.Accepted;
        }
    }

    /// <summary>
    /// Resend revokes that have waited a resend interval, warn about slow ones, and evict sessions that
    /// left one unanswered past the revoke timeout. Call periodically; it does nothing when nothing waits.
    /// <para>
    /// The time a revoke has been outstanding is held against its holder only while the holder is
    /// accountable for it. Clients take locks in <see cref="LockRangeRules.CompareOrder"/> order, so a
    /// task holding the revoked lock can only be waiting for a later lock; if the holder has a request
    /// queued on a later lock that is itself held up by another session's unanswered revoke, its
    /// silence may be that session's fault, and the time is excused. Those waits climb the lock order,
    /// so every chain ends at a holder whose clock runs; when it is evicted, the chain unwinds. Without
    /// this, one dead client would take down every client queued behind it.
    /// </para>
    /// </summary>
    public void Tick()
    {
        lock (_gate)
        {
            long now = _time.GetTimestamp();
            List<ulong>? evict = null;
            foreach (KeyRange range in _revoking)
            {
                ServerLock lk = _locks[range];
                foreach (LockHolder h in lk.Holders.Values)
                {
                    if (h.Revoke is not { } r)
                    {
                        continue;
                    }

                    if (IsExcused(h, range))
                    {
                        r.Excused += now - Math.Max(r.FirstSent, _lastTick);
                    }

                    TimeSpan age = _time.GetElapsedTime(r.FirstSent + r.Excused, now);
                    if (age >= _options.RevokeTimeout)
                    {
                        (evict ??= []).Add(h.Session);
                        LockServerLog.RevokeTimedOut(_logger, h.Session, range, h.GrantGen, r.Old, r.New, age);
                        continue;
                    }

                    if (!r.Warned && age >= _options.RevokeWarning)
                    {
                        r.Warned = true;
                        LockServerLog.RevokeSlow(_logger, h.Session, range, h.GrantGen, r.Old, r.New, age);
                    }

                    if (_time.GetElapsedTime(r.LastSent, now) >= _options.RevokeResendInterval)
                    {
                        r.LastSent = now;
                        _outbox.SendRevoke(h.Session, range, h.GrantGen, r.Old, r.New);
                    }
                }
            }

            _lastTick = now;
            if (evict is null)
            {
                return;
            }

            evict.Sort();
            foreach (ulong session in evict.Distinct())
            {
                // Announce first: the grants its release unblocks must reach the outbox after the eviction.
                LockServerLog.SessionEvicted(_logger, session, _options.RevokeTimeout);
                _outbox.SessionEvicted(session);
                RemoveSession(session);
            }
        }
    }

    /// <summary>
    /// The mode <paramref name="session"/> holds on exactly <paramref name="range"/> (NULL for an unknown
    /// session). The session layer checks COMMIT keys with this: WRITE or WRITE_ONLY, as the item needs.
    /// While a revoke is outstanding this is still the old mode: the holder may commit until it answers.
    /// </summary>
    public LockMode GetMode(ulong session, KeyRange range)
    {
        lock (_gate)
        {
            return _locks.TryGetValue(range, out ServerLock? lk) && lk.Holders.TryGetValue(session, out LockHolder? h)
                ? h.Mode
                : LockMode.Null;
        }
    }

    public bool IsSessionOpen(ulong session)
    {
        lock (_gate)
        {
            return _sessions.ContainsKey(session);
        }
    }

    /// <summary>Every grant, for diagnostics and invariant checks (a snapshot; within a lock, by session).</summary>
    public IReadOnlyList<LockHolding> GetHoldings()
    {
        lock (_gate)
        {
            var list = new List<LockHolding>();
            foreach (ServerLock lk in _locks.Values)
            {
                foreach (LockHolder h in lk.Holders.Values)
                {
                    list.Add(new LockHolding(h.Session, lk.Range, h.Mode, h.GrantGen, h.Revoke?.New));
                }
            }

            return list;
        }
    }

    /// <summary>Number of requests waiting on <paramref name="range"/>.</summary>
    public int QueueLength(KeyRange range)
    {
        lock (_gate)
        {
            return _locks.TryGetValue(range, out ServerLock? lk) ? lk.Queue.Count : 0;
        }
    }

    /// <summary>Number of locks with any holder or waiter (idle locks are forgotten).</summary>
    public int LockCount
    {
        get
        {
            lock (_gate)
            {
                return _locks.Count;
            }
        }
    }

    /// <summary>
    /// Serve the queue of <paramref name="lk"/> from its head for as long as heads can be granted.
    /// A head blocked by incompatible holders sends each of them one revoke (unless one is out already)
    /// and stops the queue: later requests wait even when compatible, which is what makes it fair.
    /// </summary>
    private void ProcessQueue(ServerLock lk, long now)
    {
        while (lk.Queue.First is { } node)
        {
            QueuedRequest head = node.Value;
            lk.Holders.TryGetValue(head.Session, out LockHolder? own);
            if (own?.Revoke is not null)
            {
                // The requester has a revoke of its own outstanding (its answer may be on the wire):
                // its real mode is not known until the answer arrives.
                return;
            }

            bool blocked = false;
            foreach (LockHolder h in lk.Holders.Values)
            {
                if (h.Session == head.Session || LockModes.Compatible(h.Mode, head.Wanted))
                {
                    continue;
                }

                blocked = true;
                if (h.Revoke is null)
                {
                    SendRevoke(lk, h, RevokeTarget(h.Mode, head.Wanted), now);
                }
            }

            if (blocked)
            {
                return;
            }

            lk.Queue.RemoveFirst();
            LockMode old = own?.Mode ?? LockMode.Null;
            LockMode granted = own is not null && LockModes.Covers(own.Mode, head.Wanted) ? own.Mode : head.Wanted;
            if (own is null)
            {
                own = new LockHolder(head.Session);
                lk.Holders.Add(head.Session, own);
            }

            own.Mode = granted;
            own.GrantGen = ++_lastGrantGen;
            _outbox.SendGrant(head.Session, head.RequestId, lk.Range, old, granted, own.GrantGen);
        }
    }

    /// <summary>
    /// Whether the holder may be unable to answer the revoke of <paramref name="revoked"/> only because
    /// one of its tasks waits for another session: it has a request queued on a lock after
    /// <paramref name="revoked"/> in lock order (a task holding a lock waits only for later ones), and
    /// that lock is held up by another session's unanswered revoke. These waits climb the lock order,
    /// so every chain of them ends at a holder that is not excused and whose clock runs.
    /// </summary>
    private bool IsExcused(LockHolder holder, KeyRange revoked)
    {
        ServerSession s = _sessions[holder.Session];
        foreach (KeyRange range in s.Locks)
        {
            ServerLock lk = _locks[range];
            if (lk.OutstandingRevokes == 0 || LockRangeRules.CompareOrder(range, revoked) <= 0 || FindQueued(lk, holder.Session) is null)
            {
                continue;
            }

            foreach (LockHolder h in lk.Holders.Values)
            {
                if (h.Session != holder.Session && h.Revoke is not null)
                {
                    return true;
                }
            }
        }

        return false;
    }

    private void SendRevoke(ServerLock lk, LockHolder holder, LockMode target, long now)
    {
        holder.Revoke = new PendingRevoke(holder.Mode, target, now);
        if (lk.OutstandingRevokes++ == 0)
        {
            _revoking.Add(lk.Range);
        }

        _outbox.SendRevoke(holder.Session, lk.Range, holder.GrantGen, holder.Mode, target);
    }

    private void ClearRevoke(ServerLock lk, LockHolder holder)
    {
        if (holder.Revoke is null)
        {
            return;
        }

        holder.Revoke = null;
        if (--lk.OutstandingRevokes == 0)
        {
            _revoking.Remove(lk.Range);
        }
    }

    private void RemoveHolder(ServerLock lk, LockHolder holder)
    {
        ClearRevoke(lk, holder);
        lk.Holders.Remove(holder.Session);
    }

    private bool RemoveSession(ulong session)
    {
        if (!_sessions.Remove(session, out ServerSession? s))
        {
            return false;
        }

        long now = _time.GetTimestamp();
        foreach (KeyRange range in s.Locks)
        {
            ServerLock lk = _locks[range];
            if (lk.Holders.TryGetValue(session, out LockHolder? h))
            {
                RemoveHolder(lk, h);
            }

            if (FindQueued(lk, session) is { } queued)
            {
                lk.Queue.Remove(queued);
            }

            ProcessQueue(lk, now);
            if (lk.IsUnused)
            {
                _locks.Remove(range);
            }
        }

        return true;
    }

    private ServerLock AddLock(KeyRange range)
    {
        var lk = new ServerLock(range);
        _locks.Add(range, lk);
        return lk;
    }

    /// <summary>Drop bookkeeping that no longer says anything: the session's link when it neither holds nor waits, the lock when nobody does.</summary>
    private void ForgetIfUnused(ServerLock lk, ServerSession s)
    {
        if (!lk.Holders.ContainsKey(s.Id) && FindQueued(lk, s.Id) is null)
        {
            s.Locks.Remove(lk.Range);
        }

        if (lk.IsUnused)
        {
            _locks.Remove(lk.Range);
        }
    }

    private static LinkedListNode<QueuedRequest>? FindQueued(ServerLock lk, ulong session)
    {
        for (LinkedListNode<QueuedRequest>? n = lk.Queue.First; n is not null; n = n.Next)
        {
            if (n.Value.Session == session)
            {
                return n;
            }
        }

        return null;
    }
}
