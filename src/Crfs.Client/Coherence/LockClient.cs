// SPDX-License-Identifier: MIT
using Crfs.Protocol.Messages;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Crfs.Client.Coherence;

/// <summary>
/// The client half of coherence: which key ranges this mount may cache, and who is using them.
/// <para>
/// <b>Users and modes.</b> An operation calls <see cref="AcquireAsync"/> (or
/// <see cref="AcquireAllAsync"/> for several ranges) and gets a <see cref="LockLease"/>: a user of the
/// lock in READ (read the cache), WRITE (read and dirty it) or WRITE_ONLY (blind writes that commute).
/// A user is admitted at once when the granted mode covers it (WRITE covers READ). Otherwise it waits
/// and the lock sends one LOCK request (one in flight per lock) for the first waiter's mode, raised to
/// WRITE if a later waiter needs it. READ→WRITE is upgraded in place; WRITE_ONLY and READ/WRITE cannot
/// turn into each other without losing coherence (a WRITE_ONLY holder has no readable cache; a WRITE
/// holder's overwrites do not commute with others' blind writes), so such a change releases to NULL first.
/// </para>
/// <para>
/// <b>Revokes.</b> REVOKE(range, grant_gen, old, new) names the grant it takes back. On one for the
/// current grant the lock stops admitting users the new mode does not cover, waits until the users
/// it does not cover have finished, has <see cref="IWriteBack.FlushAsync"/> commit the whole open
/// transaction durably if the lock was used for writing, has
/// <see cref="IWriteBack.InvalidateAsync"/> drop the range unless this is WRITE→READ, then lowers the
/// mode and answers with the revoke's fields echoed. A revoke for a lock not held, or for an older grant,
/// is answered at once; one for a newer grant (its reply overtaken) waits for that reply; duplicates
/// merge. A grant admits its waiters before a revoke queued behind it drains them, so every grant
/// serves at least one user and nothing starves.
/// </para>
/// <para>
/// <b>Ordering rule.</b> A task takes all its locks in one call, in <see cref="LockOrder"/> (tree,
/// then key: the rename lock before inode groups, inode groups in number order), each once, in the
/// strongest mode it will need, and releases them all when done. It never acquires a lock it already
/// holds (a revoke pending on it would wait for the task, and the task for the revoke) and never upgrades
/// while holding (same cycle, through the server's queue). <see cref="AcquireAllAsync"/> does the sorting
/// and merging. Nor may a task wait for a lock while it keeps the open transaction from committing,
/// since a revoke's write-back commits that transaction (scoutfs refuses such a lock with EDEADLK);
/// enforcing that belongs to the transaction layer.
/// </para>
/// <para>
/// <b>Idle locks</b> (held, no users, nothing waiting) go on an LRU of
/// <see cref="LockClientOptions.IdleLockLimit"/> entries; the oldest beyond that is written back,
/// invalidated and released with LOCK(NULL), which the server takes as a release.
/// </para>
/// <para>
/// <b>Eviction.</b> After <see cref="ReceiveEviction"/> (or a write-back the server refused) every
/// waiter and every new acquisition ends with <see cref="LockOutcome.Evicted"/>, revokes are not
/// answered, and nothing is sent. The session layer drops the cache (dirty state included), starts a
/// new session and calls <see cref="Reset"/>; leases from before the reset dispose into nothing.
/// </para>
/// <para>
/// <b>Concurrency.</b> One lock (<c>_gate</c>) guards all state. Outbox calls happen under it, so
/// messages leave in order (lock order: gate, then outbox); waiters are completed under it with
/// continuations forced asynchronous; write-back and invalidation run outside it on a task per
/// downgrade. No timers and no thread-pool hops of its own: with a deterministic
/// <see cref="SynchronizationContext"/> the whole state machine is deterministic, which the
/// simulation tests rely on.
/// </para>
/// </summary>
public sealed class LockClient
{
    private readonly Lock _gate = new();
    private readonly ILockClientOutbox _outbox;
    private readonly IWriteBack _writeBack;
    private readonly LockClientOptions _options;
    private readonly ILogger _logger;

