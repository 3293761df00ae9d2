// SPDX-License-Identifier: MIT
using Crfs.Client.Coherence;
using Crfs.Protocol.Messages;
using Crfs.Server.Locks;

namespace Crfs.Coherence.Tests.Simulation;

/// <summary>
/// A deterministic world: one <see cref="LockServer"/> (with a durable store of registers standing
/// in for the volume, fenced by the server's grants as the session layer's COMMIT check is), N
/// <see cref="SimClient"/>s, and a <see cref="SimNetwork"/>, all driven one step at a time by a
/// seeded <see cref="SimScheduler"/>. After every step it checks:
/// <list type="bullet">
/// <item>the server's holders of each lock are pairwise compatible;</item>
/// <item>the live clients' own views of their modes are pairwise compatible, and never above the server's view;</item>
/// <item>a client caches a readable value only under READ/WRITE and dirty state only under WRITE/WRITE_ONLY;</item>
/// </list>
/// and at the moments they matter: a grant goes out only when no other live session still holds
/// dirty (unflushed) or, for WRITE, readable state in the range; every read by a live session returns
/// the register's current value (linearizability of each register); the store refuses nothing from a
/// live session and accepts nothing from an evicted one; an operation ends Evicted only if its
/// session was evicted, and every operation a client starts after learning of its eviction does.
/// Liveness: once the workload stops, everything finishes within <see cref="SimulationOptions.DrainStepLimit"/>
/// steps, and a state where nothing can run while operations wait (a deadlock) fails at once.
/// </summary>
internal sealed class CoherenceSimulation : ILockServerOutbox
{
    public const int ServerEndpoint = 0;
    private const ulong TreeId = 5;
    private const int TickMilliseconds = 50;
    private const int TraceKeep = 400;

    private readonly SimulationOptions _options;
    private readonly Random _rng;
    private readonly KeyRange[] _ranges;
    private readonly Dictionary<KeyRange, int> _registerOf = [];
    private readonly long[] _durable;
    private readonly HashSet<long> _appliedCommits = [];
    private readonly HashSet<long> _refusedCommits = [];
    private readonly HashSet<long> _servedReads = [];
    private readonly List<SimClient> _clients = [];
    private readonly Dictionary<ulong, SimClient> _clientOfSession = [];
    private readonly HashSet<ulong> _live = [];
    private readonly HashSet<ulong> _evicted = [];
    private readonly Queue<string>? _trace;
    private readonly List<Task> _ops = [];
    private ulong _lastSession;
    private long _lastId;
    private long _lastValue;
    private long _step;
    private long _nextTick = TickMilliseconds;
    private string? _violation;

    public CoherenceSimulation(int seed, SimulationOptions options, bool trace = false)
    {
        Seed = seed;
        _options = options;
        _rng = new Random(seed);
        Scheduler = new SimScheduler(_rng);
        Network = new SimNetwork(_rng, options.DuplicateRate);
        Server = new LockServer(this, Time, new LockServerOptions
        {
            RevokeTimeout = options.RevokeTimeout,
            RevokeWarning = options.RevokeTimeout / 2,
            RevokeResendInterval = options.RevokeResendInterval,
        });
        _trace = trace ? new Queue<string>() : null;

        _ranges = new KeyRange[options.Groups + 1];
        for (int g = 0; g < options.Groups; g++)
        {
            _ranges[g] = LockRanges.InodeGroup(TreeId, 256 + ((ulong)g * KeyRange.InodeGroupSize));
        }

        _ranges[options.Groups] = LockRanges.Orphans(TreeId);
        for (int r = 0; r < _ranges.Length; r++)
        {
            _registerOf.Add(_ranges[r], r);
        }

        _durable = new long[_ranges.Length];
        var clientOptions = new LockClientOptions { IdleLockLimit = options.IdleLockLimit };
        for (int i = 1; i <= options.Clients; i++)
        {
            var c = new SimClient(this, i, _ranges.Length, clientOptions, options.Sabotage);
            _clients.Add(c);
            OpenSession(c);
        }
    }

    public int Seed { get; }

    public SimScheduler Scheduler { get; }

    public SimTime Time { get; } = new();

    public SimNetwork Network { get; }

    public LockServer Server { get; }

    public IReadOnlyList<SimClient> Clients => _clients;

    public int OrphanRegister => _options.Groups;

    public long Step => _step;

