// SPDX-License-Identifier: MIT
using Crfs.Client.Coherence;
using Crfs.Protocol.Messages;

namespace Crfs.Coherence.Tests.Simulation;

/// <summary>
/// One cached register per lock range, as the fake item cache holds it. An inode-group register is
/// overwritten under WRITE; the orphan register is a counter that WRITE_ONLY holders add to blindly.
/// </summary>
internal sealed class CacheEntry
{
    /// <summary>The cached value is known (READ or WRITE held and read or written since the last invalidation).</summary>
    public bool Valid { get; set; }

    public long Value { get; set; }

    /// <summary>Value was written here and is not yet durable.</summary>
    public bool DirtyOverwrite { get; set; }

    /// <summary>Bumped by every write, so a write-back can tell whether a newer write came after its snapshot.</summary>
    public int Version { get; set; }

    /// <summary>Blind additions not yet acknowledged as durable.</summary>
    public long DirtyDelta { get; set; }

    /// <summary>The part of <see cref="DirtyDelta"/> the store has applied but whose acknowledgement is still in flight.</summary>
    public long AppliedUnackedDelta { get; set; }

    public bool IsDirty => DirtyOverwrite || DirtyDelta != 0;
}

internal readonly record struct CommitItem(int Register, bool Overwrite, long Value, int Version);

/// <summary>
/// A simulated mount: the real <see cref="LockClient"/> over a fake item cache and transaction
/// (<see cref="IWriteBack"/>) and a fake connection (<see cref="ILockClientOutbox"/>). Write-back
/// commits the whole "open transaction" (every dirty register) as one COMMIT and completes when the
/// store's reply arrives; flushes run one after another, as a client's commits do.
/// </summary>
internal sealed class SimClient : ILockClientOutbox, IWriteBack
{
    private readonly CoherenceSimulation _world;
    private readonly Dictionary<long, TaskCompletionSource<long?>> _pendingReads = [];
    private readonly Dictionary<long, TaskCompletionSource<bool>> _pendingCommits = [];
    private readonly Sabotage _sabotage;
    private Task _flushTail = Task.CompletedTask;

    public SimClient(CoherenceSimulation world, int endpoint, int registers, LockClientOptions options, Sabotage sabotage = Sabotage.None)
    {
        _world = world;
        _sabotage = sabotage;
        Endpoint = endpoint;
        Cache = NewCache(registers);
        Locks = new LockClient(this, this, options);
    }

    public int Endpoint { get; }

    public ulong Session { get; set; }

    /// <summary>Bumped by every session reset; operations from an older incarnation are fenced off by the session layer.</summary>
    public int Incarnation { get; private set; }

    /// <summary>The eviction notice has arrived and the session has not been reset yet.</summary>
    public bool KnowsEvicted { get; set; }

    public LockClient Locks { get; }

    public CacheEntry[] Cache { get; private set; }

    public int ActiveOps { get; set; }

    /// <summary>The session layer's recovery after eviction: drop everything cached (dirty included), start afresh.</summary>
    public void ResetSession(ulong newSession)
    {
        Incarnation++;
        Cache = NewCache(Cache.Length);
        foreach (TaskCompletionSource<long?> read in _pendingReads.Values)
        {
            read.TrySetResult(null);
        }

        foreach (TaskCompletionSource<bool> commit in _pendingCommits.Values)
        {
            commit.TrySetResult(false);
        }

        _pendingReads.Clear();
        _pendingCommits.Clear();
        Session = newSession;
        KnowsEvicted = false;
        Locks.Reset();
    }

    /// <summary>Read a register under a READ or WRITE lease: from the cache, or from the store (then cached).</summary>
    public async Task<long?> ReadAsync(int incarnation, int register)
    {
        if (incarnation != Incarnation)
        {
            return null;
        }

        if (Cache[register].Valid)
        {
            return Cache[register].Value;
        }

        long id = _world.NextId();
        var reply = new TaskCompletionSource<long?>(TaskCreationOptions.RunContinuationsAsynchronously);
        _pendingReads.Add(id, reply);
        ulong session = Session;
        _world.Network.Send(Endpoint, CoherenceSimulation.ServerEndpoint, () =>
        {
            long? value = _world.ServeRead(session, id, register, out bool duplicate);
            if (duplicate)
            {
                return;
            }

            _world.Network.Send(CoherenceSimulation.ServerEndpoint, Endpoint, () =>
            {
                if (_pendingReads.Remove(id, out TaskCompletionSource<long?>? t))
                {
                    t.SetResult(value);
                }
            });
        });

        long? v = await reply.Task;
        if (v is null || incarnation != Incarnation)
        {
            return null;
        }

        CacheEntry e = Cache[register];
        if (!e.Valid)
        {
            e.Valid = true;
            e.Value = v.Value;
        }

        return e.Value;
    }

