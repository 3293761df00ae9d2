// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Protocol.Messages;

namespace Crfs.Client.Coherence;

/// <summary>
/// The ranges a client may lock. Locks are named by exact range and never overlap: an inode group
/// (1024 consecutive inode numbers, every item type — a file's items and a directory's entries both
/// sort under their objectid), the orphan items of a tree (WRITE_ONLY, shared by writers), and the
/// rename lock, a single key in synthetic tree 0 where no real item lives. The server refuses any
/// other range (<c>Crfs.Server.Locks.LockRangeRules</c>, checked to agree by a test).
/// </summary>
public static class LockRanges
{
    /// <summary>No btrfs tree has id 0; synthetic locks live there.</summary>
    public const ulong SyntheticTreeId = 0;

    /// <summary><c>BTRFS_ORPHAN_OBJECTID</c>: the objectid of every ORPHAN_ITEM in an fs tree.</summary>
    public const ulong OrphanObjectId = unchecked((ulong)-5L);

    public static KeyRange InodeGroup(ulong treeId, ulong inode) => KeyRange.ForInodeGroup(treeId, inode);

    public static KeyRange Orphans(ulong treeId) =>
        new(treeId, new BtrfsKey(OrphanObjectId, 0, 0), new BtrfsKey(OrphanObjectId, (ItemType)byte.MaxValue, ulong.MaxValue));

    /// <summary>
    /// The cross-directory rename lock of fs tree <paramref name="treeId"/>. Being in tree 0 it sorts
    /// before every inode group, so in key order it is always taken first, as scoutfs does.
    /// </summary>
    public static KeyRange Rename(ulong treeId)
    {
        var key = new BtrfsKey(treeId, 0, 0);
        return new KeyRange(SyntheticTreeId, key, key);
    }
}

/// <summary>
/// The order locks are taken in: by tree id, then start key, then end key. A task that holds locks
/// may wait only for locks after all of them; since a revoke waits only for its lock's users to
/// finish, every chain of waits climbs this order and cannot close into a cycle.
/// </summary>
public sealed class LockOrder : IComparer<KeyRange>
{
    public static readonly LockOrder Instance = new();

    private LockOrder()
    {
    }

    public int Compare(KeyRange x, KeyRange y)
    {
        int c = x.TreeId.CompareTo(y.TreeId);
        if (c != 0)
        {
            return c;
        }

        c = x.Start.CompareTo(y.Start);
        return c != 0 ? c : x.End.CompareTo(y.End);
    }
}
