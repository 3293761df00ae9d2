// SPDX-License-Identifier: MIT
using System.Security.Cryptography;
using Crfs.Format.Btrfs;
using Crfs.Protocol;
using Crfs.Protocol.Messages;
using Crfs.Protocol.Transports;
using Crfs.Server.Items;
using Crfs.Server.Locks;
using Crfs.Server.Sessions;
using Crfs.Volume;
using Crfs.Volume.Files;
using Crfs.Volume.Transactions;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Crfs.Server;

/// <summary>
/// <c>crfs serve</c>'s engine: one btrfs volume, opened read-write through <see cref="VolumeWriter"/>,
/// served to any number of client sessions over the CRFS protocol.
/// <para>
/// <b>Sessions.</b> Every transport (TCP or an in-memory pipe) starts with HELLO. A client id the
/// server does not know, greeted with no previous instance, gets a NEW session; a client that
/// names this instance and still has its session is RESUMED on the same connection object, which
/// resends what the other side missed. A client that names this instance but whose session is
/// gone (evicted, or not back within <see cref="CrfsServerOptions.ReconnectWindow"/>), or that
/// names an earlier instance of the server, is told EVICTED: lock state is not recovered across
/// restarts yet, so the only honest answer is "drop your cache and start anew". The instance id is
/// random per start. A session ends by FAREWELL, eviction, an expired reconnect window or server
/// shutdown; ending it releases its locks (<see cref="LockServer.CloseSession"/>) and starts an
/// orphan scan (<see cref="OrphanReclaimer"/>), as does start-up.
/// </para>
/// <para>
/// <b>Orphans.</b> An inode whose last name is gone stays on disk as an orphan while any client
/// uses it. Whether one does is asked, never guessed: a client about to delete such an inode sends
/// INUSE_CHECK and the server asks every other live session with INUSE_QUERY
/// (<see cref="QueryInUseAsync"/>); the orphan scan asks them all. A session that cannot answer
/// (detached, or silent past <see cref="CrfsServerOptions.InUseQueryTimeout"/>) counts as using
/// everything, so doubt keeps an orphan until a later scan rather than deleting an open file.
/// </para>
/// <para>
/// <b>Requests.</b> LOCK goes to the <see cref="LockServer"/>, whose grants and revokes come back
/// through the outbox into each session's ordered effect queue. ITEM_READ and DATA_READ are served
/// from the writer's running transaction, clipped to a lock the session holds (see
/// <see cref="ItemReader"/> for why that never shows undurable state of another session).
/// COMMIT is validated and applied all-or-nothing by <see cref="CommitProcessor"/> under the writer
/// lock, then joins the writer's group commit and is answered only once durable. ALLOC_INO leases
/// whole lock groups (<see cref="InodeAllocator"/>). Work that takes the writer lock runs on the
/// thread pool, never on a connection's read loop.
/// </para>
/// <para>
/// <b>Locks and threads.</b> Lock order: writer lock, then LockServer gate, then either a session's
/// gate or the server's <c>_gate</c> (the session registry). Neither of the last two is held while
/// calling anything that takes a lock (work admitted under a session's gate starts on the thread
/// pool). The lock server's outbox only enqueues. One timer ticks the lock server (revoke resends
/// and evictions) and expires reconnect windows.
/// </para>
/// </summary>
public sealed class CrfsServer : IAsyncDisposable
{
    private readonly Lock _gate = new();
    private readonly VolumeWriter _writer;
    private readonly bool _ownsWriter;
    private readonly CrfsServerOptions _options;
    private readonly TimeProvider _time;
    private readonly ILoggerFactory _loggerFactory;
    private readonly CommitProcessor _commits = new();
    private readonly InodeAllocator _inodes = new();
    private readonly CancellationTokenSource _stopping = new();
    private readonly ITimer _ticker;
    private readonly OrphanReclaimer _reclaimer;

    // Guarded by _gate.
    private readonly Dictionary<ulong, ClientSession> _sessions = [];
    private readonly Dictionary<Guid, ClientSession> _byClient = [];
    private readonly HashSet<Guid> _evictedClients = [];
    private readonly HashSet<Guid> _farewelledClients = [];
    private readonly HashSet<ulong> _trees = [ObjectIds.FsTree];
    private ulong _lastSessionId;
    private bool _stopped;
    private Task _orphanScan = Task.CompletedTask;

