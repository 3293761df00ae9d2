// SPDX-License-Identifier: MIT
using Crfs.Client.Cache;
using Crfs.Client.Coherence;
using Crfs.Format.Btrfs;
using Crfs.Protocol;
using Crfs.Protocol.Framing;
using Crfs.Protocol.Messages;
using Crfs.Protocol.Transports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Crfs.Client.Session;

/// <summary>
/// A client's session with <c>crfs serve</c>: one <see cref="CrfsConnection"/>, the item cache, the
/// open transaction, the inode-number leases and the <see cref="LockClient"/>, wired together.
/// <para>
/// <b>Reads.</b> The file-system layer takes locks through <see cref="Locks"/> and then reads items
/// with <see cref="ReadItemAsync"/> and <see cref="ReadRangeAsync"/>. The cache answers whatever lies
/// in a span it knows completely, present or absent; anything else costs one ITEM_READ, whose leaf
/// group is clipped to the lock and then known completely. A read never overwrites a key the client
/// has dirtied (in the open transaction or in a COMMIT still in flight): the client's version is
/// the newer one.
/// </para>
/// <para>
/// <b>Writes.</b> An operation builds a <see cref="ChangeSet"/> and hands it to <see cref="Apply"/>,
/// which writes it through to the cache and records it in the open transaction under the session
/// lock, so a commit never splits an operation. The transaction is sealed and sent as one COMMIT
/// per tree on <see cref="CommitAsync"/> (fsync, syncfs, <c>crfs sync</c>, the server's SYNC,
/// unmount), when <see cref="CrfsSessionOptions.CommitInterval"/> has passed since its first change,
/// when it reaches <see cref="CrfsSessionOptions.DirtyLimit"/>, and when the lock client writes back
/// for a revoke. One COMMIT is in flight at a time, in order; the next transaction fills meanwhile.
/// Items the server returns with the COMMIT reply (EXTENT_DATA it wrote) replace the cached versions
/// unless the client has dirtied them again since.
/// </para>
/// <para>
/// <b>Coherence.</b> This type is the lock client's outbox and write-back: a LOCK goes out as a
/// request whose reply (with any items it carries) is fed back as a grant; a REVOKE is handed to
/// the lock client and answered when it says so. The wire REVOKE carries no grant generation, but
/// the connection is ordered and exactly-once, so a revoke always names the newest grant whose
/// reply arrived before it: the handler uses that one. Invalidation drops the range from the cache
/// and raises <see cref="Invalidated"/> for the kernel-facing layer.
/// </para>
/// <para>
/// <b>Connection.</b> The connection resumes across transports. When a transport is lost the
/// session reconnects with exponential backoff from <see cref="CrfsSessionOptions.ReconnectDelay"/>;
/// the protocol resends what the server has not seen. An Evicted greeting (or status) drops the
/// cache and dirty state, resets the lock client and greets anew; operations that were waiting see
/// EIO. A session the server may not have heard for <see cref="CrfsSessionOptions.FreshnessWindow"/>
/// (a stopped process, a cut network) pings before its cache answers, so it cannot serve a cache an
/// eviction it has not noticed yet took away. An idle session pings at a quarter of the server's
/// lease. Lock order: the lock client's gate,
/// then <c>_gate</c> (cache and transactions), then the connection's.
/// </para>
/// </summary>
public sealed class CrfsSession : IAsyncDisposable, ICrfsRequestHandler, ILockClientOutbox, IWriteBack
{
    private const int LockRecoverPage = 256;
    private const int RecentlyCommittedKept = 32;

    private readonly Lock _gate = new();
    private readonly Func<CancellationToken, ValueTask<ICrfsTransport>> _connect;
    private readonly CrfsSessionOptions _options;
    private readonly ILogger _logger;
    private readonly CrfsConnection _connection;
    private readonly CancellationTokenSource _lifetime = new();
    private readonly SemaphoreSlim _inoGate = new(1, 1);

    // Guarded by _gate.
    private readonly ItemCache _cache = new();
    private readonly List<OpenTransaction> _sealed = [];
    private readonly Dictionary<(ulong Tree, InodeKind Kind), (ulong Next, ulong End)> _inoLeases = [];
    // Inodes created since their transaction was sealed: their bytes exist only in our transactions.
    private readonly Dictionary<(ulong Tree, ulong Ino), OpenTransaction> _freshInodes = [];
    private readonly Dictionary<KeyRange, LockSend> _lockSends = [];
    private readonly Dictionary<(KeyRange, ulong, LockMode, LockMode), TaskCompletionSource> _revokes = [];
    private OpenTransaction _open = new();
    private Task<bool> _lastCommit = Task.FromResult(true);
    private ITimer? _commitTimer;
    private ulong _nextOpSeq = 1;
    private long _epoch;
    private ulong _serverInstance;
    private long _lastSendTimestamp;
    private long _lastHeardTimestamp;
    private Task? _freshnessPing;