    // All guarded by _gate.
    private readonly Dictionary<KeyRange, ClientLock> _locks = [];
    private readonly LinkedList<ClientLock> _idle = new();
    private readonly List<DowngradeStart> _pendingStarts = [];
    private ulong _lastRequestId;
    private long _epoch;
    private bool _evicted;

    public LockClient(ILockClientOutbox outbox, IWriteBack writeBack, LockClientOptions? options = null, ILogger<LockClient>? logger = null)
    {
        _outbox = outbox;
        _writeBack = writeBack;
        _options = options ?? new LockClientOptions();
        _logger = logger ?? (ILogger)NullLogger.Instance;
        ArgumentOutOfRangeException.ThrowIfNegative(_options.IdleLockLimit);
    }

    /// <summary>
    /// Raised (outside the client's lock) when <see cref="Reset"/> forgot every lock. No per-range
    /// <see cref="IWriteBack.InvalidateAsync"/> ran for them, so a layer that mirrors cached state
    /// elsewhere (the kernel's caches, through the mount) must drop all of it.
    /// </summary>
    public event Action? LocksReset;

    public bool IsEvicted
    {
        get
        {
            lock (_gate)
            {
                return _evicted;
            }
        }
    }

    /// <summary>Number of idle locks kept on the LRU.</summary>
    public int IdleCount
    {
        get
        {
            lock (_gate)
            {
                return _idle.Count;
            }
        }
    }

    /// <summary>
    /// Become a user of <paramref name="range"/> in <paramref name="mode"/> (not NULL). Completes at once
    /// when the held mode covers it; otherwise after a grant. Cancelling only stops the wait: a request
    /// already sent still completes, and its grant stays held (idle) for the next user.
    /// </summary>
    public Task<LockAcquisition> AcquireAsync(KeyRange range, LockMode mode, CancellationToken ct = default)
    {
        if (mode is not (LockMode.Read or LockMode.Write or LockMode.WriteOnly))
        {
            throw new ArgumentOutOfRangeException(nameof(mode), mode, "a lock user needs READ, WRITE or WRITE_ONLY");
        }

        if (ct.IsCancellationRequested)
        {
            return Task.FromCanceled<LockAcquisition>(ct);
        }

        LockWaiter waiter;
        lock (_gate)
        {
            if (_evicted)
            {
                return Task.FromResult(LockAcquisition.Evicted);
            }

            if (!_locks.TryGetValue(range, out ClientLock? lk))
            {
                lk = new ClientLock(range);
                _locks.Add(range, lk);
            }

            if (CanAdmit(lk, mode))
            {
                LockLease lease = Admit(lk, mode);
                return Task.FromResult(new LockAcquisition(LockOutcome.Granted, lease));
            }

            waiter = new LockWaiter(lk, mode);
            waiter.Node = lk.Waiters.AddLast(waiter);
            Pump(lk);
        }

        RunPendingStarts();
        if (ct.CanBeCanceled && !waiter.Completion.Task.IsCompleted)
        {
            waiter.Registration = ct.Register(static state => ((WaiterCancellation)state!).Cancel(), new WaiterCancellation(this, waiter, ct));
            if (waiter.Completion.Task.IsCompleted)
            {
                waiter.Registration.Unregister();
            }
        }

        return waiter.Completion.Task;
    }

    /// <summary>
    /// Acquire several ranges for one task: duplicates are merged (READ+WRITE → WRITE), then each is taken
    /// in <see cref="LockOrder"/>. If one ends in eviction or cancellation, those already taken are released.
    /// </summary>
    public async Task<LockSetAcquisition> AcquireAllAsync(IEnumerable<LockNeed> needs, CancellationToken ct = default)
    {
        IReadOnlyList<LockNeed> ordered = Normalize(needs);
        var leases = new List<LockLease>(ordered.Count);
        try
        {
            foreach (LockNeed need in ordered)
            {
                LockAcquisition a = await AcquireAsync(need.Range, need.Mode, ct);
                if (!a.IsGranted)
                {
                    new LockLeaseSet(leases).Dispose();
                    return new LockSetAcquisition(a.Outcome, null);
                }

                leases.Add(a.Lease);
            }
        }
        catch
        {
            new LockLeaseSet(leases).Dispose();
            throw;
        }

        return new LockSetAcquisition(LockOutcome.Granted, new LockLeaseSet(leases));
    }

