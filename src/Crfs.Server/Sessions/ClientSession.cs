// SPDX-License-Identifier: MIT
using System.Threading.Channels;
using Crfs.Format.Btrfs;
using Crfs.Protocol;
using Crfs.Protocol.Messages;
using Crfs.Server.Locks;

namespace Crfs.Server.Sessions;

/// <summary>
/// One client's session: its connection (which outlives sockets), its lock requests waiting for a
/// grant, the ordered queue of lock-server effects bound for it, and its exactly-once streams.
/// <para>
/// <b>Ordering of lock effects.</b> The lock server emits grants and revokes under its own lock
/// and must not block, so they go into <see cref="_effects"/>, a queue drained by one task per
/// session. Draining in order keeps a grant ahead of a revoke of that grant on the wire as far as
/// this end can: a grant completes the waiting LOCK handler inline, whose reply the connection
/// queues at once, and a revoke is queued by <see cref="CrfsConnection.SendRequestAsync{TReply}"/>
/// before it first yields. The revoke also names the grant it revokes (grant gen), so a client
/// can hold back a revoke that overtook its grant anyway.
/// </para>
/// <para>
/// <b>Exactly-once.</b> COMMIT and ALLOC_INO carry an op_seq, de-duplicated per stream. An op_seq
/// above every one seen on its stream starts the work; gaps are allowed, because a client may
/// draw both streams' op_seqs from one counter. One at or below the last gets the recorded answer
/// (the same task, so a duplicate of a COMMIT still in flight waits for the original), or Stale
/// when that answer is no longer kept. COMMITs of one session are applied in arrival order, one
/// after another, and each awaits the durable commit that holds it. The record lives in memory
/// only: it survives reconnects of the same server instance, not a restart (a restarted server
/// evicts every old session, see <see cref="CrfsServer"/>).
/// </para>
/// </summary>
internal sealed class ClientSession : ICrfsRequestHandler
{
    private const int RecordedResults = 64;

    private readonly CrfsServer _server;
    private readonly Lock _gate = new();
    private readonly Dictionary<ulong, TaskCompletionSource<LockReply>> _grants = [];
    private readonly Channel<Action> _effects = Channel.CreateUnbounded<Action>(new UnboundedChannelOptions { SingleReader = true });
    private readonly OpStream _commits = new();
    private readonly OpStream _inodes = new();
    private Task _commitTail = Task.CompletedTask;
    private bool _ended;
    private long? _detachedAt;

    public ClientSession(CrfsServer server, ulong id, Guid clientId, CrfsConnection connection)
    {
        _server = server;
        Id = id;
        ClientId = clientId;
        Connection = connection;
        _ = DrainEffectsAsync();
    }

    public ulong Id { get; }

    public Guid ClientId { get; }

    public CrfsConnection Connection { get; }

    /// <summary>When the transport was lost (server clock), or null while attached.</summary>
    public long? DetachedAt
    {
        get
        {
            lock (_gate)
            {
                return _detachedAt;
            }
        }

        set
        {
            lock (_gate)
            {
                _detachedAt = value;
            }
        }
    }

    /// <summary>Set once the session has said farewell, been evicted or reclaimed: it accepts no more changes.</summary>
    public bool Ended
    {
        get
        {
            lock (_gate)
            {
                return _ended;
            }
        }
    }

    /// <summary>Marks the session ended; returns false if it already was.</summary>
    public bool End()
    {
        lock (_gate)
        {
            if (_ended)
            {
                return false;
            }

            _ended = true;
        }

        _effects.Writer.TryComplete();
        return true;
    }

    /// <summary>The commits in flight, for a farewell or shutdown that must wait for them.</summary>
    public Task CommitsDrained
    {
        get
        {
            lock (_gate)
            {
                return _commitTail;
            }
        }
    }

    // ---- lock-server effects (called under the LockServer's lock: enqueue only) ----