    public CrfsServer(VolumeWriter writer, CrfsServerOptions? options = null, ILoggerFactory? loggerFactory = null, TimeProvider? time = null, bool ownsWriter = false)
    {
        _writer = writer;
        _ownsWriter = ownsWriter;
        _options = options ?? new CrfsServerOptions();
        _time = time ?? TimeProvider.System;
        _loggerFactory = loggerFactory ?? NullLoggerFactory.Instance;
        Logger = _loggerFactory.CreateLogger<CrfsServer>();
        InstanceId = NewInstanceId();
        var sb = new SuperblockView(writer.Superblock);
        FsUuid = new Guid(sb.Fsid, bigEndian: true);
        Locks = new LockServer(new Outbox(this), _time, _options.Locks, _loggerFactory.CreateLogger<LockServer>());
        _reclaimer = new OrphanReclaimer(this);
        _ticker = _time.CreateTimer(_ => Tick(), null, _options.TickInterval, _options.TickInterval);
        ServerLog.Started(Logger, InstanceId, writer.Device.Name, FsUuid, writer.Generation);

        // Orphans left by the last run (a crash, or clients that never came back): nobody can be
        // using them, but the scan asks anyway, since a client may greet while it runs.
        _orphanScan = ReclaimOrphansAfterAsync(Task.CompletedTask, "start-up");
    }

    /// <summary>Raised after a session ended and its locks were released (farewell, eviction, expiry), with its id.</summary>
    public event Action<ulong>? SessionReclaimed;

    /// <summary>Random per start; a client that names another instance in HELLO gets EVICTED.</summary>
    public ulong InstanceId { get; }

    /// <summary>The volume's fsid as a UUID (RFC 4122 byte order, as <c>btrfs filesystem show</c> prints it).</summary>
    public Guid FsUuid { get; }

    public LockServer Locks { get; }

    public VolumeWriter Writer => _writer;

    internal ILogger Logger { get; }

    /// <summary>
    /// Opens the volume at <paramref name="path"/> for serving. Whatever <see cref="VolumeWriter.Open(string)"/>
    /// refuses is refused with its <see cref="UnsupportedVolumeException"/>: among others a volume
    /// with an unreplayed tree log (log_root set), whose message says to mount it once or run
    /// <c>btrfs rescue zero-log</c>.
    /// </summary>
    public static CrfsServer Open(string path, CrfsServerOptions? options = null, ILoggerFactory? loggerFactory = null, TimeProvider? time = null)
    {
        VolumeWriter writer = VolumeWriter.Open(path);
        try
        {
            return new CrfsServer(writer, options, loggerFactory, time, ownsWriter: true);
        }
        catch
        {
            writer.Dispose();
            throw;
        }
    }

    /// <summary>The orphan scan running or last run (start-up, or after a session ended); tests await it.</summary>
    public Task OrphanScan
    {
        get
        {
            lock (_gate)
            {
                return _orphanScan;
            }
        }
    }

    /// <summary>The sessions alive now (a snapshot).</summary>
    public IReadOnlyList<SessionInfo> GetSessions()
    {
        ClientSession[] sessions;
        lock (_gate)
        {
            sessions = [.. _sessions.Values];
        }

        return [.. sessions.Select(s => new SessionInfo(s.Id, s.ClientId, s.Connection.State, s.DetachedAt is not null))];
    }

    /// <summary>Accepts TCP connections until cancelled or the server stops; each is served on its own.</summary>
    public async Task ListenAsync(CrfsTcpListener listener, CancellationToken cancellationToken = default)
    {
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _stopping.Token);
        ServerLog.Listening(Logger, listener.LocalEndPoint.ToString());
        while (true)
        {
            TcpTransport transport;
            try
            {
                transport = await listener.AcceptAsync(linked.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                return;
            }

            _ = ServeTransportAsync(transport);
        }
    }

    /// <summary>
    /// A client transport connected to this server through an in-memory pipe (what <c>crfs up</c>
    /// and the tests use): the same protocol path as TCP, without a socket.
    /// </summary>
    public ICrfsTransport ConnectInMemory()
    {
        (InMemoryTransport client, InMemoryTransport server) = InMemoryTransport.CreatePair();
        _ = ServeTransportAsync(server);
        return client;
    }