    /// <summary>
    /// The order <see cref="AcquireAllAsync"/> takes <paramref name="needs"/> in: one entry per range,
    /// READ and WRITE merged to WRITE, sorted by <see cref="LockOrder"/>. WRITE_ONLY together with READ
    /// or WRITE on one range is refused: no single mode serves both.
    /// </summary>
    public static IReadOnlyList<LockNeed> Normalize(IEnumerable<LockNeed> needs)
    {
        var merged = new SortedDictionary<KeyRange, LockMode>(LockOrder.Instance);
        foreach (LockNeed n in needs)
        {
            if (n.Mode is not (LockMode.Read or LockMode.Write or LockMode.WriteOnly))
            {
                throw new ArgumentException($"lock need on {n.Range} has mode {n.Mode}; a user needs READ, WRITE or WRITE_ONLY", nameof(needs));
            }

            if (!merged.TryGetValue(n.Range, out LockMode have))
            {
                merged.Add(n.Range, n.Mode);
            }
            else if (have != n.Mode)
            {
                if (have == LockMode.WriteOnly || n.Mode == LockMode.WriteOnly)
                {
                    throw new ArgumentException($"lock need on {n.Range} asks for both {have} and {n.Mode}; WRITE_ONLY cannot be combined", nameof(needs));
                }

                merged[n.Range] = LockMode.Write;
            }
        }

        var list = new List<LockNeed>(merged.Count);
        foreach (KeyValuePair<KeyRange, LockMode> kv in merged)
        {
            list.Add(new LockNeed(kv.Key, kv.Value));
        }

        return list;
    }

    /// <summary>The reply to LOCK request <paramref name="requestId"/>. A reply to anything but the request in flight is a duplicate and is ignored.</summary>
    public void ReceiveGrant(ulong requestId, KeyRange range, LockMode oldMode, LockMode newMode, ulong grantGen)
    {
        lock (_gate)
        {
            if (_evicted || requestId == 0 || !_locks.TryGetValue(range, out ClientLock? lk) || lk.RequestInFlight != requestId)
            {
                return;
            }

            lk.RequestInFlight = 0;
            lk.Mode = newMode;
            lk.GrantGen = grantGen;
            Pump(lk);
        }

        RunPendingStarts();
    }

    /// <summary>REVOKE(range, grantGen, old, new) from the server; answered through the outbox when done.</summary>
    public void ReceiveRevoke(KeyRange range, ulong grantGen, LockMode oldMode, LockMode newMode)
    {
        lock (_gate)
        {
            if (_evicted)
            {
                return;
            }

            var revoke = new RevokeMessage(grantGen, oldMode, newMode);
            if (newMode is not (LockMode.Null or LockMode.Read))
            {
                LockClientLog.BadRevoke(_logger, range, grantGen, oldMode, newMode, "the target must be NULL or READ");
                return;
            }

            if (!_locks.TryGetValue(range, out ClientLock? lk) || grantGen < lk.GrantGen)
            {
                Answer(range, revoke);
                return;
            }

            if (grantGen > lk.GrantGen)
            {
                if (lk.RequestInFlight == 0)
                {
                    // No grant can be on its way; nothing of ours matches. The echo is ignored by the server.
                    Answer(range, revoke);
                }
                else if (!lk.Deferred.Contains(revoke))
                {
                    lk.Deferred.Add(revoke);
                }

                return;
            }

            HandleCurrentRevoke(lk, revoke);
            Pump(lk);
        }

        RunPendingStarts();
    }

    /// <summary>
    /// The session was evicted: fail every waiter and every later acquisition with
    /// <see cref="LockOutcome.Evicted"/> and stop answering, until <see cref="Reset"/>.
    /// </summary>
    public void ReceiveEviction()
    {
        lock (_gate)
        {
            EnterEvicted();
        }
    }

