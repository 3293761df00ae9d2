// SPDX-License-Identifier: MIT
using Crfs.Fuse;
using Crfs.Protocol.Messages;

namespace Crfs.Mount;

// Kernel caches follow the locks.
//
// The item cache below is coherent: it holds a range's items only while the lock client holds a lock
// on the range, and a revoke drops them before it is answered. The kernel keeps caches of its own on
// top — dentries (positive and negative), attributes and file pages — and those must obey the same
// rule, or a stat on this mount could show what another client changed a second ago. So:
//
// * A reply may let the kernel cache something for long (CacheTimeout) only while the lock that
//   covers it is held (READ or WRITE): a name by its parent directory's inode group (DIR_ITEM and
//   DIR_INDEX are keyed by the directory), attributes by the inode's own group. Otherwise the timeout
//   is 0 and every use asks again. Negative entries are cached only while the directory's group is held.
// * Every (parent, name) handed to the kernel with a timeout is recorded under the parent's range,
//   with its kind; the nodes the kernel holds are the lookup counts the bridge keeps anyway.
// * When the session's Invalidated fires (a revoke or a release dropped the range; a WRITE→READ
//   downgrade keeps the cache and does not fire), the bridge queues NOTIFY_INVAL_ENTRY for every
//   recorded file name and negative entry, the expire-only variant for directory names (a process's
//   current directory must not turn "(deleted)": expiry makes the next path walk revalidate, d_invalidate
//   would detach it), and NOTIFY_INVAL_INODE(node, 0, 0) — attributes and every page — for every node
//   of the range the kernel holds. The one FUSE notifier thread writes them; this code only queues.
//
// Races. A reply is computed after the operation released its locks, so a revoke can slip in between
// the read and the reply. Three rules close that window: (1) the handler takes a mark of the
// invalidation clock before the operation starts; (2) it records the entry (and, for a lookup, counts
// the node) before it decides on a timeout; (3) an invalidation ticks the clock and stamps the range
// before it snapshots what to notify. So either the invalidation saw the record and notifies it — the
// kernel orders that after the reply: INVAL_ENTRY takes the directory lock the LOOKUP holds, and
// INVAL_INODE bumps the attribute version a reply in flight is checked against — or the handler sees
// the range stamped after its mark and answers with timeout 0. The lock mode check on top covers
// ranges the client simply does not hold.
//
// Eviction. An evicted session drops its whole cache and the lock client forgets every lock without a
// per-range invalidation; its LocksReset event makes the bridge invalidate everything it recorded and
// every node the kernel holds, and stamp all ranges at once (_resetAt).
//
// Waiting. Invalidated is raised on the downgrade's task, which may be running inline in a request
// handler or on the connection's receive loop, and the revoke is answered when it returns. It waits for
// the notifications at most NotifyWaitLimit: long enough that the kernel's caches are normally clean
// before the other client is granted the lock, short enough that a LOOKUP/CREATE which holds the
// directory's kernel lock while it waits for this very lock (INVAL_ENTRY needs that lock) cannot
// deadlock the revoke. In that case the notifications complete on their own a little later.
//
// Records for a range are dropped when the range is invalidated. Records made while the range was not
// held stay until it is held and lost again: bounded by what the kernel looked up.
public sealed partial class FuseBridge
{
    /// <summary>How long the kernel may cache names and attributes while the covering lock is held.</summary>
    public static readonly TimeSpan CacheTimeout = TimeSpan.FromHours(1);

    /// <summary>How long an invalidation (and so a revoke answer) waits for the kernel to take the notifications.</summary>
    public static readonly TimeSpan NotifyWaitLimit = TimeSpan.FromMilliseconds(50);

    // Lock order: _coherenceGate and _countsGate are never held together.
    private readonly Lock _coherenceGate = new();
    private readonly Dictionary<KeyRange, RangeKernelCache> _kernelCaches = [];
    private long _invalidationClock;
    private long _resetAt;
    private IFuseNotifier? _notifier;

    private enum EntryKind : byte
    {
        File,
        Directory,
        Negative,
    }

    /// <summary>
    /// Starts sending kernel invalidations through <paramref name="notifier"/> (the mounted
    /// connection's). Until then every reply carries timeout 0, since nothing could be invalidated.
    /// </summary>
    public void AttachNotifier(IFuseNotifier notifier)
    {
        ArgumentNullException.ThrowIfNull(notifier);
        Volatile.Write(ref _notifier, notifier);
    }

    /// <summary>Invalidations run so far (diagnostics and tests).</summary>
    public long InvalidationCount
    {
        get
        {
            lock (_coherenceGate)
            {
                return _invalidationClock;
            }
        }
    }

    private KeyRange GroupOf(ulong ino) => KeyRange.ForInodeGroup(_fs.TreeId, ino);

    /// <summary>The invalidation clock now: taken before an operation whose result the kernel may cache.</summary>
    private long CoherenceMark()
    {
        lock (_coherenceGate)
        {
            return _invalidationClock;
        }
    }

    /// <summary>Records (parent, name) under the parent's range, then says how long the kernel may cache the name.</summary>
    private TimeSpan TrackEntry(ulong parentNode, ReadOnlySpan<byte> name, EntryKind kind, long mark)
    {
        KeyRange range = GroupOf(ToIno(parentNode));
        lock (_coherenceGate)
        {
            RangeKernelCache cache = CacheOf(range);
            cache.Entries[new EntryName(parentNode, name.ToArray())] = kind;
            if (cache.InvalidatedAt > mark || _resetAt > mark)
            {
                return TimeSpan.Zero;
            }
        }

        return Covered(range) ? CacheTimeout : TimeSpan.Zero;
    }

