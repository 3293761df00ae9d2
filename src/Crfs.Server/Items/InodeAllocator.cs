// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Protocol.Messages;
using Crfs.Volume.Transactions;

namespace Crfs.Server.Items;

/// <summary>
/// ALLOC_INO: leases of fresh inode numbers, each a run at the start of a lock group nobody has
/// used, so the session that gets it can create files there under a lock no one else wants.
/// <para>
/// Per tree, the next free group starts at the group after the highest objectid in the tree (read
/// once, on the first lease of the tree) and only moves up; a lease takes a whole group even when
/// it hands out fewer numbers, and its unused numbers are abandoned with the session. Numbers are
/// therefore never handed out twice while the server runs.
/// </para>
/// <para>
/// What survives a restart: nothing of this state is written to disk. After a restart the high
/// water mark is recomputed from the tree, so numbers leased but never used may be leased again;
/// that is safe because a restarted server tells every session of its previous instance that it
/// was evicted (no lease outlives its instance), and a number with items in the tree is above
/// nothing but used numbers. Directory and file leases share one pool.
/// </para>
/// Thread-safe.
/// </summary>
internal sealed class InodeAllocator
{
    private readonly Lock _gate = new();
    private readonly Dictionary<ulong, ulong> _nextGroupStart = [];

    /// <summary>Leases up to <paramref name="count"/> numbers (at most one group) in <paramref name="tree"/>; null when none are left.</summary>
    public AllocInoReply? Lease(VolumeWriter writer, ulong tree, uint count)
    {
        lock (_gate)
        {
            if (!_nextGroupStart.TryGetValue(tree, out ulong next))
            {
                ulong highest = writer.Execute(tx => Highest(tx, tree));
                next = RoundUpToGroup(Math.Max(highest + 1, ObjectIds.FirstFree));
            }

            ulong last = next + KeyRange.InodeGroupSize - 1;
            if (last > ObjectIds.LastFree || last < next)
            {
                return null;
            }

            uint granted = (uint)Math.Min(count, KeyRange.InodeGroupSize);
            _nextGroupStart[tree] = next + KeyRange.InodeGroupSize;
            return new AllocInoReply(next, granted);
        }
    }

    /// <summary>The number of inode numbers not yet leased in <paramref name="tree"/>, for STATFS (an estimate before the first lease).</summary>
    public ulong Remaining(ulong tree)
    {
        lock (_gate)
        {
            return _nextGroupStart.TryGetValue(tree, out ulong next) && next <= ObjectIds.LastFree ? ObjectIds.LastFree - next : ObjectIds.LastFree - ObjectIds.FirstFree;
        }
    }

    private static ulong Highest(WriteTransaction tx, ulong tree) =>
        tx.TryFindLast(tree, new BtrfsKey(ObjectIds.LastFree, (ItemType)byte.MaxValue, ulong.MaxValue), out BtrfsKey found, out _)
            ? found.ObjectId
            : 0;

    private static ulong RoundUpToGroup(ulong n) => (n + KeyRange.InodeGroupSize - 1) / KeyRange.InodeGroupSize * KeyRange.InodeGroupSize;
}