    /// <summary>Steps from the last operation's start until everything was at rest.</summary>
    public long DrainSteps { get; private set; }

    public int PendingOps => _ops.Count(t => !t.IsCompleted);

    public int EvictionCount => _evicted.Count;

    public IReadOnlyCollection<ulong> EvictedSessions => _evicted;

    public IReadOnlyList<string> TraceLines => _trace is null ? [] : [.. _trace];

    public long Durable(int register) => _durable[register];

    public KeyRange Range(int register) => _ranges[register];

    public int RegisterOf(KeyRange range) => _registerOf[range];

    public string Name(KeyRange range) =>
        _registerOf.TryGetValue(range, out int r) ? (r == OrphanRegister ? "orphans" : $"g{r}") : range.ToString();

    public bool IsLive(ulong session) => _live.Contains(session);

    public long NextId() => ++_lastId;

    public void Trace(string line)
    {
        if (_trace is null)
        {
            return;
        }

        _trace.Enqueue($"[{_step} t={Time.Milliseconds}] {line}");
        if (_trace.Count > TraceKeep)
        {
            _trace.Dequeue();
        }
    }

    public void Violation(string message)
    {
        _violation ??= $"step {_step}: {message}";
        Trace("VIOLATION " + message);
    }

    public void CheckOnScheduler()
    {
        if (SynchronizationContext.Current != Scheduler)
        {
            Violation("code under test ran outside the simulation scheduler");
        }
    }

    /// <summary>Run the random workload drawn from the seed, then drain, then the final checks.</summary>
    public void RunRandomWorkload()
    {
        InScheduler(() =>
        {
            int started = 0;
            SimClient? victim = null;
            int partitionAfter = _options.Partition ? _rng.Next(_options.Operations / 4, (_options.Operations / 2) + 1) : int.MaxValue;
            long partitionedAt = -1;
            long lastStartStep = 0;
            var postResetOps = new Dictionary<SimClient, int>();

            while (true)
            {
                // The workload: start operations at random moments on clients with room for them.
                if (started < _options.Operations && _rng.Next(4) == 0 && TryStartRandomOp())
                {
                    started++;
                    lastStartStep = _step;
                }

                foreach ((SimClient c, int left) in postResetOps)
                {
                    if (left > 0 && c.ActiveOps == 0 && !c.KnowsEvicted && _rng.Next(8) == 0)
                    {
                        postResetOps[c] = left - 1;
                        StartOp(c, RandomOp());
                        lastStartStep = _step;
                        break;
                    }
                }

                // The fault: cut one client off while it holds a lock, heal it after it has been evicted (or long after).
                if (victim is null && started >= partitionAfter)
                {
                    victim = _clients.FirstOrDefault(c => c.ActiveOps > 0 && c.Locks.GetLocks().Any(l => l.Mode != LockMode.Null));
                    if (victim is not null)
                    {
                        partitionedAt = Time.Milliseconds;
                        Network.Cut(victim.Endpoint);
                        Trace($"c{victim.Endpoint} cut off");
                    }
                }

                if (victim is not null && Network.IsCut(victim.Endpoint)
                    && ((_evicted.Contains(victim.Session) && _rng.Next(50) == 0)
                        || Time.Milliseconds - partitionedAt > 3 * (long)_options.RevokeTimeout.TotalMilliseconds))
                {
                    Network.Heal(victim.Endpoint);
                    Trace($"c{victim.Endpoint} healed");
                }

                // The session layer: an evicted client that has seen its operations fail starts a new session.
                foreach (SimClient c in _clients)
                {
                    if (c.KnowsEvicted && c.ActiveOps == 0 && _rng.Next(20) == 0)
                    {
                        ResetSession(c);
                        postResetOps[c] = postResetOps.GetValueOrDefault(c) + 3;
                        break;
                    }
                }

                bool workloadOver = started >= _options.Operations
                    && postResetOps.Values.All(v => v == 0)
                    && (victim is null || !Network.IsCut(victim.Endpoint))
                    && !_clients.Any(c => c.KnowsEvicted);
                if (workloadOver && PendingOps == 0 && Scheduler.ReadyCount == 0 && Network.InFlight == 0)
                {
                    DrainSteps = _step - lastStartStep;
                    break;
                }

                if (workloadOver && _step - lastStartStep > _options.DrainStepLimit)
                {
                    Fail($"operations still waiting {_options.DrainStepLimit} steps after the workload stopped");
                }

                if (!StepOnce())
                {
                    bool canWait = (victim is not null && Network.IsCut(victim.Endpoint)) || _clients.Any(c => c.KnowsEvicted) || started < _options.Operations
                        || postResetOps.Values.Any(v => v > 0);
                    if (!canWait && PendingOps > 0)
                    {
                        Fail($"deadlock: nothing can run and {PendingOps} operations wait");
                    }

                    // Nothing to run: let time pass to the next tick (revoke resends, eviction).
                    Time.Advance(_nextTick - Time.Milliseconds);
                    TickIfDue();
                }
            }

            FinalChecks();
        });
    }

