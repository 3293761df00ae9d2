// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;

namespace Crfs.Protocol.Messages;

/// <summary>
/// An inclusive range of btrfs keys <c>[Start, End]</c> within one tree (subvolume). Locks and
/// "fully cached" claims are made over these. Because btrfs sorts by objectid first, the range of
/// one inode group — objectids <c>[g*1024, g*1024+1023]</c>, all types and offsets — covers every
/// item of those inodes, including a directory's entries.
/// </summary>
public readonly record struct KeyRange(ulong TreeId, BtrfsKey Start, BtrfsKey End)
{
    public const ulong InodeGroupSize = 1024;

    public static KeyRange ForInodeGroup(ulong treeId, ulong objectId)
    {
        ulong first = objectId / InodeGroupSize * InodeGroupSize;
        return new KeyRange(
            treeId,
            new BtrfsKey(first, 0, 0),
            new BtrfsKey(first + InodeGroupSize - 1, (ItemType)byte.MaxValue, ulong.MaxValue));
    }

    public bool Contains(ulong treeId, BtrfsKey key) => treeId == TreeId && key >= Start && key <= End;

    public bool Overlaps(KeyRange other) =>
        other.TreeId == TreeId && other.Start <= End && Start <= other.End;

    public override string ToString() => $"tree {TreeId} [{Start}, {End}]";
}
