// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Protocol.Messages;
using Crfs.Server.Locks;
using Crfs.Volume;
using Crfs.Volume.Files;
using Crfs.Volume.Transactions;

namespace Crfs.Server.Sessions;

/// <summary>
/// The server's own orphan scan: deletes inodes that have no name left (nlink 0 and an ORPHAN_ITEM)
/// once no live session uses them. It runs at start-up and after every session ends (farewell,
/// eviction, expired reconnect window), because those are the moments an orphan can lose its last
/// user without any client being left to notice: a client that closes an orphan normally deletes
/// it itself (after an INUSE_CHECK), but a crashed or evicted one never will.
/// <para>
/// <b>Why it takes locks.</b> Clients cache items under locks, and the orphan's INODE_ITEM, its
/// extents and the ORPHAN_ITEM itself may sit in some client's cache (a READ holder of the inode's
/// group, a WRITE_ONLY holder of the orphan range) or, worse, in some client's open transaction. So
/// the scan is a lock holder like any client: it is session <see cref="SessionId"/> in the
/// <see cref="LockServer"/>, takes WRITE on every inode group it deletes from and on the tree's
/// orphan range, in the clients' lock order, and so revokes every client cache of those ranges
/// first (each holder writes back and drops them). Under those locks the volume is the only copy;
/// the scan re-checks nlink, deletes through <see cref="FileSystemWriter.ReleaseOrphan"/>, waits for
/// the commit to be durable, and only then releases, so no client can read the range back before
/// the deletion is on disk. It never holds a lock while waiting on anything but other grants and
/// the disk, and revokes sent to it are simply outlived: it releases everything within one pass.
/// </para>
/// <para>
/// <b>Why asking first is enough.</b> Before taking locks it asks every live session with
/// INUSE_QUERY (<see cref="CrfsServer.QueryInUseAsync"/>), and skips any inode a session uses or
/// might use (a session that cannot answer counts as using everything). A session that did not use
/// an orphan when asked cannot start using it later: it has no name to be looked up by, and
/// opening an inode whose nlink is 0 fails. So the answer stays true while the locks are taken.
/// </para>
/// </summary>
internal sealed class OrphanReclaimer
{
    /// <summary>The scan's id in the lock server; client sessions count up from 1 and never reach it.</summary>
    public const ulong SessionId = ulong.MaxValue;

    private static readonly BtrfsKey s_firstOrphan = new(ObjectIds.Orphan, ItemType.OrphanItem, 0);
    private static readonly BtrfsKey s_lastOrphan = new(ObjectIds.Orphan, ItemType.OrphanItem, ulong.MaxValue);

    private readonly CrfsServer _server;
    private readonly Lock _gate = new();
    private readonly Dictionary<ulong, TaskCompletionSource<LockMode>> _grants = [];
    private ulong _lastRequestId;

    public OrphanReclaimer(CrfsServer server)
    {
        _server = server;
        server.Locks.OpenSession(SessionId);
    }

    public static KeyRange OrphanRange(ulong treeId) =>
        new(treeId, new BtrfsKey(ObjectIds.Orphan, 0, 0), new BtrfsKey(ObjectIds.Orphan, (ItemType)byte.MaxValue, ulong.MaxValue));