    /// <summary>Run one step: one ready continuation or one message delivery. False if neither was possible.</summary>
    public bool StepOnce()
    {
        int ready = Scheduler.ReadyCount;
        int deliverable = Network.CountDeliverable();
        if (ready + deliverable == 0)
        {
            return false;
        }

        _step++;
        try
        {
            if (_rng.Next(ready + deliverable) < ready)
            {
                Scheduler.RunOne();
            }
            else
            {
                Network.DeliverOne(deliverable);
            }

            Time.Advance(1);
            TickIfDue();
            CheckInvariants();
        }
        catch (Exception ex) when (ex is not SimulationFailure)
        {
            Fail($"the code under test threw: {ex}");
        }

        if (_violation is not null)
        {
            Fail(_violation);
        }

        return true;
    }

    /// <summary>Run steps (letting time pass when idle) until <paramref name="done"/> holds.</summary>
    public void RunUntil(Func<bool> done, int maxSteps = 100_000)
    {
        InScheduler(() =>
        {
            for (int i = 0; !done(); i++)
            {
                if (i > maxSteps)
                {
                    Fail($"condition not reached within {maxSteps} steps");
                }

                if (!StepOnce())
                {
                    Time.Advance(_nextTick - Time.Milliseconds);
                    TickIfDue();
                }
            }
        });
    }

    public Task<SimOpOutcome> StartOp(SimClient c, SimOp op)
    {
        Task<SimOpOutcome>? task = null;
        InScheduler(() => task = RunOpAsync(c, op));
        _ops.Add(task!);
        return task!;
    }

    public void ResetSession(SimClient c)
    {
        ulong old = c.Session;
        _live.Remove(old);
        Server.CloseSession(old);
        InScheduler(() =>
        {
            c.ResetSession(0);
            OpenSession(c);
        });
        Trace($"c{c.Endpoint} reset: session {old} -> {c.Session}");
    }

    public void Fail(string message)
    {
        var dump = new System.Text.StringBuilder();
        dump.Append(System.Globalization.CultureInfo.InvariantCulture, $"seed {Seed} ({_options}): {message}\n");
        foreach (LockHolding h in Server.GetHoldings())
        {
            dump.Append(System.Globalization.CultureInfo.InvariantCulture, $"  server: session {h.Session} {Name(h.Range)} {h.Mode} gen {h.GrantGen} revoke->{h.RevokeTarget}\n");
        }

        foreach (SimClient c in _clients)
        {
            dump.Append(System.Globalization.CultureInfo.InvariantCulture, $"  c{c.Endpoint} session {c.Session} live={IsLive(c.Session)} knowsEvicted={c.KnowsEvicted} ops={c.ActiveOps}\n");
            foreach (ClientLockState l in c.Locks.GetLocks())
            {
                dump.Append(System.Globalization.CultureInfo.InvariantCulture, $"    {Name(l.Range)} {l.Mode} gen {l.GrantGen} users {l.Users} waiters {l.Waiters} inflight {l.RequestInFlight} downgrade->{l.DowngradeTarget}\n");
            }
        }

        foreach (string line in TraceLines.TakeLast(120))
        {
            dump.Append("  ").Append(line).Append('\n');
        }

        throw new SimulationFailure(dump.ToString());
    }

    void ILockServerOutbox.SendGrant(ulong session, ulong requestId, KeyRange range, LockMode oldMode, LockMode newMode, ulong grantGen)
    {
        CheckGrant(session, range, newMode);
        SimClient c = _clientOfSession[session];
        Trace($"server -> c{c.Endpoint} GRANT #{requestId} {Name(range)} {oldMode}->{newMode} gen {grantGen}");
        Network.Send(ServerEndpoint, c.Endpoint, () =>
        {
            if (c.Session == session)
            {
                c.Locks.ReceiveGrant(requestId, range, oldMode, newMode, grantGen);
            }
        });
    }

