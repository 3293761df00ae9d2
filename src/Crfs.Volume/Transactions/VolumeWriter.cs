// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Format.Checksums;
using Crfs.Volume.Allocation;
using Crfs.Volume.Chunks;
using Crfs.Volume.Devices;
using Crfs.Volume.Trees;

namespace Crfs.Volume.Transactions;

/// <summary>
/// The btrfs writer: copy-on-write transactions over a volume, committed in groups, with the
/// ordering that keeps every state the device can be cut at a consistent file system.
/// </summary>
/// <remarks>
/// <para>
/// Changes go into one running <see cref="WriteTransaction"/>. Nothing reachable from the last
/// committed superblock is ever overwritten: a tree block changed for the first time in a
/// transaction is copied to a new address, data goes to new extents, and space freed by the
/// transaction stays pinned until its commit is durable. A commit settles the derived trees
/// (extent references, block group usage, root items, free space tree), writes every dirty block
/// to every copy, flushes, writes the primary superblock, flushes, then the mirrors. A cut at
/// any point before the primary superblock is durable leaves the old generation intact; after it,
/// the new one is complete.
/// </para>
/// <para>
/// Group commit: callers of <see cref="ExecuteAsync{T}"/> apply their change under the writer
/// lock and await the commit that contains it; a background committer commits whenever someone
/// waits, so changes that arrive while a commit is running all join the next one. Lock order:
/// the writer lock is the only lock here and is held while a change is applied and for the whole
/// of a commit (I/O included); under it the block cache's lock may be taken, never the reverse.
/// Nothing else may be held while calling in.
/// </para>
/// <para>
/// A <see cref="WriterFaultException"/> (or any unexpected exception) thrown while a change is
/// applied or a commit runs leaves the transaction in an unknown state, so the writer goes
/// read-only: <see cref="Fault"/> records the cause and every later call throws
/// <see cref="VolumeReadOnlyException"/>. Expected outcomes (ENOSPC, ENOENT...) are values
/// returned by the file-level operations, which check before they change anything.
/// </para>
/// </remarks>
public sealed partial class VolumeWriter : IDisposable
{
    private const int CleanCacheLimit = 8192;

    private readonly Lock _lock = new();
    private readonly IBlockDevice _device;
    private readonly bool _ownsDevice;
    private readonly ITreeBlockSource? _source;
    private readonly BlockCache? _readerCache;
    private readonly Dictionary<ulong, TreeNode> _clean = [];
    private readonly SemaphoreSlim _commitSignal = new(0);
    private byte[] _superblock;
    private WriteTransaction? _running;
    private Task? _committer;
    private int _commitRequests;
    private bool _disposed;
    private BtrfsVolume? _reader; // the read path whose block source serves committed blocks

    private VolumeWriter(IBlockDevice device, bool ownsDevice, byte[] superblock, ChunkMap chunks, ITreeBlockSource? source, BlockCache? readerCache)
    {
        _device = device;
        _ownsDevice = ownsDevice;
        _superblock = superblock;
        _source = source;
        _readerCache = readerCache;
        Chunks = chunks;
        var sb = new SuperblockView(superblock);
        NodeSize = (int)sb.NodeSize;
        SectorSize = (int)sb.SectorSize;
        ChecksumType = sb.CsumType;
        Generation = sb.Generation;
        DevId = sb.DevItem.DevId;
        HasFreeSpaceTree = (sb.CompatRoFlags & CompatRoFeatures.FreeSpaceTree) != 0;
        Allocator = new SpaceAllocator(NodeSize, SectorSize);
        Roots[ObjectIds.RootTree] = new TreeRoot(ObjectIds.RootTree, sb.Root, sb.RootLevel, sb.Generation);
        Roots[ObjectIds.ChunkTree] = new TreeRoot(ObjectIds.ChunkTree, sb.ChunkRoot, sb.ChunkRootLevel, sb.ChunkRootGeneration);
    }

    public int NodeSize { get; }

    public int SectorSize { get; }

    public ChecksumType ChecksumType { get; }

    public ulong DevId { get; }

