// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Protocol;
using Crfs.Protocol.Framing;
using Crfs.Protocol.Messages;
using Crfs.Protocol.Transports;

namespace Crfs.Client.Tests.Fakes;

/// <summary>
/// A test double of <c>crfs serve</c> that speaks the real protocol over <see cref="InMemoryTransport"/>:
/// items in a sorted dictionary per tree (seeded with an mkfs-like root directory), ITEM_READ answered
/// with every item of the key's objectid clipped to the lock (a leaf-like span), locks granted at once,
/// COMMITs applied (and checked against the locks granted), DATA_READ served from a byte store.
/// Every request is counted and COMMITs are kept for inspection.
/// </summary>
public sealed class FakeServer : ICrfsRequestHandler, IAsyncDisposable
{
    public const ulong RootIno = ObjectIds.FirstFree;

    private readonly Lock _gate = new();
    private readonly Dictionary<ulong, SortedDictionary<BtrfsKey, byte[]>> _trees = [];
    private readonly Dictionary<(ulong Tree, ulong Ino), byte[]> _files = [];
    private readonly Dictionary<KeyRange, LockMode> _held = [];
    private readonly Dictionary<Command, int> _requests = [];
    private readonly List<CommitRequest> _commits = [];
    private readonly List<string> _violations = [];
    private readonly Dictionary<Guid, CrfsConnection> _connections = [];
    private CrfsConnection? _connection;
    private InMemoryTransport? _lastServerEnd;
    private ulong _nextDirIno = 1024;
    private ulong _nextFileIno = 4096;
    private ulong _grantGen;

    public FakeServer()
    {
        SortedDictionary<BtrfsKey, byte[]> fs = Tree(ObjectIds.FsTree);
        byte[] root = new byte[InodeItemLayout.Size];
        var w = new InodeItemWriter(root);
        w.Generation = 1;
        w.Transid = 1;
        w.Nlink = 1;
        w.Mode = InodeMode.Directory | 0x1ED;
        w.Nbytes = 16384;
        fs[new BtrfsKey(RootIno, ItemType.InodeItem, 0)] = root;
        byte[] up = new byte[InodeRefLayout.EntrySize(2)];
        var r = new InodeRefWriter(up);
        r.Index = 0;
        r.NameLength = 2;
        ".."u8.CopyTo(r.Name);
        fs[new BtrfsKey(RootIno, ItemType.InodeRef, RootIno)] = up;
    }

    public Guid? LastClientId { get; private set; }

    /// <summary>Items returned with every COMMIT reply (to test that they replace the client's versions).</summary>
    public Func<CommitRequest, IReadOnlyList<WireItem>>? CommitServerItems { get; set; }

    /// <summary>When set, COMMIT replies wait for it (to test that the next transaction fills meanwhile).</summary>
    public TaskCompletionSource? CommitGate { get; set; }

    /// <summary>Whether LOCK replies carry the range's items.</summary>
    public bool GrantWithItems { get; set; }

    public IReadOnlyList<string> Violations
    {
        get
        {
            lock (_gate)
            {
                return [.. _violations];
            }
        }
    }

    public IReadOnlyList<CommitRequest> Commits
    {
        get
        {
            lock (_gate)
            {
                return [.. _commits];
            }
        }
    }

    public int Requests(Command command)
    {
        lock (_gate)
        {
            return _requests.GetValueOrDefault(command);
        }
    }

    /// <summary>A transport factory for <c>CrfsSession.ConnectAsync</c>: each call makes a pair and accepts its HELLO.</summary>
    public ValueTask<ICrfsTransport> ConnectAsync(CancellationToken cancellationToken)
    {
        (InMemoryTransport client, InMemoryTransport server) = InMemoryTransport.CreatePair();
        lock (_gate)
        {
            _lastServerEnd = server;
        }

        _ = AcceptAsync(server);
        return ValueTask.FromResult<ICrfsTransport>(client);
    }

    public SortedDictionary<BtrfsKey, byte[]> Snapshot(ulong treeId = ObjectIds.FsTree)
    {
        lock (_gate)
        {
            return new SortedDictionary<BtrfsKey, byte[]>(Tree(treeId));
        }
    }

    public byte[]? Item(BtrfsKey key, ulong treeId = ObjectIds.FsTree)
    {
        lock (_gate)
        {
            return Tree(treeId).TryGetValue(key, out byte[]? v) ? v : null;
        }
    }

    public void SetItem(BtrfsKey key, byte[] value, ulong treeId = ObjectIds.FsTree)
    {
        lock (_gate)
        {
            Tree(treeId)[key] = value;
        }
    }