    /// <summary>How long the kernel may cache the attributes of <paramref name="ino"/> (its node must already be counted).</summary>
    private TimeSpan AttrTimeoutFor(ulong ino, long mark)
    {
        KeyRange range = GroupOf(ino);
        lock (_coherenceGate)
        {
            if (_resetAt > mark || (_kernelCaches.TryGetValue(range, out RangeKernelCache? cache) && cache.InvalidatedAt > mark))
            {
                return TimeSpan.Zero;
            }
        }

        return Covered(range) ? CacheTimeout : TimeSpan.Zero;
    }

    /// <summary>The reply to a LOOKUP that found nothing: a cached negative entry while the directory's lock is held, else plain ENOENT.</summary>
    private Posix.Errno NegativeEntry(ulong parentNode, ReadOnlySpan<byte> name, long mark, out FuseEntry entry)
    {
        TimeSpan timeout = TrackEntry(parentNode, name, EntryKind.Negative, mark);
        entry = FuseEntry.Negative(timeout);
        return timeout > TimeSpan.Zero ? Posix.Errno.Ok : Posix.Errno.ENOENT;
    }

    /// <summary>
    /// The range's lock is held, and invalidations can be sent. Without a notifier nothing is cached
    /// for long: an invalidation before <see cref="AttachNotifier"/> stamps its range but sends nothing.
    /// </summary>
    private bool Covered(KeyRange range) =>
        Volatile.Read(ref _notifier) is not null && _fs.Session.Locks.GetMode(range) is LockMode.Read or LockMode.Write;

    private RangeKernelCache CacheOf(KeyRange range)
    {
        if (!_kernelCaches.TryGetValue(range, out RangeKernelCache? cache))
        {
            cache = new RangeKernelCache();
            _kernelCaches.Add(range, cache);
        }

        return cache;
    }

    /// <summary>The session dropped <paramref name="range"/>: make the kernel forget what it cached under it.</summary>
    private void OnInvalidated(KeyRange range)
    {
        if (range.TreeId != _fs.TreeId)
        {
            return;
        }

        List<KeyValuePair<EntryName, EntryKind>> entries;
        lock (_coherenceGate)
        {
            RangeKernelCache cache = CacheOf(range);
            cache.InvalidatedAt = ++_invalidationClock;
            entries = [.. cache.Entries];
            cache.Entries.Clear();
        }

        Notify(entries, NodesIn(range.Start.ObjectId, range.End.ObjectId));
    }

    /// <summary>The lock client forgot every lock (eviction): make the kernel forget everything.</summary>
    private void OnLocksReset()
    {
        List<KeyValuePair<EntryName, EntryKind>> entries = [];
        lock (_coherenceGate)
        {
            _resetAt = ++_invalidationClock;
            foreach (RangeKernelCache cache in _kernelCaches.Values)
            {
                cache.InvalidatedAt = _resetAt;
                entries.AddRange(cache.Entries);
                cache.Entries.Clear();
            }
        }

        Notify(entries, NodesIn(0, ulong.MaxValue));
    }

    private void Notify(List<KeyValuePair<EntryName, EntryKind>> entries, List<ulong> nodes)
    {
        IFuseNotifier? notifier = Volatile.Read(ref _notifier);
        if (notifier is null || (entries.Count == 0 && nodes.Count == 0))
        {
            return;
        }

        var sent = new Task[entries.Count + nodes.Count];
        int i = 0;
        foreach (KeyValuePair<EntryName, EntryKind> e in entries)
        {
            sent[i++] = notifier.InvalidateEntryAsync(e.Key.Parent, e.Key.Name, expireOnly: e.Value == EntryKind.Directory);
        }

        foreach (ulong node in nodes)
        {
            sent[i++] = notifier.InvalidateInodeAsync(node, 0, 0);
        }

        // Bounded: see "Waiting" above. The notifier completes every task with an errno, never a fault.
        Task.WhenAll(sent).Wait(NotifyWaitLimit);
    }

    /// <summary>Nodes of inodes [first, last] the kernel holds, the root included when it lies there.</summary>
    private List<ulong> NodesIn(ulong first, ulong last)
    {
        var nodes = new List<ulong>();
        if (first <= _fs.RootIno && _fs.RootIno <= last)
        {
            nodes.Add(IFuseFileSystem.RootId);
        }

        lock (_countsGate)
        {
            if (last - first < (ulong)_lookupCounts.Count)
            {
                for (ulong ino = first; ; ino++)
                {
                    if (ino != _fs.RootIno && _lookupCounts.ContainsKey(ino))
                    {
                        nodes.Add(ino);
                    }

                    if (ino == last)
                    {
                        break;
                    }
                }
            }
            else
            {
                foreach (ulong node in _lookupCounts.Keys)
                {
                    if (first <= node && node <= last)
                    {
                        nodes.Add(node);
                    }
                }
            }
        }

        return nodes;
    }

    /// <summary>What the kernel may cache under one lock range.</summary>
    private sealed class RangeKernelCache
    {
        /// <summary>The invalidation clock when the range was last dropped (0: never).</summary>
        public long InvalidatedAt { get; set; }

        public Dictionary<EntryName, EntryKind> Entries { get; } = [];
    }

    /// <summary>A dentry as the kernel names it: parent node and name bytes (compared by content).</summary>
    private readonly struct EntryName(ulong parent, byte[] name) : IEquatable<EntryName>
    {
        public ulong Parent { get; } = parent;

        public byte[] Name { get; } = name;

        public bool Equals(EntryName other) => Parent == other.Parent && Name.AsSpan().SequenceEqual(other.Name);

        public override bool Equals(object? obj) => obj is EntryName other && Equals(other);

        public override int GetHashCode()
        {
            var hash = new HashCode();
            hash.Add(Parent);
            hash.AddBytes(Name);
            return hash.ToHashCode();
        }
    }
}
