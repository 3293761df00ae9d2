// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;

namespace Crfs.Volume.Trees;

/// <summary>
/// A tree block that passed <see cref="TreeBlockChecker"/>: immutable bytes plus the few header
/// fields every walk needs. Instances are shared between threads through the block cache, so
/// nothing may write to <see cref="Bytes"/>; the CoW writer will copy a block before changing it.
/// </summary>
public sealed class TreeBlock
{
    private readonly byte[] _bytes;

    public TreeBlock(ulong logical, byte[] bytes)
    {
        _bytes = bytes;
        Logical = logical;
        var header = new HeaderView(bytes);
        Level = header.Level;
        NrItems = (int)header.NrItems;
        Generation = header.Generation;
        Owner = header.Owner;
    }

    public ulong Logical { get; }

    public int Level { get; }

    public int NrItems { get; }

    public ulong Generation { get; }

    public ulong Owner { get; }

    public bool IsLeaf => Level == 0;

    public ReadOnlySpan<byte> Bytes => _bytes;

    public LeafView Leaf => new(_bytes);

    public NodeView Node => new(_bytes);

    /// <summary>The key in <paramref name="slot"/>: an item key in a leaf, a pointer key in a node.</summary>
    public BtrfsKey Key(int slot) => IsLeaf ? Leaf.Key(slot) : Node.Key(slot);

    public ReadOnlySpan<byte> ItemData(int slot) => Leaf.ItemData(slot);

    public ulong ChildPointer(int slot) => Node.BlockPtr(slot);

    public ulong ChildGeneration(int slot) => Node.Generation(slot);

    /// <summary>In a leaf: the first slot whose key is at least <paramref name="key"/> (may be <see cref="NrItems"/>).</summary>
    public int LowerBound(BtrfsKey key)
    {
        int lo = 0;
        int hi = NrItems;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (Key(mid) < key)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>
    /// In a node: the child whose subtree may hold <paramref name="key"/> — the last pointer whose
    /// key is at most <paramref name="key"/>, or 0 when <paramref name="key"/> sorts before them all.
    /// </summary>
    public int ChildSlotFor(BtrfsKey key)
    {
        int slot = LowerBound(key);
        if (slot < NrItems && Key(slot) == key)
        {
            return slot;
        }

        return Math.Max(slot - 1, 0);
    }

    /// <summary>What the child in <paramref name="slot"/> must look like when read through this node.</summary>
    public TreeBlockExpectation ChildExpectation(int slot, ulong treeId) =>
        new(Level - 1, ChildGeneration(slot), treeId, Key(slot));
}

/// <summary>One item of a leaf: a cheap handle that keeps its block alive.</summary>
public readonly record struct TreeItem(TreeBlock Block, int Slot)
{
    public BtrfsKey Key => Block.Leaf.Key(Slot);

    public ReadOnlySpan<byte> Data => Block.ItemData(Slot);
}