    public byte[] FileData(ulong ino, ulong treeId = ObjectIds.FsTree)
    {
        lock (_gate)
        {
            return _files.TryGetValue((treeId, ino), out byte[]? d) ? [.. d] : [];
        }
    }

    /// <summary>Sends REVOKE and returns the client's answer.</summary>
    public async Task<Reply<RevokeReply>> RevokeAsync(KeyRange range, LockMode oldMode, LockMode newMode)
    {
        Reply<RevokeReply> reply = await Latest.SendRequestAsync(new RevokeRequest(range, oldMode, newMode));
        lock (_gate)
        {
            if (reply.IsOk)
            {
                _held[range] = newMode;
            }
        }

        return reply;
    }

    /// <summary>Cuts the latest transport, as a network failure would; the client must reconnect.</summary>
    public ValueTask DropTransportAsync()
    {
        InMemoryTransport? end;
        lock (_gate)
        {
            end = _lastServerEnd;
        }

        return end?.DisposeAsync() ?? ValueTask.CompletedTask;
    }

    public Task<Reply<SyncReply>> SyncAsync() => Latest.SendRequestAsync(SyncRequest.Instance);

    public Task<Reply<InUseQueryReply>> InUseQueryAsync(ulong treeId, ulong group) => Latest.SendRequestAsync(new InUseQueryRequest(treeId, group));

    public ValueTask<Reply> HandleRequestAsync(IncomingRequest request, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            _requests[request.Message.Command] = _requests.GetValueOrDefault(request.Message.Command) + 1;
        }