    void ILockServerOutbox.SendRevoke(ulong session, KeyRange range, ulong grantGen, LockMode oldMode, LockMode newMode)
    {
        SimClient c = _clientOfSession[session];
        Trace($"server -> c{c.Endpoint} REVOKE {Name(range)} gen {grantGen} {oldMode}->{newMode}");
        Network.Send(ServerEndpoint, c.Endpoint, () =>
        {
            if (c.Session == session)
            {
                c.Locks.ReceiveRevoke(range, grantGen, oldMode, newMode);
            }
        });
    }

    void ILockServerOutbox.SessionEvicted(ulong session)
    {
        SimClient c = _clientOfSession[session];
        if (!Network.IsCut(c.Endpoint) && !c.Locks.GetLocks().Any(l => l.Waiters > 0))
        {
            // A connected client may be evicted only as collateral of a cut one: one of its tasks holds
            // a lock that is being revoked while it waits for another lock the cut client holds.
            Violation($"c{c.Endpoint} (session {session}) was evicted although it is connected and waits for nothing");
        }

        _live.Remove(session);
        _evicted.Add(session);
        Trace($"server evicted c{c.Endpoint} session {session}");
        Network.Send(ServerEndpoint, c.Endpoint, () =>
        {
            if (c.Session == session)
            {
                c.KnowsEvicted = true;
                c.Locks.ReceiveEviction();
                Trace($"c{c.Endpoint} learns it is evicted");
            }
        });
    }

    public void DeliverRequest(ulong session, ulong requestId, KeyRange range, LockMode oldMode, LockMode wanted)
    {
        LockRequestStatus status = Server.ReceiveRequest(session, requestId, range, oldMode, wanted);
        if (status is LockRequestStatus.InvalidRange or LockRequestStatus.AlreadyWaiting)
        {
            Violation($"server refused LOCK #{requestId} from session {session} on {Name(range)}: {status}");
        }
    }

    public void DeliverRevokeAnswer(ulong session, KeyRange range, ulong grantGen, LockMode oldMode, LockMode newMode) =>
        Server.ReceiveRevokeAnswer(session, range, grantGen, oldMode, newMode);

    /// <summary>
    /// The server side of ITEM_READ: refused (null) unless the session holds READ or WRITE, since reads
    /// are clipped to the lock. A duplicate request is not answered (<paramref name="duplicate"/>).
    /// </summary>
    public long? ServeRead(ulong session, long id, int register, out bool duplicate)
    {
        duplicate = !_servedReads.Add(id);
        if (duplicate)
        {
            return null;
        }

        LockMode mode = Server.GetMode(session, _ranges[register]);
        if (mode is LockMode.Read or LockMode.Write)
        {
            return _durable[register];
        }

        if (IsLive(session))
        {
            Violation($"store refused a read of {Name(_ranges[register])} from live session {session} holding {mode}");
        }

        return null;
    }

    /// <summary>
    /// The server side of COMMIT, exactly once per id: every item must lie in a range the session holds
    /// for writing (WRITE for overwrites, WRITE_ONLY for blind additions) — the eviction fence.
    /// </summary>
    public bool ApplyCommit(SimClient client, ulong session, long id, IReadOnlyList<CommitItem> items)
    {
        if (_appliedCommits.Contains(id))
        {
            return true;
        }

        if (_refusedCommits.Contains(id))
        {
            return false;
        }

        foreach (CommitItem item in items)
        {
            LockMode mode = Server.GetMode(session, _ranges[item.Register]);
            LockMode needed = item.Overwrite ? LockMode.Write : LockMode.WriteOnly;
            if (mode != needed)
            {
                if (IsLive(session))
                {
                    Violation($"store refused COMMIT #{id} from live session {session}: {Name(_ranges[item.Register])} held {mode}, needs {needed}");
                }

                _refusedCommits.Add(id);
                Trace($"store refused COMMIT #{id} from session {session}");
                return false;
            }
        }

        if (_evicted.Contains(session))
        {
            Violation($"store accepted COMMIT #{id} from evicted session {session}");
        }

        foreach (CommitItem item in items)
        {
            _durable[item.Register] = item.Overwrite ? item.Value : _durable[item.Register] + item.Value;
        }

        _appliedCommits.Add(id);
        client.NoteApplied(session, items);
        Trace($"store applied COMMIT #{id} from session {session}");
        return true;
    }