    /// <summary>
    /// Forget every lock and start over for a new session (after the session layer dropped the cache,
    /// dirty state included). Waiters still pending end with <see cref="LockOutcome.Evicted"/>; leases
    /// and downgrade tasks from before the reset no longer affect anything.
    /// </summary>
    public void Reset()
    {
        lock (_gate)
        {
            FailAllWaiters();
            _epoch++;
            _locks.Clear();
            _idle.Clear();
            _pendingStarts.Clear();
            _evicted = false;
        }

        LocksReset?.Invoke();
    }

    /// <summary>The mode held on <paramref name="range"/> (during a downgrade, still the old one).</summary>
    public LockMode GetMode(KeyRange range)
    {
        lock (_gate)
        {
            return _locks.TryGetValue(range, out ClientLock? lk) ? lk.Mode : LockMode.Null;
        }
    }

    /// <summary>A snapshot of every lock this client knows.</summary>
    public IReadOnlyList<ClientLockState> GetLocks()
    {
        lock (_gate)
        {
            var list = new List<ClientLockState>(_locks.Count);
            foreach (ClientLock lk in _locks.Values)
            {
                list.Add(new ClientLockState(lk.Range, lk.Mode, lk.GrantGen, lk.Users, lk.Waiters.Count, lk.RequestInFlight != 0, lk.Downgrade?.Target));
            }

            return list;
        }
    }

    internal void Release(LockLease lease)
    {
        lock (_gate)
        {
            if (lease.Epoch != _epoch)
            {
                return;
            }

            ClientLock lk = lease.State;
            switch (lease.Mode)
            {
                case LockMode.Read:
                    lk.Readers--;
                    break;
                case LockMode.Write:
                    lk.Writers--;
                    break;
                default:
                    lk.WriteOnlyUsers--;
                    break;
            }

            Pump(lk);
        }

        RunPendingStarts();
    }

    private void Cancel(LockWaiter waiter, CancellationToken ct)
    {
        lock (_gate)
        {
            if (waiter.Node?.List is null)
            {
                return;
            }

            waiter.State.Waiters.Remove(waiter.Node);
            waiter.Node = null;
            waiter.Completion.TrySetCanceled(ct);
            if (!_evicted)
            {
                Pump(waiter.State);
            }
        }

        RunPendingStarts();
    }

    /// <summary>
    /// Move <paramref name="lk"/> forward as far as it can go without waiting: admit covered waiters,
    /// take up revokes that became current, start a downgrade whose users have drained, send the next
    /// request, and keep the idle LRU and the lock table tidy. Called under the gate after every change.
    /// </summary>
    private void Pump(ClientLock lk)
    {
        if (_evicted)
        {
            return;
        }

        AdmitWaiters(lk);
        if (lk.Deferred.Count > 0 && lk.Downgrade is not { Running: true })
        {
            TakeUpDeferred(lk);
        }

        if (lk.Downgrade is null && lk.Waiters.Count > 0 && lk.RequestInFlight == 0)
        {
            LockMode target = lk.Waiters.First!.Value.Mode;
            if (target == LockMode.Read && HasWaiterFor(lk, LockMode.Write))
            {
                target = LockMode.Write;
            }

            if (lk.Mode == LockMode.Null || (lk.Mode == LockMode.Read && target == LockMode.Write))
            {
                SendRequest(lk, target);
            }
            else
            {
                // WRITE_ONLY <-> READ/WRITE: give the lock back first, then ask again.
                lk.Downgrade = new Downgrade(LockMode.Null, release: true);
            }
        }

        if (lk.Downgrade is { Running: false } d && Drained(lk, d.Target))
        {
            d.Running = true;
            d.StartGen = lk.GrantGen;
            bool flush = lk.Dirtied;
            lk.Dirtied = false;
            bool invalidate = !(lk.Mode == LockMode.Write && d.Target == LockMode.Read);
            _pendingStarts.Add(new DowngradeStart(lk, d, flush, invalidate, _epoch));
        }

        UpdateIdle(lk);
        if (lk.Mode == LockMode.Null && lk.Users == 0 && lk.Waiters.Count == 0 && lk.RequestInFlight == 0
            && lk.Downgrade is null && lk.Deferred.Count == 0)
        {
            _locks.Remove(lk.Range);
        }
    }