    public void EnqueueGrant(ulong requestId, LockReply reply) => _effects.Writer.TryWrite(() =>
    {
        TaskCompletionSource<LockReply>? waiter;
        lock (_gate)
        {
            _grants.Remove(requestId, out waiter);
        }

        waiter?.TrySetResult(reply);
    });

    public void EnqueueRevoke(KeyRange range, ulong grantGen, LockMode oldMode, LockMode newMode) => _effects.Writer.TryWrite(() =>
    {
        Task<Reply<RevokeReply>> answer;
        try
        {
            answer = Connection.SendRequestAsync(new RevokeRequest(range, oldMode, newMode, grantGen));
        }
        catch (ConnectionClosedException)
        {
            return;
        }

        _ = AwaitRevokeAnswerAsync(answer, range, grantGen, oldMode, newMode);
    });

    private async Task AwaitRevokeAnswerAsync(Task<Reply<RevokeReply>> answer, KeyRange range, ulong grantGen, LockMode oldMode, LockMode newMode)
    {
        Reply<RevokeReply> reply;
        try
        {
            reply = await answer.ConfigureAwait(false);
        }
        catch (ConnectionClosedException)
        {
            return; // the session is going; closing it releases the lock
        }

        if (!reply.IsOk)
        {
            ServerLog.RevokeRefused(_server.Logger, Id, ClientId, range, grantGen, reply.Status);
            return; // unanswered: the lock server resends and, in the end, evicts
        }

        // The client answers a revoke only once its COMMIT is durable; the server makes sure of it
        // too, so a buggy client cannot hand undurable items to the next holder.
        await CommitsDrained.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        RevokeReply r = reply.Value;
        ulong echoed = r.GrantGen == 0 ? grantGen : r.GrantGen; // a client that predates grant gen echoes 0
        RevokeAnswerStatus status = _server.Locks.ReceiveRevokeAnswer(Id, r.Range, echoed, r.OldMode, r.NewMode);
        ServerLog.RevokeAnswered(_server.Logger, Id, ClientId, r.Range, echoed, r.OldMode, r.NewMode, status);
    }

    private async Task DrainEffectsAsync()
    {
        await Task.Yield();
        await foreach (Action effect in _effects.Reader.ReadAllAsync().ConfigureAwait(false))
        {
            effect();
        }
    }

    // ---- requests ----

    public async ValueTask<Reply> HandleRequestAsync(IncomingRequest request, CancellationToken cancellationToken)
    {
        switch (request.Message)
        {
            case PingRequest:
                return Reply.Ok(PingReply.Instance);
            case LockRequest lockRequest:
                return await LockAsync(request.RequestId, lockRequest, cancellationToken).ConfigureAwait(false);
            case ItemReadRequest read:
                return await _server.ItemReadAsync(this, read).ConfigureAwait(false);
            case CommitRequest commit:
                return await CommitAsync(commit).ConfigureAwait(false);
            case AllocInoRequest alloc:
                return await AllocInoAsync(alloc).ConfigureAwait(false);
            case DataReadRequest dataRead:
                return await _server.DataReadAsync(this, dataRead).ConfigureAwait(false);
            case StatfsRequest:
                return _server.Statfs();
            case InUseCheckRequest check:
                return await _server.InUseCheckAsync(this, check).ConfigureAwait(false);
            case FarewellRequest:
                return await _server.FarewellAsync(this).ConfigureAwait(false);
            default:
                return Reply.Error(WireError.NotSupported);
        }
    }