        return request.Message switch
        {
            CommitRequest commit => CommitAsync(commit),
            _ => ValueTask.FromResult(Answer(request.Message)),
        };
    }

    public async ValueTask DisposeAsync()
    {
        List<CrfsConnection> all;
        lock (_gate)
        {
            all = [.. _connections.Values];
        }

        foreach (CrfsConnection c in all)
        {
            await c.DisposeAsync();
        }
    }

    /// <summary>The connection of the client that greeted last: REVOKE, SYNC and INUSE_QUERY go to it.</summary>
    private CrfsConnection Latest
    {
        get
        {
            lock (_gate)
            {
                return _connection ?? throw new InvalidOperationException("no client has connected");
            }
        }
    }

    private async Task AcceptAsync(InMemoryTransport transport)
    {
        HelloReadResult read = await CrfsConnection.ReadHelloAsync(transport);
        if (read.Hello is null)
        {
            return;
        }

        CrfsConnection connection;
        HelloMode mode;
        lock (_gate)
        {
            LastClientId = read.Hello.Request.ClientId;
            mode = _connections.ContainsKey(read.Hello.Request.ClientId) && read.Hello.Request.LastServerInstance == 7 ? HelloMode.Resumed : HelloMode.New;
            if (!_connections.TryGetValue(read.Hello.Request.ClientId, out connection!))
            {
                connection = new CrfsConnection(ConnectionRole.Server, this, new CrfsConnectionOptions { ResumeAcrossTransports = true });
                _connections.Add(read.Hello.Request.ClientId, connection);
            }

            _connection = connection;
        }

        await connection.AcceptAsync(read.Hello, new HelloReply(7, mode, 0, WireFormat.DefaultMaxPayload, 30_000, ProtocolCapabilities.None));
    }

    private Reply Answer(RequestMessage message)
    {
        lock (_gate)
        {
            switch (message)
            {
                case LockRequest l:
                    if (l.Range.TreeId != 0 && l.Range.End.ObjectId > ObjectIds.LastFree && l.Range.Start.ObjectId != ObjectIds.Orphan)
                    {
                        _violations.Add($"LOCK of {l.Range}, which is neither an inode group, the orphan range nor the rename lock");
                    }

                    _held[l.Range] = l.NewMode;
                    LeafGroup? items = GrantWithItems && l.NewMode is LockMode.Read or LockMode.Write
                        ? new LeafGroup(l.Range.Start, l.Range.End, Span(l.Range.TreeId, l.Range.Start, l.Range.End))
                        : null;
                    return Reply.Ok(new LockReply(l.OldMode, l.NewMode, ++_grantGen, items));
                case ItemReadRequest read:
                    {
                        if (!Holds(read.LockRange, LockMode.Read))
                        {
                            _violations.Add($"ITEM_READ of {read.Key} in {read.LockRange} without a lock");
                        }

                        BtrfsKey low = Max(new BtrfsKey(read.Key.ObjectId, 0, 0), read.LockRange.Start);
                        BtrfsKey high = Min(new BtrfsKey(read.Key.ObjectId, (ItemType)255, ulong.MaxValue), read.LockRange.End);
                        return Reply.Ok(new ItemReadReply(new LeafGroup(low, high, Span(read.TreeId, low, high))));
                    }

                case AllocInoRequest alloc:
                    {
                        ulong start = alloc.Kind == InodeKind.Directory ? _nextDirIno : _nextFileIno;
                        uint count = Math.Min(alloc.Count, 1024);
                        if (alloc.Kind == InodeKind.Directory)
                        {
                            _nextDirIno += 1024;
                        }
                        else
                        {
                            _nextFileIno += 1024;
                        }

                        return Reply.Ok(new AllocInoReply(start, count));
                    }

                case DataReadRequest data:
                    {
                        byte[] file = _files.TryGetValue((data.TreeId, data.Ino), out byte[]? f) ? f : [];
                        if (data.Offset >= (ulong)file.Length)
                        {
                            return Reply.Ok(new DataReadReply(ReadOnlyMemory<byte>.Empty));
                        }

                        int n = (int)Math.Min(data.Length, (ulong)file.Length - data.Offset);
                        return Reply.Ok(new DataReadReply(file.AsSpan((int)data.Offset, n).ToArray()));
                    }

                case StatfsRequest:
                    return Reply.Ok(new StatfsReply(1000, 900, 800, 5000, 4000, 4096, 255));
                case PingRequest:
                    return Reply.Ok(PingReply.Instance);
                case FarewellRequest:
                    return Reply.Ok(FarewellReply.Instance);
                default:
                    return Reply.Error(WireError.NotSupported);
            }
        }
    }

    private async ValueTask<Reply> CommitAsync(CommitRequest commit)
    {
        if (CommitGate is TaskCompletionSource gate)
        {
            await gate.Task;
        }

        lock (_gate)
        {
            _commits.Add(commit);
            SortedDictionary<BtrfsKey, byte[]> tree = Tree(commit.TreeId);
            foreach (ItemOperation op in commit.Items)
            {
                if (!HoldsForWrite(commit.TreeId, op.Key) || !HoldsForWrite(commit.TreeId, op.EndKey))
                {
                    _violations.Add($"COMMIT {op} without a write lock");
                }

                switch (op.Kind)
                {
                    case ItemOperationKind.Put:
                        tree[op.Key] = op.Value.ToArray();
                        break;
                    case ItemOperationKind.Delete:
                        tree.Remove(op.Key);
                        break;
                    default:
                        foreach (BtrfsKey k in tree.Keys.Where(k => k >= op.Key && k <= op.EndKey).ToArray())
                        {
                            tree.Remove(k);
                        }

                        break;
                }
            }

            foreach (DataOperation op in commit.Data)
            {
                byte[] file = _files.TryGetValue((commit.TreeId, op.Ino), out byte[]? f) ? f : [];
                switch (op.Kind)
                {
                    case DataOperationKind.Write:
                        if ((ulong)file.Length < op.Offset + op.Length)
                        {
                            Array.Resize(ref file, (int)(op.Offset + op.Length));
                        }

                        op.Data.Span.CopyTo(file.AsSpan((int)op.Offset));
                        break;
                    case DataOperationKind.Truncate:
                        Array.Resize(ref file, (int)op.Offset);
                        break;
                    default:
                        if (op.Offset < (ulong)file.Length)
                        {
                            file.AsSpan((int)op.Offset, (int)Math.Min(op.Length, (ulong)file.Length - op.Offset)).Clear();
                        }

                        break;
                }

                _files[(commit.TreeId, op.Ino)] = file;
            }
        }

        return Reply.Ok(new CommitReply(CommitServerItems?.Invoke(commit) ?? []));
    }

    private bool Holds(KeyRange range, LockMode wanted) => _held.TryGetValue(range, out LockMode m) && LockModes.Covers(m, wanted);

    private bool HoldsForWrite(ulong treeId, BtrfsKey key)
    {
        foreach (KeyValuePair<KeyRange, LockMode> kv in _held)
        {
            if (kv.Key.Contains(treeId, key) && kv.Value is LockMode.Write or LockMode.WriteOnly)
            {
                return true;
            }
        }

        return false;
    }

    private List<WireItem> Span(ulong treeId, BtrfsKey low, BtrfsKey high) =>
        [.. Tree(treeId).Where(kv => kv.Key >= low && kv.Key <= high).Select(kv => new WireItem(kv.Key, kv.Value.ToArray()))];

    private SortedDictionary<BtrfsKey, byte[]> Tree(ulong treeId)
    {
        if (!_trees.TryGetValue(treeId, out SortedDictionary<BtrfsKey, byte[]>? tree))
        {
            tree = [];
            _trees.Add(treeId, tree);
        }

        return tree;
    }

    private static BtrfsKey Max(BtrfsKey a, BtrfsKey b) => a > b ? a : b;

    private static BtrfsKey Min(BtrfsKey a, BtrfsKey b) => a < b ? a : b;
}