    private void AdmitWaiters(ClientLock lk)
    {
        LinkedListNode<LockWaiter>? node = lk.Waiters.First;
        while (node is not null)
        {
            LinkedListNode<LockWaiter>? next = node.Next;
            LockWaiter w = node.Value;
            if (CanAdmit(lk, w.Mode))
            {
                lk.Waiters.Remove(node);
                w.Node = null;
                w.Registration.Unregister();
                LockLease lease = Admit(lk, w.Mode);
                if (!w.Completion.TrySetResult(new LockAcquisition(LockOutcome.Granted, lease)))
                {
                    // Cancelled a moment ago; the lease was never seen, so give it straight back.
                    UndoAdmit(lk, w.Mode);
                }
            }

            node = next;
        }
    }

    /// <summary>A new user fits if the held mode covers it and no downgrade in progress is taking that away.</summary>
    private static bool CanAdmit(ClientLock lk, LockMode mode) =>
        LockModes.Covers(lk.Mode, mode) && (lk.Downgrade is null || LockModes.Covers(lk.Downgrade.Target, mode));

    private LockLease Admit(ClientLock lk, LockMode mode)
    {
        switch (mode)
        {
            case LockMode.Read:
                lk.Readers++;
                break;
            case LockMode.Write:
                lk.Writers++;
                lk.Dirtied = true;
                break;
            default:
                lk.WriteOnlyUsers++;
                lk.Dirtied = true;
                break;
        }

        UpdateIdle(lk);
        return new LockLease(this, lk, mode, _epoch);
    }

    private static void UndoAdmit(ClientLock lk, LockMode mode)
    {
        switch (mode)
        {
            case LockMode.Read:
                lk.Readers--;
                break;
            case LockMode.Write:
                lk.Writers--;
                break;
            default:
                lk.WriteOnlyUsers--;
                break;
        }
    }

    /// <summary>Users that the target mode would not cover have all finished.</summary>
    private static bool Drained(ClientLock lk, LockMode target) =>
        target == LockMode.Read ? lk.Writers == 0 && lk.WriteOnlyUsers == 0 : lk.Users == 0;