    /// <summary>
    /// The value a linearizable register would hold now: a live WRITE holder's dirty value if there is
    /// one, else the durable value plus every live WRITE_ONLY holder's unflushed additions. Dirty state of
    /// evicted sessions is lost, as a crashed client's would be.
    /// </summary>
    public long Truth(int register)
    {
        long? overwrite = null;
        long pending = 0;
        foreach (SimClient c in _clients)
        {
            if (!IsLive(c.Session))
            {
                continue;
            }

            CacheEntry e = c.Cache[register];
            if (e.DirtyOverwrite)
            {
                if (overwrite is not null)
                {
                    Violation($"two live sessions hold dirty overwrites of {Name(_ranges[register])}");
                }

                overwrite = e.Value;
            }

            pending += e.DirtyDelta - e.AppliedUnackedDelta;
        }

        return overwrite ?? (_durable[register] + pending);
    }

    private void OpenSession(SimClient c)
    {
        ulong session = ++_lastSession;
        c.Session = session;
        _clientOfSession[session] = c;
        _live.Add(session);
        Server.OpenSession(session);
    }

    private void InScheduler(Action action)
    {
        SynchronizationContext? previous = SynchronizationContext.Current;
        SynchronizationContext.SetSynchronizationContext(Scheduler);
        try
        {
            action();
        }
        finally
        {
            SynchronizationContext.SetSynchronizationContext(previous);
        }

        if (Scheduler.EscapedThread)
        {
            Fail("work was posted from a thread other than the simulation's");
        }

        if (_violation is not null)
        {
            Fail(_violation);
        }
    }

    private void TickIfDue()
    {
        while (Time.Milliseconds >= _nextTick)
        {
            Server.Tick();
            _nextTick += TickMilliseconds;
        }
    }

    private bool TryStartRandomOp()
    {
        SimClient c = _clients[_rng.Next(_clients.Count)];
        if (c.ActiveOps >= _options.MaxOpsPerClient)
        {
            return false;
        }

        StartOp(c, RandomOp());
        return true;
    }

    private SimOp RandomOp()
    {
        int g = _options.Groups;
        int roll = _rng.Next(100);
        return roll switch
        {
            < 30 => new SimOp(SimOpKind.Read, _rng.Next(g), 0),
            < 60 => new SimOp(SimOpKind.Write, _rng.Next(g), 0),
            < 75 => new SimOp(SimOpKind.Move, _rng.Next(g), _rng.Next(g)),
            < 85 => new SimOp(SimOpKind.OrphanAdd, OrphanRegister, 0),
            < 92 => new SimOp(SimOpKind.OrphanRead, OrphanRegister, 0),
            _ => new SimOp(SimOpKind.Fsync, _rng.Next(g), 0),
        };
    }

    private async Task<SimOpOutcome> RunOpAsync(SimClient c, SimOp op)
    {
        c.ActiveOps++;
        ulong session = c.Session;
        int incarnation = c.Incarnation;
        bool knewEvicted = c.KnowsEvicted;
        SimOpOutcome outcome = SimOpOutcome.Evicted;
        Trace($"c{c.Endpoint} op {op} starts");
        try
        {
            outcome = await RunOpBodyAsync(c, op, incarnation);
            return outcome;
        }
        catch (Exception ex) when (ex is not SimulationFailure)
        {
            Violation($"c{c.Endpoint} op {op} threw {ex}");
            return SimOpOutcome.Evicted;
        }
        finally
        {
            c.ActiveOps--;
            Trace($"c{c.Endpoint} op {op} ends {outcome}");
            if (outcome == SimOpOutcome.Evicted && !_evicted.Contains(session))
            {
                Violation($"c{c.Endpoint} op {op} ended Evicted but session {session} was never evicted");
            }

            if (knewEvicted && outcome != SimOpOutcome.Evicted)
            {
                Violation($"c{c.Endpoint} op {op} started after the eviction notice but did not fail with Evicted");
            }
        }
    }

