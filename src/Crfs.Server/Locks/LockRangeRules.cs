// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Protocol.Messages;

namespace Crfs.Server.Locks;

/// <summary>What a lock range names; anything else is refused.</summary>
public enum LockRangeKind : byte
{
    Invalid = 0,

    /// <summary>Every item of 1024 consecutive inode numbers in one fs tree (<see cref="KeyRange.ForInodeGroup"/>).</summary>
    InodeGroup = 1,

    /// <summary>The ORPHAN_ITEMs of one fs tree: objectid <c>BTRFS_ORPHAN_OBJECTID</c> (-5), any type and offset.</summary>
    Orphans = 2,

    /// <summary>The cross-directory rename lock of one fs tree: the key <c>(fs tree, 0, 0)</c> in synthetic tree 0.</summary>
    Rename = 3,
}

/// <summary>
/// The server's check of a requested lock range. Locks are identified by their exact range, never
/// by overlap, so coherence holds only if every range a client may lock is one of a fixed set of
/// disjoint ranges: inode groups, the orphan range and the rename lock. A client that could lock an
/// arbitrary range (say <c>[Min, Max]</c>) would overlap other sessions' grants without conflicting
/// with them; refusing such ranges here, at the boundary, is what makes identity-by-range safe.
/// <para>
/// The client's <c>Crfs.Client.Coherence.LockRanges</c> builds the same shapes; a test checks that
/// the two agree (they live apart only because client and server share nothing but Crfs.Protocol).
/// </para>
/// </summary>
public static class LockRangeRules
{
    /// <summary>No btrfs tree has id 0, so synthetic locks (rename) can never cover a real item.</summary>
    public const ulong SyntheticTreeId = 0;

    /// <summary><c>BTRFS_ORPHAN_OBJECTID</c>: the objectid of every ORPHAN_ITEM in an fs tree.</summary>
    public const ulong OrphanObjectId = unchecked((ulong)-5L);

    /// <summary><c>BTRFS_LAST_FREE_OBJECTID</c>: no inode group may reach the special objectids above it.</summary>
    public const ulong LastFreeObjectId = unchecked((ulong)-256L);

    private const ulong FsTreeId = 5;
    private const ulong FirstSubvolumeId = 256;

    public static LockRangeKind Classify(KeyRange range)
    {
        if (range.TreeId == SyntheticTreeId)
        {
            BtrfsKey k = range.Start;
            return range.End == k && k.Type == 0 && k.Offset == 0 && IsFsTree(k.ObjectId) ? LockRangeKind.Rename : LockRangeKind.Invalid;
        }

        if (!IsFsTree(range.TreeId))
        {
            return LockRangeKind.Invalid;
        }

        ulong first = range.Start.ObjectId;
        if (range.Start == new BtrfsKey(first, 0, 0) && range.End == new BtrfsKey(first, (ItemType)byte.MaxValue, ulong.MaxValue))
        {
            if (first == OrphanObjectId)
            {
                return LockRangeKind.Orphans;
            }
        }

        bool isGroup = first % KeyRange.InodeGroupSize == 0
            && first <= LastFreeObjectId - (KeyRange.InodeGroupSize - 1)
            && range == KeyRange.ForInodeGroup(range.TreeId, first);
        return isGroup ? LockRangeKind.InodeGroup : LockRangeKind.Invalid;
    }

    /// <summary>
    /// Whether <paramref name="mode"/> may be asked for on <paramref name="range"/>. WRITE_ONLY is only
    /// for items that commute or are uniquely keyed; of the ranges here only the orphan range qualifies
    /// (creating a directory entry needs a read to check the name is free, so it needs WRITE).
    /// </summary>
    public static bool Allows(KeyRange range, LockMode mode)
    {
        LockRangeKind kind = Classify(range);
        return mode switch
        {
            LockMode.Null or LockMode.Read or LockMode.Write => kind != LockRangeKind.Invalid,
            LockMode.WriteOnly => kind == LockRangeKind.Orphans,
            _ => false,
        };
    }

    /// <summary>
    /// The order clients take locks in (tree id, then start key, then end key; the client's
    /// <c>LockOrder</c>): the rename lock (tree 0) first, inode groups by number, the orphan range last.
    /// The server relies on it only to judge who is to blame for a slow revoke answer.
    /// </summary>
    public static int CompareOrder(KeyRange x, KeyRange y)
    {
        int c = x.TreeId.CompareTo(y.TreeId);
        if (c != 0)
        {
            return c;
        }

        c = x.Start.CompareTo(y.Start);
        return c != 0 ? c : x.End.CompareTo(y.End);
    }

    private static bool IsFsTree(ulong treeId) => treeId == FsTreeId || (treeId >= FirstSubvolumeId && treeId <= LastFreeObjectId);
}