    /// <summary>Reads the HELLO of a fresh transport and attaches it to a session, or refuses it. Never throws.</summary>
    public async Task ServeTransportAsync(ICrfsTransport transport)
    {
        try
        {
            HelloReadResult read = await CrfsConnection.ReadHelloAsync(transport, _options.Connection, _loggerFactory.CreateLogger<CrfsConnection>(), _stopping.Token).ConfigureAwait(false);
            if (read.Hello is IncomingHello hello)
            {
                await GreetAsync(hello).ConfigureAwait(false);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or IOException or ObjectDisposedException or InvalidOperationException)
        {
            // The transport went away mid-greeting or the server is stopping: nothing to serve.
            await transport.DisposeAsync().ConfigureAwait(false);
        }
    }

    private async Task GreetAsync(IncomingHello hello)
    {
        HelloRequest request = hello.Request;
        Guid client = request.ClientId;
        string peer = hello.Transport.Name;
        ClientSession? session;
        ClientSession? replaced = null;
        HelloMode? refusal = null;
        string reason = "";
        bool opened = false;
        lock (_gate)
        {
            _byClient.TryGetValue(client, out session);
            if (_stopped)
            {
                refusal = HelloMode.Evicted;
                reason = "the server is stopping";
            }
            else if (request.FsUuid != Guid.Empty && request.FsUuid != FsUuid)
            {
                reason = $"the client wants file system {request.FsUuid}, this server serves {FsUuid}";
            }
            else if ((request.Flags & HelloFlags.Farewell) != 0 && (session is null || request.LastServerInstance != InstanceId))
            {
                refusal = HelloMode.FarewellDone;
                reason = _farewelledClients.Contains(client) ? "its farewell was processed" : "it has no session to say farewell to";
            }
            else if (request.LastServerInstance != 0 && request.LastServerInstance != InstanceId)
            {
                refusal = HelloMode.Evicted;
                reason = $"it names server instance {request.LastServerInstance:x16}; this is {InstanceId:x16} and does not recover earlier sessions";
            }
            else if (request.LastServerInstance == InstanceId && (session is null || _evictedClients.Contains(client)))
            {
                refusal = HelloMode.Evicted;
                reason = "its session was evicted or not resumed within the reconnect window";
            }
            else if (request.LastServerInstance == 0 && session is not null)
            {
                replaced = session; // the client restarted with the same id: its old session is over
                session = null;
            }

            if (refusal is null && reason.Length == 0 && session is null)
            {
                _evictedClients.Remove(client);
                _farewelledClients.Remove(client);
                session = NewSessionLocked(client);
                opened = true;
            }
        }

        if (opened)
        {
            // Outside the registry gate: the lock server's outbox takes that gate under its own.
            Locks.OpenSession(session!.Id);
        }

        if (replaced is not null)
        {
            EndSession(replaced, "the client started a new session", evicted: false);
        }

        if (reason.Length > 0 && refusal is null)
        {
            ServerLog.HelloRefused(Logger, client, peer, nameof(WireError.Invalid), reason);
            await hello.RefuseAsync(WireError.Invalid).ConfigureAwait(false);
            return;
        }

        if (refusal is HelloMode mode)
        {
            ServerLog.HelloRefused(Logger, client, peer, mode.ToString(), reason);
            await hello.RefuseAsync(new HelloReply(InstanceId, mode, 0, _options.Connection.MaxPayload, LeaseMilliseconds, ProtocolCapabilities.None)).ConfigureAwait(false);
            return;
        }

        HelloMode granted = request.LastServerInstance == InstanceId ? HelloMode.Resumed : HelloMode.New;
        var reply = new HelloReply(InstanceId, granted, 0, _options.Connection.MaxPayload, LeaseMilliseconds, ProtocolCapabilities.None);
        GreetingResult result = await session!.Connection.AcceptAsync(hello, reply, _stopping.Token).ConfigureAwait(false);
        if (result.Outcome != GreetingOutcome.Attached)
        {
            if (granted == HelloMode.New)
            {
                EndSession(session, $"greeting failed: {result.Failure}", evicted: false);
            }

            return;
        }

        session.DetachedAt = null;
        ServerLog.SessionGreeted(Logger, session.Id, client, peer, granted);
    }

    private uint LeaseMilliseconds => (uint)Math.Min(_options.Lease.TotalMilliseconds, uint.MaxValue);

    private ClientSession NewSessionLocked(Guid client)
    {
        ulong id = ++_lastSessionId;
        ClientSession? session = null;
        var connection = new CrfsConnection(
            ConnectionRole.Server,
            new DelegateRequestHandler((r, ct) => session!.HandleRequestAsync(r, ct)),
            _options.Connection,
            _loggerFactory.CreateLogger<CrfsConnection>());
        session = new ClientSession(this, id, client, connection);
        connection.Detached += (_, why) => OnDetached(session, why);
        _sessions[id] = session;
        _byClient[client] = session;
        return session;
    }

    private void OnDetached(ClientSession session, DisconnectReason why)
    {
        if (session.Ended)
        {
            session.Connection.Close($"session {session.Id} ended and its transport is gone");
            return;
        }

        session.DetachedAt = _time.GetTimestamp();
        ServerLog.SessionDetached(Logger, session.Id, session.ClientId, why.ToString(), _options.ReconnectWindow);
    }

    internal void Tick()
    {
        Locks.Tick();
        ClientSession[] sessions;
        lock (_gate)
        {
            sessions = [.. _sessions.Values];
        }

        foreach (ClientSession s in sessions.Where(s => s.DetachedAt is long at && s.Connection.State != ConnectionState.Attached
            && _time.GetElapsedTime(at) >= _options.ReconnectWindow))
        {
            EndSession(s, $"no reconnect within {_options.ReconnectWindow}", evicted: true);
        }
    }

    /// <summary>
    /// Ends a session: no more changes, locks released, connection closed (except after a farewell,
    /// whose reply is still on its way), orphans reclaimed when it was the last. Idempotent. Must not
    /// be called under the lock server's gate.
    /// </summary>
    private void EndSession(ClientSession session, string reason, bool evicted, bool closeConnection = true)
    {
        if (!session.End())
        {
            return;
        }

        bool scan;
        lock (_gate)
        {
            _sessions.Remove(session.Id);
            if (_byClient.TryGetValue(session.ClientId, out ClientSession? current) && current == session)
            {
                _byClient.Remove(session.ClientId);
                if (evicted)
                {
                    _evictedClients.Add(session.ClientId);
                }
                else
                {
                    _farewelledClients.Add(session.ClientId);
                }
            }

            scan = !_stopped;
        }

        Locks.CloseSession(session.Id);
        if (closeConnection)
        {
            session.Connection.Close($"session {session.Id}: {reason}");
        }

        ServerLog.SessionEnded(Logger, session.Id, session.ClientId, reason);
        if (scan)
        {
            // What the session had open may now be unused by everyone: its orphans are the scan's.
            lock (_gate)
            {
                Task previous = _orphanScan;
                _orphanScan = ReclaimOrphansAfterAsync(previous, $"session {session.Id} ended");
            }
        }

        SessionReclaimed?.Invoke(session.Id);
    }

    /// <summary>The orphan scans run one after another; shutdown waits for the last.</summary>
    private async Task ReclaimOrphansAfterAsync(Task previous, string why)
    {
        await previous.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        await Task.Yield(); // never run a scan inline in whoever scheduled it (a session's end)
        ulong[] trees;
        lock (_gate)
        {
            trees = [.. _trees];
        }

        foreach (ulong tree in trees)
        {
            try
            {
                // Not cancelled by shutdown: a scan that started finishes (shutdown ends every session
                // first, so nothing it waits for, grants or INUSE answers, can stay outstanding).
                (int reclaimed, int inUse) = await _reclaimer.ReclaimAsync(tree, CancellationToken.None).ConfigureAwait(false);
                ServerLog.OrphansReclaimed(Logger, tree, why, reclaimed, inUse);
            }
            catch (Exception e) when (e is VolumeReadOnlyException or ObjectDisposedException)
            {
                // A faulted or closed writer: the orphans wait for the next scan or start.
                ServerLog.OrphanScanFailed(Logger, tree, why, e.Message);
                return;
            }
        }
    }

    /// <summary>
    /// Which inodes of group <paramref name="group"/> in <paramref name="treeId"/> the live sessions
    /// (all but <paramref name="except"/>) use: the union of their INUSE_QUERY bitmaps. A session that
    /// is detached, fails the query or stays silent past <see cref="CrfsServerOptions.InUseQueryTimeout"/>
    /// counts as using the whole group; one that ends while being asked counts as using nothing (its
    /// end schedules a scan of its own). Never throws.
    /// </summary>
    internal async Task<byte[]> QueryInUseAsync(ulong? except, ulong treeId, ulong group)
    {
        ClientSession[] sessions;
        lock (_gate)
        {
            sessions = [.. _sessions.Values.Where(s => s.Id != except)];
        }

        byte[][] answers = await Task.WhenAll(sessions.Select(s => AskInUseAsync(s, treeId, group))).ConfigureAwait(false);
        byte[] union = new byte[KeyRange.InodeGroupSize / 8];
        foreach (byte[] answer in answers)
        {
            for (int i = 0; i < union.Length; i++)
            {
                union[i] |= i < answer.Length ? answer[i] : (byte)0xFF;
            }
        }

        return union;
    }

    private async Task<byte[]> AskInUseAsync(ClientSession session, ulong treeId, ulong group)
    {
        byte[] everything = [.. Enumerable.Repeat((byte)0xFF, (int)(KeyRange.InodeGroupSize / 8))];
        if (session.Ended)
        {
            return [];
        }

        if (session.DetachedAt is not null)
        {
            ServerLog.InUseUnknown(Logger, session.Id, session.ClientId, treeId, group, "the session is detached");
            return everything;
        }

        try
        {
            Reply<InUseQueryReply> reply = await session.Connection.SendRequestAsync(new InUseQueryRequest(treeId, group))
                .WaitAsync(_options.InUseQueryTimeout, _time).ConfigureAwait(false);
            if (reply.IsOk)
            {
                return reply.Value.Bitmap.ToArray();
            }

            ServerLog.InUseUnknown(Logger, session.Id, session.ClientId, treeId, group, $"answered {reply.Status}");
            return everything;
        }
        catch (TimeoutException)
        {
            ServerLog.InUseUnknown(Logger, session.Id, session.ClientId, treeId, group, $"no answer within {_options.InUseQueryTimeout}");
            return everything;
        }
        catch (ConnectionClosedException e)
        {
            if (session.Ended)
            {
                return [];
            }

            ServerLog.InUseUnknown(Logger, session.Id, session.ClientId, treeId, group, e.Message);
            return everything;
        }
    }

    // ---- request services (called by sessions, off the read loop) ----

    internal async Task<Reply> ItemReadAsync(ClientSession session, ItemReadRequest request)
    {
        LockMode mode = Locks.GetMode(session.Id, request.LockRange);
        if (mode is not (LockMode.Read or LockMode.Write))
        {
            ServerLog.ReadRefused(Logger, session.Id, session.ClientId, $"ITEM_READ {request.LockRange} key {request.Key}", WireError.NoLocks, $"session holds {mode}, needs READ or WRITE");
            return Reply.Error(WireError.NoLocks);
        }

        try
        {
            LeafGroup? group = await Task.Run(() => _writer.Execute(tx =>
                tx.TreeExists(request.TreeId) ? ItemReader.Read(tx, request.LockRange, request.Key, request.MaxBytes) : null)).ConfigureAwait(false);
            if (group is null)
            {
                return Reply.Error(WireError.NotFound);
            }

            ServerLog.ItemRead(Logger, session.Id, session.ClientId, request.LockRange, request.Key, group.Low, group.High, group.Items.Count);
            return Reply.Ok(new ItemReadReply(group));
        }
        catch (Exception e) when (e is VolumeReadOnlyException or ObjectDisposedException)
        {
            return Reply.Error(WireError.Io);
        }
    }

    internal async Task<Reply> DataReadAsync(ClientSession session, DataReadRequest request)
    {
        KeyRange range = KeyRange.ForInodeGroup(request.TreeId, request.Ino);
        LockMode mode = ItemValidator.IsInodeNumber(request.Ino) ? Locks.GetMode(session.Id, range) : LockMode.Null;
        if (mode is not (LockMode.Read or LockMode.Write))
        {
            ServerLog.ReadRefused(Logger, session.Id, session.ClientId, $"DATA_READ tree {request.TreeId} inode {request.Ino}", WireError.NoLocks, $"session holds {mode} on {range}, needs READ or WRITE");
            return Reply.Error(WireError.NoLocks);
        }

        if (request.Length > _options.MaxDataRead)
        {
            return Reply.Error(WireError.TooBig);
        }

        try
        {
            DataReadOutcome read = await Task.Run(() => _writer.Execute(tx =>
                DataReader.Read(tx, request.TreeId, request.Ino, request.Offset, (int)request.Length))).ConfigureAwait(false);
            if (read.Corruption is string corruption)
            {
                ServerLog.DataCorrupt(Logger, session.Id, session.ClientId, corruption);
                return Reply.Error(WireError.Io);
            }

            return read.Data is null ? Reply.Error(WireError.NotFound) : Reply.Ok(new DataReadReply(read.Data));
        }
        catch (Exception e) when (e is VolumeReadOnlyException or ObjectDisposedException)
        {
            return Reply.Error(WireError.Io);
        }
    }

    internal async Task<Reply> CommitAsync(ClientSession session, CommitRequest request)
    {
        if (session.Ended)
        {
            return Reply.Error(WireError.Evicted);
        }

        CommitOutcome outcome;
        try
        {
            outcome = await Task.Run(() => _writer.Execute(tx => _commits.Apply(tx, session.Id, request, Locks))).ConfigureAwait(false);
            if (outcome.Status != WireError.Ok)
            {
                ServerLog.CommitRejected(Logger, session.Id, session.ClientId, request.OpSeq, request.TreeId, outcome.Status, outcome.Reason!);
                return Reply.Error(outcome.Status);
            }

            lock (_gate)
            {
                _trees.Add(request.TreeId);
            }

            await _writer.CommitAsync().ConfigureAwait(false);
        }
        catch (Exception e) when (e is VolumeReadOnlyException or ObjectDisposedException)
        {
            ServerLog.CommitFailed(Logger, session.Id, session.ClientId, request.OpSeq, request.TreeId, e.Message);
            return Reply.Error(e is VolumeReadOnlyException ? WireError.ReadOnly : WireError.Io);
        }

        ServerLog.CommitDurable(Logger, session.Id, session.ClientId, request.OpSeq, request.TreeId, request.Items.Count, request.Data.Count, _writer.Generation, outcome.ServerItems.Count);
        return Reply.Ok(new CommitReply(outcome.ServerItems));
    }

    internal async Task<Reply> AllocInoAsync(ClientSession session, AllocInoRequest request)
    {
        try
        {
            bool exists = ObjectIds.IsFsTree(request.TreeId) && await Task.Run(() => _writer.Execute(tx => tx.TreeExists(request.TreeId))).ConfigureAwait(false);
            if (!exists)
            {
                return Reply.Error(WireError.NotFound);
            }

            AllocInoReply? lease = await Task.Run(() => _inodes.Lease(_writer, request.TreeId, request.Count)).ConfigureAwait(false);
            if (lease is null)
            {
                return Reply.Error(WireError.NoSpace);
            }

            ServerLog.InodesLeased(Logger, session.Id, session.ClientId, request.OpSeq, request.TreeId, request.Kind, lease.Start, lease.Start + lease.Count);
            return Reply.Ok(lease);
        }
        catch (Exception e) when (e is VolumeReadOnlyException or ObjectDisposedException)
        {
            return Reply.Error(WireError.Io);
        }
    }

    internal async Task<Reply> InUseCheckAsync(ClientSession session, InUseCheckRequest request)
    {
        if (!ObjectIds.IsFsTree(request.TreeId) || request.Group > ObjectIds.LastFree / KeyRange.InodeGroupSize)
        {
            return Reply.Error(WireError.Invalid);
        }

        byte[] used = await QueryInUseAsync(session.Id, request.TreeId, request.Group).ConfigureAwait(false);
        ServerLog.InUseChecked(Logger, session.Id, session.ClientId, request.TreeId, request.Group, used.Sum(b => System.Numerics.BitOperations.PopCount(b)));
        return Reply.Ok(new InUseCheckReply(used));
    }

    internal Reply Statfs()
    {
        var sb = new SuperblockView(_writer.Superblock);
        uint bsize = sb.SectorSize;
        ulong blocks = sb.TotalBytes / bsize;
        ulong free = (sb.TotalBytes - Math.Min(sb.BytesUsed, sb.TotalBytes)) / bsize;
        ulong files = ObjectIds.LastFree - ObjectIds.FirstFree;
        return Reply.Ok(new StatfsReply(blocks, free, free, files, _inodes.Remaining(ObjectIds.FsTree), bsize, DirItemLayout.MaxNameLength));
    }

    internal async Task<Reply> FarewellAsync(ClientSession session)
    {
        await session.CommitsDrained.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        EndSession(session, "farewell", evicted: false, closeConnection: false);
        return Reply.Ok(FarewellReply.Instance);
    }

    // ---- shutdown ----

    /// <summary>
    /// Stops serving: new greetings are refused, every session's commits in flight finish, the
    /// connections close, a final commit makes everything acknowledged durable, and the writer is
    /// closed if the server owns it. Idempotent.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        ClientSession[] sessions;
        lock (_gate)
        {
            if (_stopped)
            {
                return;
            }

            _stopped = true;
            sessions = [.. _sessions.Values];
        }

        await _stopping.CancelAsync().ConfigureAwait(false);
        await _ticker.DisposeAsync().ConfigureAwait(false);
        foreach (ClientSession s in sessions)
        {
            await s.CommitsDrained.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
            EndSession(s, "server stopping", evicted: true);
        }

        Task orphanScan;
        lock (_gate)
        {
            orphanScan = _orphanScan;
        }

        await orphanScan.ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        try
        {
            if (!_writer.IsReadOnly)
            {
                await _writer.CommitAsync().ConfigureAwait(false);
            }
        }
        catch (VolumeReadOnlyException)
        {
            // Already logged by whoever hit the fault; nothing more can be made durable.
        }

        ServerLog.Stopped(Logger, InstanceId, _writer.Generation);
        if (_ownsWriter)
        {
            _writer.Dispose();
        }
    }

