// SPDX-License-Identifier: MIT
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using Crfs.Fuse.Abi;
using Crfs.Posix;
using Microsoft.Extensions.Logging;

namespace Crfs.Fuse;

/// <summary>What a NOTIFY_RETRIEVE brought back: the cached bytes found from <see cref="Offset"/> on.</summary>
public sealed record FuseRetrieveResult(Errno Error, long Offset, byte[] Data);

/// <summary>
/// Kernel cache control from the file system's side: invalidate names, attributes and pages,
/// push data into the page cache, read it back. Every call only queues; the returned task
/// completes with the kernel's answer once the notification has been written.
/// </summary>
/// <remarks>
/// <para><b>Never wait for a notification inside a request handler</b> (or while holding a lock a
/// handler needs). The kernel holds a directory's inode lock while it waits for the reply to a
/// LOOKUP, CREATE, UNLINK, RENAME… in it, and INVAL_ENTRY/DELETE take that same lock; INVAL_INODE
/// locks page-cache pages a READ may be filling. Queuing from a handler is safe: the notification
/// is written by the notifier thread after the handler's reply has released the locks.</para>
/// <para>ENOENT from the kernel means "nothing cached" and is success in every practical sense.
/// ENOSYS means the kernel's protocol is too old for that notification (it is then not sent);
/// ENOTCONN, that there is no mounted connection.</para>
/// </remarks>
public interface IFuseNotifier
{
    /// <summary>
    /// NOTIFY_INVAL_INODE: drop the cached attributes, and with <paramref name="offset"/> &gt;= 0 the
    /// cached pages of [offset, offset + length) (length &lt;= 0: to the end).
    /// </summary>
    Task<Errno> InvalidateInodeAsync(ulong nodeId, long offset = -1, long length = 0);

    /// <summary>
    /// NOTIFY_INVAL_ENTRY: drop the dentry parent/name (and the parent's cached listing). With
    /// <paramref name="expireOnly"/> the dentry is only marked stale (it stays usable for open files
    /// and mountpoints) when the kernel supports it; otherwise it is dropped.
    /// </summary>
    Task<Errno> InvalidateEntryAsync(ulong parent, ReadOnlySpan<byte> name, bool expireOnly = false);

    /// <summary>NOTIFY_DELETE: like <see cref="InvalidateEntryAsync"/>, and if the name pointed at <paramref name="child"/>, the kernel treats it as deleted (inotify sees it).</summary>
    Task<Errno> DeleteAsync(ulong parent, ulong child, ReadOnlySpan<byte> name);

    /// <summary>NOTIFY_STORE: put <paramref name="data"/> into the page cache at <paramref name="offset"/> (grows the cached size if beyond it).</summary>
    Task<Errno> StoreAsync(ulong nodeId, long offset, ReadOnlySpan<byte> data);

    /// <summary>NOTIFY_RETRIEVE: read back up to <paramref name="size"/> cached bytes from <paramref name="offset"/> (contiguous cached pages only).</summary>
    Task<FuseRetrieveResult> RetrieveAsync(ulong nodeId, long offset, int size, CancellationToken cancellationToken = default);

    /// <summary>NOTIFY_INC_EPOCH (7.44): every cached dentry is revalidated at its next use. Cheap "forget all names".</summary>
    Task<Errno> IncrementEpochAsync();

    /// <summary>NOTIFY_PRUNE (7.45): ask the kernel to drop these nodes if unused (they come back as FORGETs).</summary>
    Task<Errno> PruneAsync(ReadOnlySpan<ulong> nodeIds);

    /// <summary>NOTIFY_POLL: wake up the poll(2) callers waiting on <paramref name="pollHandle"/>.</summary>
    Task<Errno> PollWakeupAsync(ulong pollHandle);
}

/// <summary>Where notification messages go: the transport's /dev/fuse descriptor (or a test's recorder).</summary>
internal interface IFuseMessageSink
{
    /// <summary>Writes one complete message and returns the kernel's errno for it.</summary>
    Errno Write(ReadOnlySpan<byte> message);
}

/// <summary>
/// The single notifier of a connection: a queue drained by one dedicated thread that owns no file
/// system locks, so that the synchronous notify write(2) — which can wait for kernel inode locks —
/// never runs on a reader thread. Messages are encoded when queued (names and data are copied then)
/// and written in queue order.
/// </summary>
public sealed class FuseNotifier : IFuseNotifier
{
    // Retrieve ids live in their own range so a NOTIFY_REPLY can never be confused with a request id.
    private const ulong RetrieveUniqueBase = 1UL << 62;