    /// <summary>Overwrite a register under a WRITE lease (into the cache, dirty).</summary>
    public bool Write(int incarnation, int register, long value)
    {
        if (incarnation != Incarnation)
        {
            return false;
        }

        CacheEntry e = Cache[register];
        e.Valid = true;
        e.Value = value;
        e.DirtyOverwrite = true;
        e.Version++;
        return true;
    }

    /// <summary>Add to a register blindly under a WRITE_ONLY lease.</summary>
    public bool Add(int incarnation, int register, long delta)
    {
        if (incarnation != Incarnation)
        {
            return false;
        }

        Cache[register].DirtyDelta += delta;
        return true;
    }

    /// <summary>The store applied commit items of ours that our cache has not heard about yet.</summary>
    public void NoteApplied(ulong session, IReadOnlyList<CommitItem> items)
    {
        if (session != Session)
        {
            return;
        }

        foreach (CommitItem item in items)
        {
            if (!item.Overwrite)
            {
                Cache[item.Register].AppliedUnackedDelta += item.Value;
            }
        }
    }

    void ILockClientOutbox.SendRequest(ulong requestId, KeyRange range, LockMode oldMode, LockMode wantedMode)
    {
        ulong session = Session;
        _world.Trace($"c{Endpoint} -> LOCK #{requestId} {_world.Name(range)} {oldMode}->{wantedMode}");
        _world.Network.Send(Endpoint, CoherenceSimulation.ServerEndpoint, () => _world.DeliverRequest(session, requestId, range, oldMode, wantedMode));
    }

    void ILockClientOutbox.SendRevokeAnswer(KeyRange range, ulong grantGen, LockMode oldMode, LockMode newMode)
    {
        ulong session = Session;
        _world.Trace($"c{Endpoint} -> ANSWER {_world.Name(range)} gen {grantGen} {oldMode}->{newMode}");
        _world.Network.Send(Endpoint, CoherenceSimulation.ServerEndpoint, () => _world.DeliverRevokeAnswer(session, range, grantGen, oldMode, newMode));
    }

    /// <summary>COMMIT every dirty register and wait for the store's answer; false if it refused (evicted).</summary>
    public async Task<bool> FlushAsync(KeyRange range)
    {
        _world.CheckOnScheduler();
        if (_sabotage == Sabotage.SkipWriteBack)
        {
            return true;
        }

        Task previous = _flushTail;
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        _flushTail = done.Task;
        try
        {
            await previous;
            int incarnation = Incarnation;
            var items = new List<CommitItem>();
            for (int r = 0; r < Cache.Length; r++)
            {
                CacheEntry e = Cache[r];
                if (e.DirtyOverwrite)
                {
                    items.Add(new CommitItem(r, true, e.Value, e.Version));
                }

                if (e.DirtyDelta != e.AppliedUnackedDelta)
                {
                    items.Add(new CommitItem(r, false, e.DirtyDelta - e.AppliedUnackedDelta, 0));
                }
            }

            if (items.Count == 0)
            {
                return true;
            }

            long id = _world.NextId();
            var reply = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
            _pendingCommits.Add(id, reply);
            ulong session = Session;
            _world.Trace($"c{Endpoint} -> COMMIT #{id} ({items.Count} items)");
            _world.Network.Send(Endpoint, CoherenceSimulation.ServerEndpoint, () =>
            {
                bool ok = _world.ApplyCommit(this, session, id, items);
                _world.Network.Send(CoherenceSimulation.ServerEndpoint, Endpoint, () =>
                {
                    if (_pendingCommits.Remove(id, out TaskCompletionSource<bool>? t))
                    {
                        t.SetResult(ok);
                    }
                });
            });

            bool durable = await reply.Task;
            if (!durable || incarnation != Incarnation)
            {
                return false;
            }

            foreach (CommitItem item in items)
            {
                CacheEntry e = Cache[item.Register];
                if (item.Overwrite)
                {
                    if (e.Version == item.Version)
                    {
                        e.DirtyOverwrite = false;
                    }
                }
                else
                {
                    e.DirtyDelta -= item.Value;
                    e.AppliedUnackedDelta -= item.Value;
                }
            }

            return true;
        }
        finally
        {
            done.SetResult();
        }
    }

    public async Task InvalidateAsync(KeyRange range)
    {
        _world.CheckOnScheduler();
        int r = _world.RegisterOf(range);
        CacheEntry e = Cache[r];
        if (_sabotage == Sabotage.SkipInvalidate)
        {
            await _world.Scheduler.YieldAsync();
            return;
        }

        if (e.IsDirty && _world.IsLive(Session))
        {
            _world.Violation($"c{Endpoint} session {Session} invalidates {_world.Name(range)} while it is dirty (write-back did not come first)");
        }

        Cache[r] = new CacheEntry();
        _world.Trace($"c{Endpoint} invalidated {_world.Name(range)}");
        await _world.Scheduler.YieldAsync();
    }

    private static CacheEntry[] NewCache(int registers)
    {
        var cache = new CacheEntry[registers];
        for (int i = 0; i < registers; i++)
        {
            cache[i] = new CacheEntry();
        }

        return cache;
    }
}