    private async Task<SimOpOutcome> RunOpBodyAsync(SimClient c, SimOp op, int incarnation)
    {
        if (op.Kind == SimOpKind.Fsync)
        {
            bool durable = await c.FlushAsync(_ranges[op.A]);
            return durable && !c.KnowsEvicted ? SimOpOutcome.Done : SimOpOutcome.Evicted;
        }

        LockNeed[] needs = op.Kind switch
        {
            SimOpKind.Read => [new(_ranges[op.A], LockMode.Read)],
            SimOpKind.Write => [new(_ranges[op.A], LockMode.Write)],
            SimOpKind.Move => [new(_ranges[op.A], LockMode.Write), new(_ranges[op.B], LockMode.Read)],
            SimOpKind.OrphanAdd => [new(_ranges[op.A], LockMode.WriteOnly)],
            _ => [new(_ranges[op.A], LockMode.Read)],
        };

        LockSetAcquisition acquired = await c.Locks.AcquireAllAsync(needs);
        if (!acquired.IsGranted)
        {
            return SimOpOutcome.Evicted;
        }

        using (acquired.Leases)
        {
            CheckLeases(c, acquired.Leases);
            await Scheduler.YieldAsync();
            switch (op.Kind)
            {
                case SimOpKind.Read or SimOpKind.OrphanRead:
                    if (await CheckedReadAsync(c, incarnation, op.A) is null)
                    {
                        return SimOpOutcome.Evicted;
                    }

                    break;

                case SimOpKind.Write or SimOpKind.Move:
                    long? seen = await CheckedReadAsync(c, incarnation, op.Kind == SimOpKind.Move ? op.B : op.A);
                    if (seen is null)
                    {
                        return SimOpOutcome.Evicted;
                    }

                    await Scheduler.YieldAsync();
                    if (!c.Write(incarnation, op.A, ++_lastValue))
                    {
                        return SimOpOutcome.Evicted;
                    }

                    break;

                case SimOpKind.OrphanAdd:
                    if (!c.Add(incarnation, op.A, 1))
                    {
                        return SimOpOutcome.Evicted;
                    }

                    break;
            }

            await Scheduler.YieldAsync();
        }

        return SimOpOutcome.Done;
    }

    /// <summary>Read and, for a live session, check the value against the register's current value.</summary>
    private async Task<long?> CheckedReadAsync(SimClient c, int incarnation, int register)
    {
        long? v = await c.ReadAsync(incarnation, register);
        if (v is not null && IsLive(c.Session) && c.Incarnation == incarnation)
        {
            long truth = Truth(register);
            if (v.Value != truth)
            {
                Violation($"c{c.Endpoint} session {c.Session} read {Name(_ranges[register])} = {v} but its current value is {truth} (durable {_durable[register]})");
            }
        }

        return v;
    }

    private void CheckLeases(SimClient c, LockLeaseSet leases)
    {
        if (!IsLive(c.Session))
        {
            return;
        }

        foreach (LockLease lease in leases.Leases)
        {
            LockMode held = c.Locks.GetMode(lease.Range);
            if (!LockModes.Covers(held, lease.Mode))
            {
                Violation($"c{c.Endpoint} got a {lease.Mode} lease on {Name(lease.Range)} while holding {held}");
            }
        }
    }

    /// <summary>At a grant: no other live session may still have dirty state (or, unless sharing READ, readable state) in the range.</summary>
    private void CheckGrant(ulong session, KeyRange range, LockMode granted)
    {
        if (granted == LockMode.Null)
        {
            return;
        }

        int r = _registerOf[range];
        foreach (SimClient other in _clients)
        {
            if (other.Session == session || !IsLive(other.Session))
            {
                continue;
            }

            CacheEntry e = other.Cache[r];
            bool conflict = granted switch
            {
                LockMode.Read => e.IsDirty,
                LockMode.Write => e.IsDirty || e.Valid,
                _ => e.DirtyOverwrite || e.Valid,
            };
            if (conflict)
            {
                Violation($"{granted} granted on {Name(range)} to session {session} while c{other.Endpoint} (session {other.Session}) still has valid={e.Valid} dirty={e.IsDirty} there");
            }
        }
    }