    /// <summary>The generation of the last durable commit.</summary>
    public ulong Generation { get; private set; }

    /// <summary>The committed superblock (a copy).</summary>
    public byte[] Superblock
    {
        get
        {
            lock (_lock)
            {
                return (byte[])_superblock.Clone();
            }
        }
    }

    /// <summary>The fault that made the writer read-only, or null while it is writable.</summary>
    public Exception? Fault { get; private set; }

    public bool IsReadOnly => Fault is not null;

    public IBlockDevice Device => _device;

    internal ChunkMap Chunks { get; }

    internal SpaceAllocator Allocator { get; }

    internal Dictionary<ulong, TreeRoot> Roots { get; } = [];

    internal bool HasFreeSpaceTree { get; }

    /// <summary>Physical ranges of the device held by dev extents.</summary>
    internal RangeSet DevExtents { get; } = new();

    /// <summary>Metadata space kept back so that a commit never runs out.</summary>
    internal ulong GlobalReserve { get; private set; }

    /// <summary>Sizes for chunks the writer adds.</summary>
    internal ulong DataChunkSize { get; set; }

    internal ulong MetadataChunkSize { get; set; }

    /// <summary>
    /// Applies <paramref name="change"/> to the running transaction and returns once the commit
    /// holding it is durable. Changes of concurrent callers share commits.
    /// </summary>
    public async Task<T> ExecuteAsync<T>(Func<WriteTransaction, T> change, CancellationToken cancellationToken = default)
    {
        T result;
        Task durable;
        lock (_lock)
        {
            WriteTransaction tx = Running();
            result = Apply(tx, change);
            durable = tx.Durable;
            _commitRequests++;
        }

        EnsureCommitter();
        _commitSignal.Release();
        await durable.WaitAsync(cancellationToken).ConfigureAwait(false);
        return result;
    }

    /// <summary>Applies <paramref name="change"/> to the running transaction without waiting for a commit.</summary>
    public T Execute<T>(Func<WriteTransaction, T> change)
    {
        lock (_lock)
        {
            return Apply(Running(), change);
        }
    }

    /// <summary>Commits the running transaction now and returns when it is durable.</summary>
    public void Commit()
    {
        lock (_lock)
        {
            ThrowIfReadOnly();
            CommitLocked();
        }
    }

    /// <summary>Requests a commit and awaits it (joins one already requested).</summary>
    public Task CommitAsync(CancellationToken cancellationToken = default) =>
        ExecuteAsync(static _ => true, cancellationToken);

    public void Dispose()
    {
        Task? committer;
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            committer = _committer;
        }