    private async Task<Reply> LockAsync(ulong requestId, LockRequest request, CancellationToken cancellationToken)
    {
        if (Ended)
        {
            return Reply.Error(WireError.Evicted);
        }

        var waiter = new TaskCompletionSource<LockReply>();
        lock (_gate)
        {
            _grants[requestId] = waiter;
        }

        LockRequestStatus status = _server.Locks.ReceiveRequest(Id, requestId, request.Range, request.OldMode, request.NewMode);
        ServerLog.LockRequested(_server.Logger, Id, ClientId, request.Range, request.OldMode, request.NewMode, requestId, status);
        if (status is not (LockRequestStatus.Granted or LockRequestStatus.Queued))
        {
            lock (_gate)
            {
                _grants.Remove(requestId);
            }

            return Reply.Error(status switch
            {
                LockRequestStatus.UnknownSession => WireError.Evicted,
                LockRequestStatus.InvalidRange => WireError.Invalid,
                _ => WireError.Busy,
            });
        }

        using (cancellationToken.Register(() => waiter.TrySetCanceled(cancellationToken)))
        {
            return Reply.Ok(await waiter.Task.ConfigureAwait(false));
        }
    }

    private Task<Reply> CommitAsync(CommitRequest request)
    {
        Task<Reply>? recorded;
        lock (_gate)
        {
            if (!_commits.TryAdmit(request.OpSeq, out recorded, out string? refusal))
            {
                return Task.FromResult(Refuse("COMMIT", refusal!));
            }

            if (recorded is null)
            {
                Task previous = _commitTail;
                recorded = _ended ? Task.FromResult(Reply.Error(WireError.Evicted)) : Task.Run(() => RunCommitAfterAsync(previous, request));
                _commitTail = recorded;
                _commits.Record(request.OpSeq, recorded);
            }
            else
            {
                ServerLog.DuplicateOp(_server.Logger, Id, ClientId, "COMMIT", request.OpSeq);
            }
        }

        return recorded;
    }

    private async Task<Reply> RunCommitAfterAsync(Task previous, CommitRequest request)
    {
        await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return await _server.CommitAsync(this, request).ConfigureAwait(false);
    }

    private Task<Reply> AllocInoAsync(AllocInoRequest request)
    {
        Task<Reply>? recorded;
        lock (_gate)
        {
            if (!_inodes.TryAdmit(request.OpSeq, out recorded, out string? refusal))
            {
                return Task.FromResult(Refuse("ALLOC_INO", refusal!));
            }

            if (recorded is null)
            {
                recorded = _ended ? Task.FromResult(Reply.Error(WireError.Evicted)) : Task.Run(() => _server.AllocInoAsync(this, request));
                _inodes.Record(request.OpSeq, recorded);
            }
        }

        return recorded;
    }

    private Reply Refuse(string stream, string reason)
    {
        ServerLog.StaleOp(_server.Logger, Id, ClientId, stream, reason);
        return Reply.Error(WireError.Stale);
    }

    public override string ToString() => $"session {Id} (client {ClientId})";

    /// <summary>One exactly-once stream: the last op_seq admitted and the recent answers.</summary>
    private sealed class OpStream
    {
        private readonly Dictionary<ulong, Task<Reply>> _results = [];
        private readonly Queue<ulong> _order = new();
        private ulong _last;

        /// <summary>
        /// True when <paramref name="opSeq"/> is new (above every one seen: the caller runs and
        /// records it) or a duplicate whose answer is still kept (<paramref name="recorded"/>).
        /// False, with the reason, for an op_seq at or below the last one whose answer is gone or
        /// was never recorded: whether it was applied can no longer be told.
        /// </summary>
        public bool TryAdmit(ulong opSeq, out Task<Reply>? recorded, out string? refusal)
        {
            refusal = null;
            recorded = null;
            if (opSeq > _last)
            {
                return true;
            }

            if (_results.TryGetValue(opSeq, out recorded))
            {
                return true;
            }

            refusal = $"op_seq {opSeq} is at or below the last one, {_last}, and no answer for it is kept (the last {RecordedResults} are)";
            return false;
        }

        public void Record(ulong opSeq, Task<Reply> result)
        {
            _last = opSeq;
            _results[opSeq] = result;
            _order.Enqueue(opSeq);
            if (_order.Count > RecordedResults)
            {
                _results.Remove(_order.Dequeue());
            }
        }
    }
}