    /// <summary>
    /// One pass over tree <paramref name="treeId"/>: returns how many orphans were deleted (stale
    /// ORPHAN_ITEMs of linked inodes are dropped too and not counted) and how many are still in use.
    /// </summary>
    public async Task<(int Reclaimed, int InUse)> ReclaimAsync(ulong treeId, CancellationToken cancellationToken)
    {
        VolumeWriter writer = _server.Writer;
        List<ulong> candidates = await Task.Run(() => writer.Execute(tx => tx.TreeExists(treeId)
            ? tx.Scan(treeId, s_firstOrphan, s_lastOrphan).Select(o => o.Key.Offset).ToList()
            : []), cancellationToken).ConfigureAwait(false);
        if (candidates.Count == 0)
        {
            return (0, 0);
        }

        var unused = new List<ulong>();
        int inUse = 0;
        foreach (IGrouping<ulong, ulong> group in candidates.GroupBy(ino => ino / KeyRange.InodeGroupSize))
        {
            InUseCheckReply used = new(await _server.QueryInUseAsync(null, treeId, group.Key).ConfigureAwait(false));
            foreach (ulong ino in group)
            {
                if (used.IsInUse(ino))
                {
                    inUse++;
                }
                else
                {
                    unused.Add(ino);
                }
            }
        }

        if (unused.Count == 0)
        {
            return (0, inUse);
        }

        List<KeyRange> ranges = [.. unused.Select(ino => KeyRange.ForInodeGroup(treeId, ino)).Distinct(), OrphanRange(treeId)];
        ranges.Sort(LockRangeRules.CompareOrder);
        var held = new List<KeyRange>();
        try
        {
            foreach (KeyRange range in ranges)
            {
                if (!await AcquireAsync(range, LockMode.Write, cancellationToken).ConfigureAwait(false))
                {
                    return (0, inUse + unused.Count); // the scan's own session was dropped; the next pass retries
                }

                held.Add(range);
            }

            int reclaimed = await Task.Run(() => writer.Execute(tx => DeleteUnderLocks(tx, treeId, unused)), cancellationToken).ConfigureAwait(false);
            await writer.CommitAsync(cancellationToken).ConfigureAwait(false);
            return (reclaimed, inUse);
        }
        finally
        {
            foreach (KeyRange range in held)
            {
                Release(range);
            }
        }
    }

    private static int DeleteUnderLocks(WriteTransaction tx, ulong treeId, List<ulong> inodes)
    {
        var fs = new FileSystemWriter(treeId);
        int deleted = 0;
        foreach (ulong ino in inodes)
        {
            var orphanKey = new BtrfsKey(ObjectIds.Orphan, ItemType.OrphanItem, ino);
            if (!tx.TryGet(treeId, orphanKey, out _))
            {
                continue; // a client deleted it (or relinked it) while we waited for the locks
            }

            if (fs.TryGetInode(tx, ino, out InodeItem inode) && inode.Nlink == 0)
            {
                if (fs.ReleaseOrphan(tx, ino) == WriteStatus.Ok)
                {
                    deleted++;
                }
            }
            else
            {
                tx.Delete(treeId, orphanKey); // names the inode no longer needs it: a stale ORPHAN_ITEM
            }
        }

        return deleted;
    }

    private async Task<bool> AcquireAsync(KeyRange range, LockMode mode, CancellationToken cancellationToken)
    {
        var granted = new TaskCompletionSource<LockMode>(TaskCreationOptions.RunContinuationsAsynchronously);
        ulong requestId;
        lock (_gate)
        {
            requestId = ++_lastRequestId;
            _grants[requestId] = granted;
        }

        LockRequestStatus status = _server.Locks.ReceiveRequest(SessionId, requestId, range, LockMode.Null, mode);
        if (status is not (LockRequestStatus.Granted or LockRequestStatus.Queued))
        {
            lock (_gate)
            {
                _grants.Remove(requestId);
            }

            return false;
        }

        using (cancellationToken.Register(() => granted.TrySetCanceled(cancellationToken)))
        {
            return await granted.Task.ConfigureAwait(false) == mode;
        }
    }

    private void Release(KeyRange range)
    {
        ulong requestId;
        lock (_gate)
        {
            requestId = ++_lastRequestId;
        }

        _server.Locks.ReceiveRequest(SessionId, requestId, range, LockMode.Write, LockMode.Null);
    }

    /// <summary>From the lock server's outbox (under its gate): enqueue-only, so completions run asynchronously.</summary>
    public void OnGrant(ulong requestId, LockMode newMode)
    {
        TaskCompletionSource<LockMode>? waiter;
        lock (_gate)
        {
            _grants.Remove(requestId, out waiter);
        }

        waiter?.TrySetResult(newMode);
    }

    /// <summary>
    /// The lock server dropped the scan's session (a revoke to it outlived the revoke timeout, which
    /// only happens if the disk stalls). Waiters fail, the pass gives up, and the session is opened
    /// again off the lock server's gate for the next pass.
    /// </summary>
    public void OnEvicted()
    {
        List<TaskCompletionSource<LockMode>> waiters;
        lock (_gate)
        {
            waiters = [.. _grants.Values];
            _grants.Clear();
        }

        foreach (TaskCompletionSource<LockMode> w in waiters)
        {
            w.TrySetResult(LockMode.Null);
        }

        _ = Task.Run(() => _server.Locks.OpenSession(SessionId));
    }
}