    private readonly FuseDispatcher _dispatcher;
    private readonly ILogger _logger;
    private readonly Lock _lock = new();
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource<FuseRetrieveResult>> _retrievals = new();
    private long _nextRetrieve;

    // Guarded by _lock: the queue and thread exist only while a sink is attached.
    private BlockingCollection<Item>? _queue;
    private Thread? _thread;

    internal FuseNotifier(FuseDispatcher dispatcher, ILogger logger)
    {
        _dispatcher = dispatcher;
        _logger = logger;
    }

    public Task<Errno> InvalidateInodeAsync(ulong nodeId, long offset = -1, long length = 0)
    {
        byte[] message = Encode(FuseNotifyCode.InvalInode, new NotifyInvalInodeOut { Ino = nodeId, Off = offset, Len = length }, default, appendNul: false);
        return Enqueue(FuseNotifyCode.InvalInode, message, minimumMinor: 12);
    }

    public Task<Errno> InvalidateEntryAsync(ulong parent, ReadOnlySpan<byte> name, bool expireOnly = false)
    {
        bool canExpire = _dispatcher.Connection is { } c && (c.KernelFlags & FuseInitFlags.HasExpireOnly) != 0;
        var body = new NotifyInvalEntryOut
        {
            Parent = parent,
            NameLen = (uint)name.Length,
            Flags = expireOnly && canExpire ? NotifyInvalEntryOut.FlagExpireOnly : 0,
        };
        return Enqueue(FuseNotifyCode.InvalEntry, Encode(FuseNotifyCode.InvalEntry, body, name, appendNul: true), minimumMinor: 12);
    }

    public Task<Errno> DeleteAsync(ulong parent, ulong child, ReadOnlySpan<byte> name)
    {
        var body = new NotifyDeleteOut { Parent = parent, Child = child, NameLen = (uint)name.Length };
        return Enqueue(FuseNotifyCode.Delete, Encode(FuseNotifyCode.Delete, body, name, appendNul: true), minimumMinor: 18);
    }

    public Task<Errno> StoreAsync(ulong nodeId, long offset, ReadOnlySpan<byte> data)
    {
        var body = new NotifyStoreOut { NodeId = nodeId, Offset = (ulong)offset, Size = (uint)data.Length };
        return Enqueue(FuseNotifyCode.Store, Encode(FuseNotifyCode.Store, body, data, appendNul: false), minimumMinor: 15);
    }

    public async Task<FuseRetrieveResult> RetrieveAsync(ulong nodeId, long offset, int size, CancellationToken cancellationToken = default)
    {
        ulong unique = RetrieveUniqueBase + (ulong)Interlocked.Increment(ref _nextRetrieve);
        var pending = new TaskCompletionSource<FuseRetrieveResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        _retrievals[unique] = pending;
        try
        {
            var body = new NotifyRetrieveOut { NotifyUnique = unique, NodeId = nodeId, Offset = (ulong)offset, Size = (uint)size };
            Errno sent = await Enqueue(FuseNotifyCode.Retrieve, Encode(FuseNotifyCode.Retrieve, body, default, appendNul: false), minimumMinor: 15);
            if (sent != Errno.Ok)
            {
                return new FuseRetrieveResult(sent, offset, []);
            }

            return await pending.Task.WaitAsync(cancellationToken);
        }
        finally
        {
            _retrievals.TryRemove(unique, out _);
        }
    }

    public Task<Errno> IncrementEpochAsync() =>
        Enqueue(FuseNotifyCode.IncEpoch, EncodeHeaderOnly(FuseNotifyCode.IncEpoch), minimumMinor: 44);

    public Task<Errno> PruneAsync(ReadOnlySpan<ulong> nodeIds)
    {
        var body = new NotifyPruneOut { Count = (uint)nodeIds.Length };
        return Enqueue(FuseNotifyCode.Prune, Encode(FuseNotifyCode.Prune, body, MemoryMarshal.AsBytes(nodeIds), appendNul: false), minimumMinor: 45);
    }