        _commitSignal.Release();
        committer?.Wait();
        lock (_lock)
        {
            _running?.DurableSource.TrySetException(new ObjectDisposedException(nameof(VolumeWriter), "the writer was closed before this change was committed"));
            _reader?.Dispose();
            if (_ownsDevice)
            {
                _device.Dispose();
            }
        }
    }

    private T Apply<T>(WriteTransaction tx, Func<WriteTransaction, T> change)
    {
        try
        {
            return change(tx);
        }
        catch (Exception e) when (e is not VolumeReadOnlyException)
        {
            GoReadOnly(e);
            throw new VolumeReadOnlyException($"the volume is now read-only: {e.Message}", e);
        }
    }

    private WriteTransaction Running()
    {
        ThrowIfReadOnly();
        ObjectDisposedException.ThrowIf(_disposed, this);
        return _running ??= new WriteTransaction(this, Generation + 1);
    }

    private void ThrowIfReadOnly()
    {
        if (Fault is Exception f)
        {
            throw new VolumeReadOnlyException($"the volume is read-only after an earlier fault: {f.Message}", f);
        }
    }

    private void GoReadOnly(Exception cause)
    {
        Fault ??= cause;
        _running?.DurableSource.TrySetException(new VolumeReadOnlyException($"the volume went read-only before this change was committed: {cause.Message}", cause));
    }

    private void EnsureCommitter()
    {
        lock (_lock)
        {
            _committer ??= Task.Run(CommitLoopAsync);
        }
    }

    private async Task CommitLoopAsync()
    {
        while (true)
        {
            await _commitSignal.WaitAsync().ConfigureAwait(false);
            lock (_lock)
            {
                if (_commitRequests > 0 && Fault is null)
                {
                    _commitRequests = 0;
                    try
                    {
                        CommitLocked();
                    }
                    catch (Exception)
                    {
                        // CommitLocked has recorded the fault and failed the waiters.
                    }
                }

                if (_disposed)
                {
                    return;
                }
            }
        }
    }

    internal static BtrfsTimespec Now()
    {
        long ticks = DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks;
        return new BtrfsTimespec(ticks / TimeSpan.TicksPerSecond, (uint)(ticks % TimeSpan.TicksPerSecond * 100));
    }

    // ---- block access ----

    internal TreeNode ReadCleanNode(ulong treeId, ulong logical, int level, ulong generation)
    {
        if (_clean.TryGetValue(logical, out TreeNode? node) && node.Generation == generation && node.Level == level)
        {
            return node;
        }

        if (_source is null)
        {
            throw new WriterFaultException($"tree block {logical} of tree {treeId} (level {level}, generation {generation}) is neither dirty nor readable");
        }

        TreeBlock block = _source.Read(logical, new TreeBlockExpectation(level, generation, treeId, null));
        node = TreeNode.Decode(logical, block.Bytes);
        if (_clean.Count >= CleanCacheLimit)
        {
            _clean.Clear();
        }

        _clean[logical] = node;
        return node;
    }

    internal void ForgetCleanNode(ulong logical)
    {
        _clean.Remove(logical);
        _readerCache?.Remove(logical);
    }

    internal void WriteLogical(ulong logical, ReadOnlySpan<byte> data)
    {
        Chunk chunk = Chunks.Find(logical) ?? throw new WriterFaultException($"write at logical {logical}: no chunk maps it");
        if (logical + (ulong)data.Length > chunk.End)
        {
            throw new WriterFaultException($"write of [{logical}, {logical + (ulong)data.Length}) crosses the end of chunk [{chunk.Start}, {chunk.End})");
        }

        Span<PhysicalLocation> copies = stackalloc PhysicalLocation[ChunkMap.MaxCopies];
        chunk.Map(logical, copies);
        for (int i = 0; i < chunk.CopyCount; i++)
        {
            if (copies[i].DevId != DevId)
            {
                throw new WriterFaultException($"logical {logical} maps to device {copies[i].DevId}; the writer has device {DevId} only");
            }

            _device.WriteAt((long)copies[i].Offset, data);
        }
    }

    internal void ReadLogical(ulong logical, Span<byte> destination)
    {
        Chunk chunk = Chunks.Find(logical) ?? throw new WriterFaultException($"read at logical {logical}: no chunk maps it");
        Span<PhysicalLocation> copies = stackalloc PhysicalLocation[ChunkMap.MaxCopies];
        chunk.Map(logical, copies);
        _device.ReadAt((long)copies[0].Offset, destination);
    }

    internal static ulong SuperblockStripeLength => ChunkItemLayout.StandardStripeLength;

    /// <summary>Removes the superblock mirror stripes inside <paramref name="group"/> from its free space.</summary>
    internal void ExcludeSuperblockStripes(BlockGroup group, Chunk chunk)
    {
        for (int mirror = 0; mirror < SuperblockLayout.MirrorCount; mirror++)
        {
            ulong offset = SuperblockLayout.MirrorOffset(mirror);
            if (offset + SuperblockLayout.Size > (ulong)_device.Length)
            {
                continue;
            }

            foreach (PhysicalLocation stripe in chunk.Stripes)
            {
                if (offset >= stripe.Offset && offset < stripe.Offset + chunk.Length)
                {
                    ulong inChunk = (offset - stripe.Offset) / SuperblockStripeLength * SuperblockStripeLength;
                    SpaceAllocator.Exclude(group, chunk.Start + inChunk, SuperblockStripeLength);
                }
            }
        }
    }
}