    // Transactions whose COMMIT finished, newest last, each with a stamp from _committedStamp: an
    // ITEM_READ answered before such a COMMIT was applied must not overwrite what it wrote (FetchAsync).
    private readonly Queue<(long Stamp, OpenTransaction Tx)> _recentlyCommitted = new();
    private long _committedStamp;
    private bool _disposed;
    private Task _reconnecting = Task.CompletedTask;
    private ITimer? _pingTimer;

    private CrfsSession(Func<CancellationToken, ValueTask<ICrfsTransport>> connect, CrfsSessionOptions options, ILoggerFactory? loggerFactory)
    {
        _connect = connect;
        _options = options;
        _logger = loggerFactory?.CreateLogger<CrfsSession>() ?? (ILogger)NullLogger.Instance;
        _connection = new CrfsConnection(
            ConnectionRole.Client,
            this,
            new CrfsConnectionOptions { ResumeAcrossTransports = true },
            loggerFactory?.CreateLogger<CrfsConnection>());
        Locks = new LockClient(this, this, options.Locks, loggerFactory?.CreateLogger<LockClient>());
        _connection.Detached += OnDetached;
    }

    /// <summary>Raised (outside every lock) after a range was dropped from the cache; the mount layer queues kernel invalidations.</summary>
    public event Action<KeyRange>? Invalidated;

    public LockClient Locks { get; }

    public SessionCounters Counters { get; } = new();

    public InUseRegistry InUse { get; } = new();

    public Guid ClientId => _options.ClientId;

    /// <summary>The lease the server granted in its last HELLO reply.</summary>
    public TimeSpan Lease { get; private set; }

    public int CachedItems
    {
        get
        {
            lock (_gate)
            {
                return _cache.Count;
            }
        }
    }

    public long DirtyBytes
    {
        get
        {
            lock (_gate)
            {
                return _open.DirtyBytes;
            }
        }
    }