    public Task<Errno> PollWakeupAsync(ulong pollHandle) =>
        Enqueue(FuseNotifyCode.Poll, Encode(FuseNotifyCode.Poll, new NotifyPollWakeupOut { Kh = pollHandle }, default, appendNul: false), minimumMinor: 12);

    /// <summary>Starts the notifier thread writing to <paramref name="sink"/>.</summary>
    internal void Attach(IFuseMessageSink sink)
    {
        lock (_lock)
        {
            if (_queue is not null)
            {
                throw new InvalidOperationException("the notifier is already attached to a transport");
            }

            var queue = new BlockingCollection<Item>();
            _queue = queue;
            _thread = new Thread(() => Run(queue, sink)) { IsBackground = true, Name = "fuse-notifier" };
            _thread.Start();
        }
    }

    /// <summary>Stops the thread; queued notifications that were not written complete with ENOTCONN.</summary>
    internal void Detach()
    {
        Thread? thread;
        lock (_lock)
        {
            _queue?.CompleteAdding();
            thread = _thread;
            _queue = null;
            _thread = null;
        }

        thread?.Join();
        foreach (KeyValuePair<ulong, TaskCompletionSource<FuseRetrieveResult>> pending in _retrievals)
        {
            pending.Value.TrySetResult(new FuseRetrieveResult(Errno.ENOTCONN, 0, []));
        }
    }

    /// <summary>A NOTIFY_REPLY arrived (called by the dispatcher on a reader thread).</summary>
    internal void CompleteRetrieve(ulong unique, long offset, ReadOnlySpan<byte> data)
    {
        if (_retrievals.TryGetValue(unique, out TaskCompletionSource<FuseRetrieveResult>? pending))
        {
            pending.TrySetResult(new FuseRetrieveResult(Errno.Ok, offset, data.ToArray()));
        }
        else
        {
            FuseLog.UnknownRetrieveReply(_logger, unique);
        }
    }

    private Task<Errno> Enqueue(FuseNotifyCode code, byte[] message, uint minimumMinor)
    {
        FuseConnectionInfo? connection = _dispatcher.Connection;
        if (connection is null)
        {
            return Task.FromResult(Errno.ENOTCONN);
        }

        if (connection.Minor < minimumMinor)
        {
            return Task.FromResult(Errno.ENOSYS);
        }

        var item = new Item(code, message, new TaskCompletionSource<Errno>(TaskCreationOptions.RunContinuationsAsynchronously));
        lock (_lock)
        {
            if (_queue is null || !_queue.TryAdd(item))
            {
                return Task.FromResult(Errno.ENOTCONN);
            }
        }

        return item.Completion.Task;
    }

    private void Run(BlockingCollection<Item> queue, IFuseMessageSink sink)
    {
        foreach (Item item in queue.GetConsumingEnumerable())
        {
            Errno result;
            try
            {
                result = sink.Write(item.Message);
            }
            catch (Exception e) when (e is IOException or ObjectDisposedException)
            {
                result = Errno.ENOTCONN;
            }

            if (result == Errno.Ok)
            {
                _dispatcher.Counters.CountNotification();
            }
            else if (result != Errno.ENOENT)
            {
                FuseLog.NotifyFailed(_logger, item.Code, result);
            }

            item.Completion.TrySetResult(result);
        }
    }

    private static byte[] EncodeHeaderOnly(FuseNotifyCode code)
    {
        byte[] message = new byte[OutHeader.SizeOf];
        MemoryMarshal.Write(message, new OutHeader { Len = OutHeader.SizeOf, Error = (int)code, Unique = 0 });
        return message;
    }

    private static byte[] Encode<T>(FuseNotifyCode code, in T body, ReadOnlySpan<byte> payload, bool appendNul)
        where T : unmanaged
    {
        int bodySize = System.Runtime.CompilerServices.Unsafe.SizeOf<T>();
        int length = OutHeader.SizeOf + bodySize + payload.Length + (appendNul ? 1 : 0);
        byte[] message = new byte[length];
        MemoryMarshal.Write(message, new OutHeader { Len = (uint)length, Error = (int)code, Unique = 0 });
        MemoryMarshal.Write(message.AsSpan(OutHeader.SizeOf), in body);
        payload.CopyTo(message.AsSpan(OutHeader.SizeOf + bodySize));
        return message;
    }

    private sealed record Item(FuseNotifyCode Code, byte[] Message, TaskCompletionSource<Errno> Completion);
}