    private static ulong NewInstanceId()
    {
        Span<byte> bytes = stackalloc byte[8];
        ulong id;
        do
        {
            RandomNumberGenerator.Fill(bytes);
            id = BitConverter.ToUInt64(bytes);
        }
        while (id == 0);
        return id;
    }

    private ClientSession? Find(ulong session)
    {
        lock (_gate)
        {
            return _sessions.GetValueOrDefault(session);
        }
    }

    /// <summary>The lock server's effects, routed to each session's ordered queue. Enqueue only: called under the lock server's gate.</summary>
    private sealed class Outbox(CrfsServer server) : ILockServerOutbox
    {
        public void SendGrant(ulong session, ulong requestId, KeyRange range, LockMode oldMode, LockMode newMode, ulong grantGen)
        {
            if (session == OrphanReclaimer.SessionId)
            {
                server._reclaimer.OnGrant(requestId, newMode);
                return;
            }

            server.Find(session)?.EnqueueGrant(requestId, new LockReply(oldMode, newMode, grantGen, null));
        }

        // A revoke to the orphan scan needs no answer: it releases all it holds within one pass.
        public void SendRevoke(ulong session, KeyRange range, ulong grantGen, LockMode oldMode, LockMode newMode) =>
            server.Find(session)?.EnqueueRevoke(range, grantGen, oldMode, newMode);

        public void SessionEvicted(ulong session)
        {
            if (session == OrphanReclaimer.SessionId)
            {
                server._reclaimer.OnEvicted();
            }
            else if (server.Find(session) is ClientSession s)
            {
                ServerLog.SessionEvicted(server.Logger, s.Id, s.ClientId);

                // Off the lock server's gate: ending the session calls back into the lock server.
                _ = Task.Run(() => server.EndSession(s, "evicted: a revoke went unanswered", evicted: true));
            }
        }
    }
}

/// <summary>A live session as seen from outside.</summary>
public sealed record SessionInfo(ulong Id, Guid ClientId, ConnectionState State, bool Detached);
