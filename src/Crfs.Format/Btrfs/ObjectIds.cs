// SPDX-License-Identifier: MIT
namespace Crfs.Format.Btrfs;

/// <summary>
/// Well-known key objectids (<c>BTRFS_*_OBJECTID</c> in <c>btrfs_tree.h</c>). Tree ids double as
/// the objectids of their ROOT_ITEMs in the root tree. Negative ids are stored as unsigned 64-bit
/// numbers, so they sort after every inode number. These values are on disk; frozen by
/// <c>FormatStabilityTests</c>.
/// </summary>
public static class ObjectIds
{
    public const ulong RootTree = 1;
    public const ulong ExtentTree = 2;
    public const ulong ChunkTree = 3;
    public const ulong DevTree = 4;
    public const ulong FsTree = 5;
    public const ulong RootTreeDir = 6;
    public const ulong CsumTree = 7;
    public const ulong QuotaTree = 8;
    public const ulong UuidTree = 9;
    public const ulong FreeSpaceTree = 10;
    public const ulong BlockGroupTree = 11;
    public const ulong RaidStripeTree = 12;

    /// <summary>The device-statistics objectid in the dev tree (<c>BTRFS_DEV_STATS_OBJECTID</c>).</summary>
    public const ulong DevStats = 0;

    /// <summary>The objectid of every DEV_ITEM in the chunk tree.</summary>
    public const ulong DevItems = 1;

    public const ulong Balance = unchecked((ulong)-4L);
    public const ulong Orphan = unchecked((ulong)-5L);
    public const ulong TreeLog = unchecked((ulong)-6L);
    public const ulong TreeLogFixup = unchecked((ulong)-7L);
    public const ulong TreeReloc = unchecked((ulong)-8L);
    public const ulong DataRelocTree = unchecked((ulong)-9L);
    public const ulong ExtentCsum = unchecked((ulong)-10L);
    public const ulong FreeSpace = unchecked((ulong)-11L);
    public const ulong FreeIno = unchecked((ulong)-12L);
    public const ulong MultipleObjectIds = unchecked((ulong)-255L);

    /// <summary>The first inode number and subvolume id; also every fs tree's root directory.</summary>
    public const ulong FirstFree = 256;

    /// <summary>The largest inode number or subvolume id that may be allocated.</summary>
    public const ulong LastFree = unchecked((ulong)-256L);

    /// <summary>The objectid of every CHUNK_ITEM (and BLOCK_GROUP_ITEM.chunk_objectid).</summary>
    public const ulong FirstChunkTree = 256;

    /// <summary>The inode number the kernel shows for a snapshot's stale nested-subvolume entry.</summary>
    public const ulong EmptySubvolDir = 2;

    /// <summary>
    /// True for the trees that hold files: the top-level fs tree and every subvolume and snapshot
    /// (<c>is_fstree</c>: id 5, or a positive id of at least 256 with no qgroup level bits).
    /// </summary>
    public static bool IsFsTree(ulong treeId) =>
        treeId == FsTree || (treeId >= FirstFree && (long)treeId > 0 && (treeId >> 48) == 0);

    /// <summary>
    /// The btrfs-progs name of a well-known objectid in the context of <paramref name="type"/>, or
    /// null when the number should be printed as is (e.g. ordinary inode numbers).
    /// </summary>
    public static string? Name(ulong objectId, ItemType type)
    {
        switch (type)
        {
            case ItemType.DevExtent:
                return null; // the objectid is a devid
            case ItemType.DevItem when objectId == DevItems:
                return "DEV_ITEMS";
            case ItemType.ChunkItem when objectId == FirstChunkTree:
                return "FIRST_CHUNK_TREE";
            case ItemType.PersistentItem when objectId == DevStats:
                return "DEV_STATS";
        }

        return objectId switch
        {
            RootTree => "ROOT_TREE",
            ExtentTree => "EXTENT_TREE",
            ChunkTree => "CHUNK_TREE",
            DevTree => "DEV_TREE",
            FsTree => "FS_TREE",
            RootTreeDir => "ROOT_TREE_DIR",
            CsumTree => "CSUM_TREE",
            QuotaTree => "QUOTA_TREE",
            UuidTree => "UUID_TREE",
            FreeSpaceTree => "FREE_SPACE_TREE",
            BlockGroupTree => "BLOCK_GROUP_TREE",
            RaidStripeTree => "RAID_STRIPE_TREE",
            Balance => "BALANCE",
            Orphan => "ORPHAN",
            TreeLog => "TREE_LOG",
            TreeLogFixup => "TREE_LOG_FIXUP",
            TreeReloc => "TREE_RELOC",
            DataRelocTree => "DATA_RELOC_TREE",
            ExtentCsum => "EXTENT_CSUM",
            FreeSpace => "FREE_SPACE",
            FreeIno => "FREE_INO",
            MultipleObjectIds => "MULTIPLE",
            _ => null,
        };
    }
}