    private static bool HasWaiterFor(ClientLock lk, LockMode mode)
    {
        foreach (LockWaiter w in lk.Waiters)
        {
            if (w.Mode == mode)
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>A revoke of the grant we hold now.</summary>
    private void HandleCurrentRevoke(ClientLock lk, RevokeMessage revoke)
    {
        if (lk.Mode == LockMode.Null || lk.Mode == revoke.New)
        {
            // Already there: a duplicate of one we answered, or made moot by our own release.
            Answer(lk.Range, revoke);
            return;
        }

        if (revoke.New == LockMode.Read && lk.Mode != LockMode.Write)
        {
            LockClientLog.BadRevoke(_logger, lk.Range, revoke.GrantGen, revoke.Old, revoke.New, $"only WRITE is revoked to READ, and {lk.Mode} is held");
            return;
        }

        if (lk.Downgrade is not { } d)
        {
            d = new Downgrade(revoke.New, release: false);
            d.Answers.Add(revoke);
            lk.Downgrade = d;
            return;
        }

        if (d.Answers.Contains(revoke))
        {
            return;
        }

        if (!d.Running)
        {
            d.Target = revoke.New == LockMode.Null ? LockMode.Null : d.Target;
            d.Answers.Add(revoke);
        }
        else if (LockModes.Covers(revoke.New, d.Target))
        {
            d.Answers.Add(revoke);
        }
        else
        {
            lk.Deferred.Add(revoke);
        }
    }

    /// <summary>Deferred revokes whose grant has arrived (or has been superseded) are taken up or answered.</summary>
    private void TakeUpDeferred(ClientLock lk)
    {
        RevokeMessage[] deferred = [.. lk.Deferred];
        lk.Deferred.Clear();
        foreach (RevokeMessage r in deferred)
        {
            if (r.GrantGen < lk.GrantGen || (r.GrantGen > lk.GrantGen && lk.RequestInFlight == 0))
            {
                Answer(lk.Range, r);
            }
            else if (r.GrantGen > lk.GrantGen)
            {
                lk.Deferred.Add(r);
            }
            else
            {
                HandleCurrentRevoke(lk, r);
            }
        }
    }

    private void SendRequest(ClientLock lk, LockMode wanted)
    {
        lk.RequestInFlight = ++_lastRequestId;
        _outbox.SendRequest(lk.RequestInFlight, lk.Range, lk.Mode, wanted);
    }

    private void Answer(KeyRange range, RevokeMessage revoke) =>
        _outbox.SendRevokeAnswer(range, revoke.GrantGen, revoke.Old, revoke.New);

    /// <summary>Keep the LRU equal to the set of idle held locks, and release the oldest beyond the limit.</summary>
    private void UpdateIdle(ClientLock lk)
    {
        bool idle = lk.Mode != LockMode.Null && lk.Users == 0 && lk.Waiters.Count == 0 && lk.RequestInFlight == 0
            && lk.Downgrade is null && lk.Deferred.Count == 0;
        if (!idle)
        {
            if (lk.IdleNode is not null)
            {
                _idle.Remove(lk.IdleNode);
                lk.IdleNode = null;
            }

            return;
        }

        if (lk.IdleNode is not null)
        {
            return;
        }

        lk.IdleNode = _idle.AddLast(lk);
        while (_idle.Count > _options.IdleLockLimit)
        {
            ClientLock oldest = _idle.First!.Value;
            _idle.RemoveFirst();
            oldest.IdleNode = null;
            oldest.Downgrade = new Downgrade(LockMode.Null, release: true);
            Pump(oldest);
        }
    }

    private void RunPendingStarts()
    {
        while (true)
        {
            DowngradeStart start;
            lock (_gate)
            {
                if (_pendingStarts.Count == 0)
                {
                    return;
                }

                start = _pendingStarts[0];
                _pendingStarts.RemoveAt(0);
            }

            _ = RunDowngradeAsync(start);
        }
    }

    /// <summary>The part of a downgrade that waits: write-back and invalidation, outside the gate.</summary>
    private async Task RunDowngradeAsync(DowngradeStart start)
    {
        ClientLock lk = start.Lock;
        bool durable = true;
        try
        {
            if (start.Flush)
            {
                durable = await _writeBack.FlushAsync(lk.Range);
            }

            if (durable && start.Invalidate)
            {
                await _writeBack.InvalidateAsync(lk.Range);
            }
        }
        catch (Exception ex)
        {
            LockClientLog.WriteBackFailed(_logger, lk.Range, ex);
            durable = false;
        }

        lock (_gate)
        {
            if (start.Epoch != _epoch || _evicted)
            {
                return;
            }

            if (!durable)
            {
                LockClientLog.WriteBackRefused(_logger, lk.Range);
                EnterEvicted();
                return;
            }

            Downgrade d = start.Downgrade;
            lk.Downgrade = null;
            if (lk.GrantGen == d.StartGen)
            {
                lk.Mode = d.Target;
            }

            foreach (RevokeMessage r in d.Answers)
            {
                Answer(lk.Range, r);
            }

            if (d.Release && lk.Mode == LockMode.Null)
            {
                SendRequest(lk, LockMode.Null);
            }

            Pump(lk);
        }

        RunPendingStarts();
    }

    private void EnterEvicted()
    {
        if (_evicted)
        {
            return;
        }

        _evicted = true;
        FailAllWaiters();
        foreach (ClientLock lk in _idle)
        {
            lk.IdleNode = null;
        }

        _idle.Clear();
        _pendingStarts.Clear();
        LockClientLog.Evicted(_logger, _locks.Count);
    }

    private void FailAllWaiters()
    {
        foreach (ClientLock lk in _locks.Values)
        {
            while (lk.Waiters.First is { } node)
            {
                lk.Waiters.RemoveFirst();
                node.Value.Node = null;
                node.Value.Registration.Unregister();
                node.Value.Completion.TrySetResult(LockAcquisition.Evicted);
            }
        }
    }

    private readonly record struct DowngradeStart(ClientLock Lock, Downgrade Downgrade, bool Flush, bool Invalidate, long Epoch);

    private sealed class WaiterCancellation(LockClient owner, LockWaiter waiter, CancellationToken ct)
    {
        public void Cancel() => owner.Cancel(waiter, ct);
    }
}
