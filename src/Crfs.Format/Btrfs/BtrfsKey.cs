// SPDX-License-Identifier: MIT
namespace Crfs.Format.Btrfs;

/// <summary>
/// A btrfs key in CPU order: (objectid, type, offset), compared in that order as unsigned
/// numbers. This is the in-memory twin of the 17-byte on-disk <c>btrfs_disk_key</c>
/// (<see cref="DiskKey"/>); the two are kept distinct so that nothing reads a key's bytes
/// without going through the little-endian accessors.
/// </summary>
public readonly record struct BtrfsKey(ulong ObjectId, ItemType Type, ulong Offset) : IComparable<BtrfsKey>
{
    public static readonly BtrfsKey Min = new(0, 0, 0);
    public static readonly BtrfsKey Max = new(ulong.MaxValue, (ItemType)byte.MaxValue, ulong.MaxValue);

    public int CompareTo(BtrfsKey other)
    {
        int c = ObjectId.CompareTo(other.ObjectId);
        if (c != 0)
        {
            return c;
        }

        c = ((byte)Type).CompareTo((byte)other.Type);
        return c != 0 ? c : Offset.CompareTo(other.Offset);
    }

    public static bool operator <(BtrfsKey a, BtrfsKey b) => a.CompareTo(b) < 0;
    public static bool operator >(BtrfsKey a, BtrfsKey b) => a.CompareTo(b) > 0;
    public static bool operator <=(BtrfsKey a, BtrfsKey b) => a.CompareTo(b) <= 0;
    public static bool operator >=(BtrfsKey a, BtrfsKey b) => a.CompareTo(b) >= 0;

    /// <summary>The smallest key strictly greater than this one, or <see cref="Max"/>.</summary>
    public BtrfsKey Next()
    {
        if (Offset != ulong.MaxValue)
        {
            return this with { Offset = Offset + 1 };
        }

        if ((byte)Type != byte.MaxValue)
        {
            return new BtrfsKey(ObjectId, (ItemType)((byte)Type + 1), 0);
        }

        return ObjectId != ulong.MaxValue ? new BtrfsKey(ObjectId + 1, 0, 0) : Max;
    }

    /// <summary>Formats as btrfs-progs does: <c>(256 INODE_ITEM 0)</c>.</summary>
    public override string ToString() => $"({ObjectId} {ItemTypeNames.Name(Type)} {Offset})";
}