    /// <summary>Opens a session: connects a transport, greets, and starts pinging. Throws when the server refuses.</summary>
    public static async Task<CrfsSession> ConnectAsync(
        Func<CancellationToken, ValueTask<ICrfsTransport>> connect,
        CrfsSessionOptions? options = null,
        ILoggerFactory? loggerFactory = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connect);
        var session = new CrfsSession(connect, options ?? new CrfsSessionOptions(), loggerFactory);
        try
        {
            ICrfsTransport transport = await connect(cancellationToken);
            GreetingResult result = await session.GreetAsync(transport, cancellationToken);
            if (result.Outcome != GreetingOutcome.Attached)
            {
                throw new SessionException(
                    result.Status == WireError.Ok ? WireError.Io : result.Status,
                    $"server refused client {session.ClientId}: {result.Outcome} {result.Reply?.Mode} {result.Failure}");
            }

            session.StartPinging();
            return session;
        }
        catch
        {
            await session.DisposeCoreAsync(farewell: false);
            throw;
        }
    }

    // ---------------- items ----------------

    /// <summary>
    /// The item at <paramref name="key"/> (null when absent), from the cache when it knows, else by
    /// one ITEM_READ inside <paramref name="lockRange"/>, which the caller must hold.
    /// </summary>
    public async ValueTask<byte[]?> ReadItemAsync(KeyRange lockRange, BtrfsKey key, CancellationToken cancellationToken = default)
    {
        await EnsureFreshAsync(cancellationToken);
        while (true)
        {
            lock (_gate)
            {
                CacheLookup found = _cache.Lookup(lockRange.TreeId, key, out byte[]? value);
                if (found != CacheLookup.Unknown)
                {
                    return value;
                }
            }

            await FetchAsync(lockRange, key, cancellationToken);
        }
    }

    /// <summary>Every item of <c>[first, last]</c> (inside <paramref name="lockRange"/>, held by the caller) in key order.</summary>
    public async ValueTask<List<KeyValuePair<BtrfsKey, byte[]>>> ReadRangeAsync(
        KeyRange lockRange, BtrfsKey first, BtrfsKey last, CancellationToken cancellationToken = default)
    {
        await EnsureFreshAsync(cancellationToken);
        while (true)
        {
            BtrfsKey missing;
            lock (_gate)
            {
                if (!_cache.TryFindIncomplete(lockRange.TreeId, first, last, out missing))
                {
                    return _cache.Enumerate(lockRange.TreeId, first, last);
                }
            }

            await FetchAsync(lockRange, missing, cancellationToken);
        }
    }

    /// <summary>
    /// The last key in <c>[first, last]</c> (inside <paramref name="lockRange"/>, held by the caller), or
    /// null when the span is empty; cheap once the span is cached (it is not copied).
    /// </summary>
    public async ValueTask<BtrfsKey?> ReadLastKeyAsync(KeyRange lockRange, BtrfsKey first, BtrfsKey last, CancellationToken cancellationToken = default)
    {
        await EnsureFreshAsync(cancellationToken);
        while (true)
        {
            BtrfsKey missing;
            lock (_gate)
            {
                if (!_cache.TryFindIncomplete(lockRange.TreeId, first, last, out missing))
                {
                    return _cache.LastKey(lockRange.TreeId, first, last);
                }
            }

            await FetchAsync(lockRange, missing, cancellationToken);
        }
    }

    /// <summary>
    /// Makes sure the locks this client believes it holds are still its own before the cache answers
    /// from them. A client learns of its eviction from the server, so one that has heard nothing for
    /// a while (its process was stopped, or the network was cut) may have been evicted and not know
    /// it, and its cache may be stale. If no request sent within <see cref="CrfsSessionOptions.FreshnessWindow"/>
    /// has been answered, one PING (shared by every caller) crosses the ordered connection first: any
    /// REVOKE or close the server sent earlier is processed before its reply. An eviction found on the way fails the
    /// operation (EIO), so nothing is answered from, or built on, a cache the server has taken back.
    /// </summary>
    private async ValueTask EnsureFreshAsync(CancellationToken cancellationToken)
    {
        TimeProvider time = _options.TimeProvider;
        if (time.GetElapsedTime(Interlocked.Read(ref _lastHeardTimestamp)) < _options.FreshnessWindow)
        {
            return;
        }

        long epoch;
        Task ping;
        lock (_gate)
        {
            epoch = _epoch;
            if (_freshnessPing is null || _freshnessPing.IsCompleted)
            {
                _freshnessPing = PingForFreshnessAsync();
            }

            ping = _freshnessPing;
        }

        await ping.WaitAsync(cancellationToken).ConfigureAwait(false);
        lock (_gate)
        {
            if (_epoch != epoch)
            {
                throw new SessionException(WireError.Evicted, "the session was evicted while it was out of touch with the server; its cache is gone");
            }
        }
    }

    /// <summary>
    /// A reply to a request sent at <paramref name="sentAt"/> proves the session was alive then (the
    /// server answered after it). Its arrival time proves nothing: it, or a REVOKE, may have waited in
    /// a socket buffer while this process was stopped.
    /// </summary>
    private void NoteAliveAt(long sentAt)
    {
        long seen = Interlocked.Read(ref _lastHeardTimestamp);
        while (sentAt > seen)
        {
            long was = Interlocked.CompareExchange(ref _lastHeardTimestamp, sentAt, seen);
            if (was == seen)
            {
                return;
            }

            seen = was;
        }
    }

    private async Task PingForFreshnessAsync()
    {
        Reply<PingReply> reply;
        try
        {
            reply = await SendCountedAsync(PingRequest.Instance, CancellationToken.None).ConfigureAwait(false);
        }
        catch (ConnectionClosedException ex)
        {
            throw new SessionException(WireError.Io, $"PING: {ex.Message}");
        }

        if (!reply.IsOk)
        {
            if (reply.Status == WireError.Evicted)
            {
                HandleEviction();
            }

            throw new SessionException(reply.Status, $"PING failed with {reply.Status}");
        }
    }

    /// <summary>Records that <c>[first, last]</c> holds no items (a fresh inode's keys), so lookups there cost nothing.</summary>
    public void MarkKnownEmpty(ulong treeId, BtrfsKey first, BtrfsKey last)
    {
        lock (_gate)
        {
            _cache.MarkComplete(treeId, first, last);
        }
    }

    /// <summary>
    /// Applies one operation's changes to the cache and the open transaction, atomically with respect
    /// to commits. The caller holds WRITE locks covering every key.
    /// </summary>
    public void Apply(ChangeSet changes)
    {
        ArgumentNullException.ThrowIfNull(changes);
        if (changes.IsEmpty)
        {
            return;
        }

        bool startTimer;
        bool overLimit;
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            startTimer = _open.IsEmpty;
            ulong tree = changes.TreeId;
            foreach (ChangeSet.Change c in changes.Changes)
            {
                switch (c.Kind)
                {
                    case ChangeSet.ChangeKind.Put:
                        _cache.Put(tree, c.Key, c.Value!);
                        _open.Put(tree, c.Key, c.Value!);
                        break;
                    case ChangeSet.ChangeKind.Delete:
                        _cache.Delete(tree, c.Key);
                        _open.Delete(tree, c.Key);
                        break;
                    case ChangeSet.ChangeKind.DeleteRange:
                        _cache.DeleteRange(tree, c.Key, c.Last);
                        _open.DeleteRange(tree, c.Key, c.Last);
                        break;
                    default:
                        _open.AddData(tree, c.Data);
                        break;
                }
            }

            overLimit = _open.DirtyBytes >= _options.DirtyLimit;
            if (startTimer && !overLimit)
            {
                _commitTimer?.Dispose();
                _commitTimer = _options.TimeProvider.CreateTimer(
                    static state => _ = ((CrfsSession)state!).CommitAsync(),
                    this,
                    _options.CommitInterval,
                    Timeout.InfiniteTimeSpan);
            }
        }

        if (overLimit)
        {
            _ = CommitAsync();
        }
    }

    // ---------------- data ----------------

    /// <summary>Marks an inode as created by this session and never committed: its data is all in the transaction.</summary>
    public void NoteFreshInode(ulong treeId, ulong ino)
    {
        lock (_gate)
        {
            _freshInodes[(treeId, ino)] = _open;
        }
    }

    /// <summary>
    /// Reads file bytes <c>[offset, offset + length)</c> of an inode whose size is
    /// <paramref name="fileSize"/>: the server's bytes (DATA_READ) with the buffered writes, truncates
    /// and punches of COMMITs in flight and of the open transaction replayed over them. The caller
    /// holds a lock on the inode's group.
    /// </summary>
    public async ValueTask<byte[]> ReadDataAsync(ulong treeId, ulong ino, ulong offset, uint length, ulong fileSize, CancellationToken cancellationToken = default)
    {
        if (offset >= fileSize)
        {
            return [];
        }

        int count = (int)Math.Min(length, fileSize - offset);
        while (true)
        {
            byte[]? read = await TryReadDataAsync(treeId, ino, offset, count, cancellationToken);
            if (read is not null)
            {
                return read;
            }
        }
    }

    /// <summary>
    /// One attempt of <see cref="ReadDataAsync"/>. The server may answer the DATA_READ from a state
    /// older than a COMMIT of ours that finished meanwhile, so the writes of transactions committed
    /// since the request left are replayed too, oldest first, then those in flight and the open one.
    /// Null when too many commits finished to tell which: the caller reads again.
    /// </summary>
    private async ValueTask<byte[]?> TryReadDataAsync(ulong treeId, ulong ino, ulong offset, int count, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[count];
        bool fresh;
        long sentAfter;
        lock (_gate)
        {
            fresh = _freshInodes.ContainsKey((treeId, ino));
            sentAfter = _committedStamp;
        }

        if (!fresh)
        {
            int done = 0;
            while (done < count)
            {
                uint chunk = (uint)Math.Min(_options.DataReadChunk, (uint)(count - done));
                DataReadReply reply = await RequestAsync(new DataReadRequest(treeId, ino, offset + (ulong)done, chunk), cancellationToken);
                int got = Math.Min(reply.Data.Length, count - done);
                reply.Data.Span[..got].CopyTo(buffer.AsSpan(done));
                if (got < chunk)
                {
                    break;
                }

                done += got;
            }
        }

        lock (_gate)
        {
            if (_recentlyCommitted.TryPeek(out (long Stamp, OpenTransaction Tx) oldest) && oldest.Stamp > sentAfter + 1)
            {
                return null;
            }

            foreach ((long stamp, OpenTransaction tx) in _recentlyCommitted)
            {
                if (stamp > sentAfter)
                {
                    DataOverlay.Apply(buffer, offset, tx.DataFor(treeId, ino));
                }
            }

            foreach (OpenTransaction tx in _sealed)
            {
                DataOverlay.Apply(buffer, offset, tx.DataFor(treeId, ino));
            }

            DataOverlay.Apply(buffer, offset, _open.DataFor(treeId, ino));
        }

        return buffer;
    }

    // ---------------- inode numbers ----------------

    /// <summary>A fresh inode number of <paramref name="kind"/> from this client's lease, asking for a new lease when it is used up.</summary>
    public async ValueTask<ulong> AllocateInodeAsync(ulong treeId, InodeKind kind, CancellationToken cancellationToken = default)
    {
        await _inoGate.WaitAsync(cancellationToken);
        try
        {
            lock (_gate)
            {
                if (_inoLeases.TryGetValue((treeId, kind), out var lease) && lease.Next < lease.End)
                {
                    _inoLeases[(treeId, kind)] = (lease.Next + 1, lease.End);
                    return lease.Next;
                }
            }

            ulong opSeq = NextOpSeq();
            AllocInoReply reply = await RequestAsync(new AllocInoRequest(opSeq, treeId, kind, _options.InodeLeaseCount), CancellationToken.None);
            if (reply.Count == 0 || reply.Start < ObjectIds.FirstFree)
            {
                throw new SessionException(WireError.NoSpace, $"ALLOC_INO for tree {treeId} returned [{reply.Start}, {reply.Start} + {reply.Count})");
            }

            lock (_gate)
            {
                _inoLeases[(treeId, kind)] = (reply.Start + 1, reply.Start + reply.Count);
            }

            return reply.Start;
        }
        finally
        {
            _inoGate.Release();
        }
    }

    // ---------------- commits ----------------

    /// <summary>
    /// Seals the open transaction and completes when it, and every transaction before it, is durable
    /// on the server. False when the server refused a commit (the session was evicted: its dirty
    /// state is lost).
    /// </summary>
    public Task<bool> CommitAsync()
    {
        lock (_gate)
        {
            _commitTimer?.Dispose();
            _commitTimer = null;
            if (_open.IsEmpty)
            {
                return _lastCommit;
            }

            OpenTransaction tx = _open;
            _open = new OpenTransaction();
            _sealed.Add(tx);
            Task<bool> previous = _lastCommit;
            _lastCommit = SendCommitAsync(previous, tx, _epoch);
            return _lastCommit;
        }
    }

    /// <summary>
    /// Whether another session uses inode <paramref name="ino"/> (INUSE_CHECK: the server asks the
    /// others). Asked before deleting an inode whose last name is gone; true keeps it as an orphan,
    /// which the last user, or the server's orphan scan, deletes later. A server that does not know
    /// the request (one that predates it, or a test double) answers NotSupported, taken as "nobody":
    /// such a server has no other client to ask. Throws <see cref="SessionException"/> otherwise.
    /// </summary>
    public async ValueTask<bool> IsInUseElsewhereAsync(ulong treeId, ulong ino, CancellationToken cancellationToken = default)
    {
        Reply<InUseCheckReply> reply;
        try
        {
            reply = await SendCountedAsync(new InUseCheckRequest(treeId, ino / KeyRange.InodeGroupSize), cancellationToken).ConfigureAwait(false);
        }
        catch (ConnectionClosedException ex)
        {
            throw new SessionException(WireError.Io, $"INUSE_CHECK tree {treeId} inode {ino}: {ex.Message}");
        }

        if (reply.IsOk)
        {
            return reply.Value.IsInUse(ino);
        }

        if (reply.Status == WireError.NotSupported)
        {
            return false;
        }

        if (reply.Status == WireError.Evicted)
        {
            HandleEviction();
        }

        throw new SessionException(reply.Status, $"INUSE_CHECK tree {treeId} inode {ino} failed with {reply.Status}");
    }

    /// <summary>STATFS, straight from the server.</summary>
    public async ValueTask<StatfsReply> StatfsAsync(CancellationToken cancellationToken = default) =>
        await RequestAsync(StatfsRequest.Instance, cancellationToken);

    public ValueTask DisposeAsync() => DisposeCoreAsync(farewell: true);

    // ---------------- ICrfsRequestHandler ----------------

    async ValueTask<Reply> ICrfsRequestHandler.HandleRequestAsync(IncomingRequest request, CancellationToken cancellationToken)
    {
        switch (request.Message)
        {
            case RevokeRequest revoke:
                await HandleRevokeAsync(revoke);
                return Reply.Ok(new RevokeReply(revoke.Range, revoke.OldMode, revoke.NewMode, revoke.GrantGen));
            case SyncRequest:
                return await CommitAsync() ? Reply.Ok(SyncReply.Instance) : Reply.Error(WireError.Evicted);
            case InUseQueryRequest query:
                return Reply.Ok(new InUseQueryReply(InUse.Bitmap(query.TreeId, query.Group)));
            case LockRecoverRequest recover:
                return Reply.Ok(new LockRecoverReply(RecoverPage(recover)));
            case PingRequest:
                return Reply.Ok(PingReply.Instance);
            default:
                return Reply.Error(WireError.NotSupported);
        }
    }

    // ---------------- ILockClientOutbox ----------------

    void ILockClientOutbox.SendRequest(ulong requestId, KeyRange range, LockMode oldMode, LockMode wantedMode)
    {
        Task<Reply<LockReply>> reply = SendCountedAsync(new LockRequest(range, oldMode, wantedMode), CancellationToken.None);
        Task delivered = DeliverGrantAsync(reply, requestId, range);
        lock (_gate)
        {
            _lockSends[range] = new LockSend(reply, delivered);
        }
    }

    void ILockClientOutbox.SendRevokeAnswer(KeyRange range, ulong grantGen, LockMode oldMode, LockMode newMode)
    {
        TaskCompletionSource? answer;
        lock (_gate)
        {
            _revokes.Remove((range, grantGen, oldMode, newMode), out answer);
        }

        // Completed asynchronously: the outbox must never run the handler's continuation inline.
        answer?.TrySetResult();
    }

    // ---------------- IWriteBack ----------------

    Task<bool> IWriteBack.FlushAsync(KeyRange range) => CommitAsync();

    Task IWriteBack.InvalidateAsync(KeyRange range)
    {
        lock (_gate)
        {
            _cache.Invalidate(range);
        }

        Invalidated?.Invoke(range);
        return Task.CompletedTask;
    }

    // ---------------- internals ----------------

    /// <summary>
    /// One ITEM_READ, its span filled into the cache. The server may answer it from a state older
    /// than a COMMIT of ours that finished meanwhile (the two run concurrently there, and their
    /// replies' continuations race here), so keys written by any transaction still open or in flight,
    /// or committed since the request left, keep the cached version. If too many commits finished
    /// to tell, the reply is dropped and the caller asks again.
    /// </summary>
    private async Task FetchAsync(KeyRange lockRange, BtrfsKey key, CancellationToken cancellationToken)
    {
        long sentAfter;
        lock (_gate)
        {
            sentAfter = _committedStamp;
        }

        ItemReadReply reply = await RequestAsync(new ItemReadRequest(lockRange, key, _options.ItemReadMaxBytes), cancellationToken);
        LeafGroup group = reply.Group;
        if (key < group.Low || key > group.High)
        {
            throw new SessionException(WireError.ProtocolError, $"ITEM_READ of {key} in {lockRange} returned the span [{group.Low}, {group.High}], which does not contain it");
        }

        BtrfsKey low = group.Low > lockRange.Start ? group.Low : lockRange.Start;
        BtrfsKey high = group.High < lockRange.End ? group.High : lockRange.End;
        lock (_gate)
        {
            if (_recentlyCommitted.TryPeek(out (long Stamp, OpenTransaction Tx) oldest) && oldest.Stamp > sentAfter + 1)
            {
                return; // commits the reply may predate are no longer remembered: read again
            }

            ulong tree = lockRange.TreeId;
            _cache.Fill(tree, low, high, group.Items, k => IsPinnedLocked(tree, k) || CommittedSinceLocked(sentAfter, tree, k));
        }
    }

    private bool CommittedSinceLocked(long stamp, ulong treeId, BtrfsKey key)
    {
        foreach ((long s, OpenTransaction tx) in _recentlyCommitted)
        {
            if (s > stamp && tx.Touches(treeId, key))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>Whether a change not yet durable (open or sealed, other than <paramref name="except"/>) touches the key. Caller holds <c>_gate</c>.</summary>
    private bool IsPinnedLocked(ulong treeId, BtrfsKey key, OpenTransaction? except = null)
    {
        if (_open.Touches(treeId, key))
        {
            return true;
        }

        foreach (OpenTransaction tx in _sealed)
        {
            if (!ReferenceEquals(tx, except) && tx.Touches(treeId, key))
            {
                return true;
            }
        }

        return false;
    }

    private async Task<bool> SendCommitAsync(Task<bool> previous, OpenTransaction tx, long epoch)
    {
        // Commits leave one at a time, in order: a later one may overwrite an earlier one's items.
        // A transaction sealed before an eviction is void: what it built on is gone.
        await previous.ConfigureAwait(false);
        bool ok = false;
        try
        {
            lock (_gate)
            {
                if (epoch != _epoch)
                {
                    return false;
                }
            }

            foreach (ulong tree in tx.TreeIds)
            {
                IReadOnlyList<ItemOperation> items = tx.ItemsFor(tree);
                IReadOnlyList<DataOperation> data = tx.DataOperationsFor(tree);
                Reply<CommitReply> reply;
                try
                {
                    reply = await SendCountedAsync(new CommitRequest(NextOpSeq(), tree, items, data), CancellationToken.None);
                }
                catch (ConnectionClosedException ex)
                {
                    SessionLog.CommitFailed(_logger, tree, ex.Message);
                    return false;
                }

                if (!reply.IsOk)
                {
                    // The cache already shows the refused changes; only starting over is coherent.
                    SessionLog.CommitFailed(_logger, tree, reply.Status.ToString());
                    HandleEviction();
                    return false;
                }

                lock (_gate)
                {
                    // The server's version replaces the cached one only where no later change
                    // exists: neither the open transaction nor one sealed after this one (queued
                    // behind it; every earlier one is done) touched the key. Else a directory's
                    // size would fall back to this commit's and later entries build on it.
                    foreach (WireItem item in reply.Value.ServerItems)
                    {
                        if (!IsPinnedLocked(tree, item.Key, except: tx))
                        {
                            _cache.Put(tree, item.Key, item.Value.ToArray());
                        }
                    }
                }

                Counters.CountCommit(items.Count, data.Count, tx.DirtyBytes);
            }

            ok = true;
            return true;
        }
        finally
        {
            lock (_gate)
            {
                _sealed.Remove(tx);
                _recentlyCommitted.Enqueue((++_committedStamp, tx));
                while (_recentlyCommitted.Count > RecentlyCommittedKept)
                {
                    _recentlyCommitted.Dequeue();
                }
                if (ok)
                {
                    // The server has these inodes now (or, if the create landed in a later
                    // transaction, returns no bytes for them): DATA_READ is right either way.
                    foreach (KeyValuePair<(ulong Tree, ulong Ino), OpenTransaction> kv in _freshInodes.ToArray())
                    {
                        if (ReferenceEquals(kv.Value, tx))
                        {
                            _freshInodes.Remove(kv.Key);
                        }
                    }
                }
            }
        }
    }

    private async Task DeliverGrantAsync(Task<Reply<LockReply>> pending, ulong requestId, KeyRange range)
    {
        Reply<LockReply> reply;
        try
        {
            reply = await pending.ConfigureAwait(false);
        }
        catch (ConnectionClosedException)
        {
            return;
        }

        if (!reply.IsOk)
        {
            SessionLog.LockRefused(_logger, range, reply.Status.ToString());
            HandleEviction();
            return;
        }

        LockReply grant = reply.Value;
        if (grant.Items is LeafGroup group && grant.NewMode is LockMode.Read or LockMode.Write)
        {
            BtrfsKey low = group.Low > range.Start ? group.Low : range.Start;
            BtrfsKey high = group.High < range.End ? group.High : range.End;
            if (low <= high)
            {
                lock (_gate)
                {
                    _cache.Fill(range.TreeId, low, high, group.Items, k => IsPinnedLocked(range.TreeId, k));
                }
            }
        }

        Locks.ReceiveGrant(requestId, range, grant.OldMode, grant.NewMode, grant.GrantGeneration);
    }

    private async Task HandleRevokeAsync(RevokeRequest revoke)
    {
        // A LOCK reply that arrived before this REVOKE completed its task before the handler ran
        // (the read loop completes it first); wait until it is delivered, then the revoke is for it.
        LockSend? send;
        lock (_gate)
        {
            _lockSends.TryGetValue(revoke.Range, out send);
        }

        if (send is not null && send.Reply.IsCompleted)
        {
            await send.Delivered.ConfigureAwait(false);
        }

        // The server names the grant it revokes; a server that predates the field sends 0, and
        // then the newest grant delivered for the range (the connection is ordered) is the one.
        ulong grantGen = revoke.GrantGen;
        if (grantGen == 0)
        {
            foreach (ClientLockState state in Locks.GetLocks())
            {
                if (state.Range == revoke.Range)
                {
                    grantGen = state.GrantGen;
                }
            }
        }

        var answered = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_gate)
        {
            _revokes[(revoke.Range, grantGen, revoke.OldMode, revoke.NewMode)] = answered;
        }

        Locks.ReceiveRevoke(revoke.Range, grantGen, revoke.OldMode, revoke.NewMode);
        await answered.Task.ConfigureAwait(false);
    }

    private List<RecoveredLock> RecoverPage(LockRecoverRequest request)
    {
        var held = new List<KeyRange>();
        foreach (ClientLockState state in Locks.GetLocks())
        {
            if (state.Mode != LockMode.Null && state.Range.TreeId == request.TreeId && state.Range.Start >= request.FromKey)
            {
                held.Add(state.Range);
            }
        }

        held.Sort(LockOrder.Instance);
        var page = new List<RecoveredLock>();
        foreach (KeyRange range in held.Take(LockRecoverPage))
        {
            page.Add(new RecoveredLock(range, Locks.GetMode(range)));
        }

        return page;
    }

    private void HandleEviction()
    {
        Counters.CountEviction();
        Locks.ReceiveEviction();
        lock (_gate)
        {
            _epoch++;
            _sealed.Clear();
            _recentlyCommitted.Clear();
            _cache.Clear();
            _open = new OpenTransaction();
            _inoLeases.Clear();
            _freshInodes.Clear();
            _lockSends.Clear();
            foreach (TaskCompletionSource pending in _revokes.Values)
            {
                pending.TrySetResult();
            }

            _revokes.Clear();
        }

        Locks.Reset();
    }

    private async Task<TReply> RequestAsync<TReply>(RequestMessage<TReply> request, CancellationToken cancellationToken)
        where TReply : ResponseMessage
    {
        Reply<TReply> reply;
        try
        {
            reply = await SendCountedAsync(request, cancellationToken).ConfigureAwait(false);
        }
        catch (ConnectionClosedException ex)
        {
            throw new SessionException(WireError.Io, $"{CommandInfo.Name(request.Command)}: {ex.Message}");
        }

        if (!reply.IsOk)
        {
            if (reply.Status == WireError.Evicted)
            {
                HandleEviction();
            }

            throw new SessionException(reply.Status, $"{CommandInfo.Name(request.Command)} failed with {reply.Status}: {request}");
        }

        return reply.Value;
    }

    private async Task<Reply<TReply>> SendCountedAsync<TReply>(RequestMessage<TReply> request, CancellationToken cancellationToken)
        where TReply : ResponseMessage
    {
        long sentAt = _options.TimeProvider.GetTimestamp();
        Interlocked.Exchange(ref _lastSendTimestamp, sentAt);
        try
        {
            Reply<TReply> reply = await _connection.SendRequestAsync(request, cancellationToken).ConfigureAwait(false);
            NoteAliveAt(sentAt);
            return reply;
        }
        finally
        {
            Counters.CountRoundTrip(request.Command);
        }
    }

    private ulong NextOpSeq()
    {
        lock (_gate)
        {
            return _nextOpSeq++;
        }
    }

    private async Task<GreetingResult> GreetAsync(ICrfsTransport transport, CancellationToken cancellationToken)
    {
        ulong lastInstance;
        lock (_gate)
        {
            lastInstance = _serverInstance;
        }

        var hello = new HelloRequest(WireFormat.ProtocolVersion, HelloFlags.None, 0, _options.FsUuid, _options.ClientId, lastInstance, 0, ProtocolCapabilities.None);
        GreetingResult result = await _connection.ConnectAsync(transport, hello, cancellationToken).ConfigureAwait(false);
        if (result.Reply is HelloReply reply)
        {
            if (reply.Mode == HelloMode.Evicted)
            {
                HandleEviction();
            }

            lock (_gate)
            {
                _serverInstance = reply.ServerInstance;
            }

            NoteAliveAt(_options.TimeProvider.GetTimestamp());
            Lease = TimeSpan.FromMilliseconds(reply.LeaseMilliseconds);
        }

        return result;
    }

    private void OnDetached(CrfsConnection connection, DisconnectReason reason)
    {
        lock (_gate)
        {
            if (_disposed || !_reconnecting.IsCompleted)
            {
                return;
            }

            _reconnecting = ReconnectAsync(reason);
        }
    }

    private async Task ReconnectAsync(DisconnectReason reason)
    {
        TimeSpan delay = _options.ReconnectDelay;
        CancellationToken token = _lifetime.Token;
        SessionLog.Reconnecting(_logger, ClientId, reason.ToString());
        while (!token.IsCancellationRequested && _connection.State != ConnectionState.Closed)
        {
            try
            {
                await Task.Delay(delay, _options.TimeProvider, token).ConfigureAwait(false);
                ICrfsTransport transport = await _connect(token).ConfigureAwait(false);
                GreetingResult result = await GreetAsync(transport, token).ConfigureAwait(false);
                if (result.Outcome == GreetingOutcome.Attached)
                {
                    Counters.CountReconnect();
                    return;
                }

                if (result.Reply?.Mode == HelloMode.Evicted)
                {
                    // Dirty state is gone; the next greeting starts a fresh session (last instance 0).
                    lock (_gate)
                    {
                        _serverInstance = 0;
                    }
                }
            }
            catch (OperationCanceledException) when (token.IsCancellationRequested)
            {
                return;
            }
            catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or InvalidOperationException)
            {
                SessionLog.ReconnectFailed(_logger, ClientId, ex.Message);
            }

            delay = TimeSpan.FromTicks(Math.Min(delay.Ticks * 2, _options.MaxReconnectDelay.Ticks));
        }
    }

    private void StartPinging()
    {
        TimeSpan interval = _options.PingInterval > TimeSpan.Zero ? _options.PingInterval
            : Lease > TimeSpan.Zero ? Lease / 4
            : TimeSpan.FromSeconds(5);
        _pingTimer = _options.TimeProvider.CreateTimer(static state => ((CrfsSession)state!).PingIfIdle(), this, interval, interval);
    }

    private void PingIfIdle()
    {
        TimeSpan idle = _options.TimeProvider.GetElapsedTime(Interlocked.Read(ref _lastSendTimestamp));
        TimeSpan interval = _options.PingInterval > TimeSpan.Zero ? _options.PingInterval : Lease / 4;
        if (idle >= interval && _connection.State == ConnectionState.Attached)
        {
            _ = PingAsync();
        }
    }

    private async Task PingAsync()
    {
        try
        {
            await SendCountedAsync(PingRequest.Instance, _lifetime.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException)
        {
            // A lost ping is noticed by the transport; nothing to do here.
        }
    }

    private async ValueTask DisposeCoreAsync(bool farewell)
    {
        lock (_gate)
        {
            if (_disposed)
            {
                return;
            }
        }

        if (farewell && _connection.State != ConnectionState.Closed)
        {
            try
            {
                await CommitAsync().ConfigureAwait(false);
                await SendCountedAsync(FarewellRequest.Instance, CancellationToken.None).WaitAsync(TimeSpan.FromSeconds(10), _options.TimeProvider).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or TimeoutException)
            {
                SessionLog.FarewellFailed(_logger, ClientId, ex.Message);
            }
        }

        lock (_gate)
        {
            _disposed = true;
            _commitTimer?.Dispose();
            _pingTimer?.Dispose();
        }

        _lifetime.Cancel();
        await _connection.DisposeAsync().ConfigureAwait(false);
        _lifetime.Dispose();
    }

    private sealed record LockSend(Task<Reply<LockReply>> Reply, Task Delivered);
}