    private void CheckInvariants()
    {
        IReadOnlyList<LockHolding> holdings = Server.GetHoldings();
        for (int i = 0; i < holdings.Count; i++)
        {
            for (int j = i + 1; j < holdings.Count; j++)
            {
                LockHolding a = holdings[i];
                LockHolding b = holdings[j];
                if (a.Range == b.Range && !LockModes.Compatible(a.Mode, b.Mode))
                {
                    Violation($"server: sessions {a.Session} ({a.Mode}) and {b.Session} ({b.Mode}) both hold {Name(a.Range)}");
                }
            }
        }

        int registers = _ranges.Length;
        Span<LockMode> views = stackalloc LockMode[_clients.Count * registers];
        for (int ci = 0; ci < _clients.Count; ci++)
        {
            SimClient c = _clients[ci];
            if (!IsLive(c.Session))
            {
                continue;
            }

            for (int r = 0; r < registers; r++)
            {
                KeyRange range = _ranges[r];
                LockMode held = c.Locks.GetMode(range);
                views[(ci * registers) + r] = held;
                LockMode serverView = Server.GetMode(c.Session, range);
                if (!LockModes.Covers(serverView, held))
                {
                    Violation($"c{c.Endpoint} believes it holds {held} on {Name(range)}, the server says {serverView}");
                }

                for (int other = 0; other < ci; other++)
                {
                    LockMode theirs = views[(other * registers) + r];
                    if (!LockModes.Compatible(theirs, held))
                    {
                        Violation($"clients c{_clients[other].Endpoint} ({theirs}) and c{c.Endpoint} ({held}) both believe they hold {Name(range)}");
                    }
                }

                CacheEntry e = c.Cache[r];
                if (e.Valid && held is not (LockMode.Read or LockMode.Write))
                {
                    Violation($"c{c.Endpoint} caches {Name(range)} while holding {held}");
                }

                if (e.DirtyOverwrite && held != LockMode.Write)
                {
                    Violation($"c{c.Endpoint} has a dirty write to {Name(range)} while holding {held}");
                }

                if (e.DirtyDelta != 0 && held != LockMode.WriteOnly)
                {
                    Violation($"c{c.Endpoint} has dirty additions to {Name(range)} while holding {held}");
                }
            }
        }
    }

    private void FinalChecks()
    {
        if (_violation is not null)
        {
            Fail(_violation);
        }

        if (Network.InFlight != 0 || Scheduler.ReadyCount != 0)
        {
            Fail($"not quiescent at the end: {Network.InFlight} messages, {Scheduler.ReadyCount} continuations");
        }

        foreach (LockHolding h in Server.GetHoldings())
        {
            if (h.RevokeTarget is not null)
            {
                Fail($"revoke of {Name(h.Range)} to session {h.Session} still outstanding at the end");
            }

            SimClient c = _clientOfSession[h.Session];
            ClientLockState mine = c.Locks.GetLocks().FirstOrDefault(l => l.Range == h.Range);
            if (c.Session != h.Session || mine.Mode != h.Mode || mine.GrantGen != h.GrantGen)
            {
                Fail($"at rest, server has session {h.Session} at {h.Mode} gen {h.GrantGen} on {Name(h.Range)} but c{c.Endpoint} (session {c.Session}) has {mine.Mode} gen {mine.GrantGen}");
            }
        }

        foreach (SimClient c in _clients)
        {
            foreach (ClientLockState l in c.Locks.GetLocks())
            {
                if (l.Mode != LockMode.Null && Server.GetMode(c.Session, l.Range) != l.Mode)
                {
                    Fail($"at rest, c{c.Endpoint} holds {l.Mode} on {Name(l.Range)} but the server says {Server.GetMode(c.Session, l.Range)}");
                }
            }
        }

        foreach (KeyRange range in _ranges)
        {
            if (Server.QueueLength(range) != 0)
            {
                Fail($"requests still queued on {Name(range)} at the end");
            }
        }

        foreach (SimClient c in _clients)
        {
            foreach (ClientLockState l in c.Locks.GetLocks())
            {
                if (l.Users != 0 || l.Waiters != 0 || l.RequestInFlight || l.DowngradeTarget is not null)
                {
                    Fail($"c{c.Endpoint} lock {Name(l.Range)} not at rest: {l}");
                }
            }

            if (c.Locks.IdleCount > _options.IdleLockLimit)
            {
                Fail($"c{c.Endpoint} keeps {c.Locks.IdleCount} idle locks, limit {_options.IdleLockLimit}");
            }
        }

        foreach (Task op in _ops)
        {
            if (!op.IsCompleted)
            {
                Fail("an operation never finished");
            }
        }
    }
}

internal sealed class SimulationFailure(string message) : Exception(message);
