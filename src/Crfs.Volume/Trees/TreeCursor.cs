// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;

namespace Crfs.Volume.Trees;

/// <summary>
/// A position in a tree: the path of blocks from the root to a leaf and the slot in each
/// (the kernel's <c>btrfs_path</c>). <see cref="Seek"/> and its siblings descend once;
/// <see cref="MoveNext"/> and <see cref="MovePrevious"/> then walk items in key order, crossing
/// leaves through the parents already on the path, so a range scan reads each block once.
/// </summary>
/// <remarks>
/// A cursor belongs to one thread. It holds its blocks, so its item spans stay valid until it
/// moves, even if the cache evicts them. Every block it reads is checked against the pointer
/// that led to it (level, generation, owner, first key).
/// </remarks>
public sealed class TreeCursor
{
    private readonly BtrfsTree _tree;
    private readonly TreeBlock?[] _path = new TreeBlock?[HeaderLayout.MaxLevel];
    private readonly int[] _slots = new int[HeaderLayout.MaxLevel];
    private int _rootLevel;

    public TreeCursor(BtrfsTree tree)
    {
        _tree = tree;
    }

    public BtrfsTree Tree => _tree;

    /// <summary>True when the cursor is on an item.</summary>
    public bool IsValid { get; private set; }

    public BtrfsKey Key => Leaf.Key(_slots[0]);

    public ReadOnlySpan<byte> Data => Leaf.ItemData(_slots[0]);

    public TreeItem Item => new(Leaf, _slots[0]);

    public TreeBlock Leaf => IsValid ? _path[0]! : throw new InvalidOperationException("the cursor is not on an item");

    public int Slot => _slots[0];

    /// <summary>Moves to the first item whose key is at least <paramref name="key"/>; false when there is none.</summary>
    public bool Seek(BtrfsKey key)
    {
        Descend(key);
        IsValid = _slots[0] < _path[0]!.NrItems || StepToNextLeaf();
        return IsValid;
    }

    /// <summary>Moves to the last item whose key is at most <paramref name="key"/>; false when there is none.</summary>
    public bool SeekLastAtOrBefore(BtrfsKey key)
    {
        Descend(key);
        TreeBlock leaf = _path[0]!;
        int slot = _slots[0];
        if (slot < leaf.NrItems && leaf.Key(slot) == key)
        {
            IsValid = true;
            return true;
        }

        if (slot > 0)
        {
            _slots[0] = slot - 1;
            IsValid = true;
            return true;
        }

        IsValid = StepToPreviousLeaf();
        return IsValid;
    }

    public bool SeekFirst() => Seek(BtrfsKey.Min);

    public bool MoveNext()
    {
        if (!IsValid)
        {
            return false;
        }

        _slots[0]++;
        IsValid = _slots[0] < _path[0]!.NrItems || StepToNextLeaf();
        return IsValid;
    }

    public bool MovePrevious()
    {
        if (!IsValid)
        {
            return false;
        }

        if (_slots[0] > 0)
        {
            _slots[0]--;
            return true;
        }

        IsValid = StepToPreviousLeaf();
        return IsValid;
    }

    private void Descend(BtrfsKey key)
    {
        Array.Clear(_path);
        TreeBlock block = _tree.ReadRoot();
        _rootLevel = block.Level;
        while (true)
        {
            int level = block.Level;
            _path[level] = block;
            if (level == 0)
            {
                _slots[0] = block.LowerBound(key);
                return;
            }

            int slot = block.ChildSlotFor(key);
            _slots[level] = slot;
            block = _tree.ReadChild(block, slot);
        }
    }

    // Leaves the cursor on slot 0 of the next non-empty leaf, or returns false at the end of the tree.
    private bool StepToNextLeaf()
    {
        for (int level = 1; level <= _rootLevel; level++)
        {
            TreeBlock node = _path[level]!;
            if (_slots[level] + 1 < node.NrItems)
            {
                _slots[level]++;
                DescendEdge(level, leftmost: true);
                return true;
            }
        }

        return false;
    }

    private bool StepToPreviousLeaf()
    {
        for (int level = 1; level <= _rootLevel; level++)
        {
            if (_slots[level] > 0)
            {
                _slots[level]--;
                DescendEdge(level, leftmost: false);
                return true;
            }
        }

        return false;
    }

    // From the slot chosen at `level`, descends along the left or right edge down to a leaf.
    private void DescendEdge(int level, bool leftmost)
    {
        while (level > 0)
        {
            TreeBlock child = _tree.ReadChild(_path[level]!, _slots[level]);
            level--;
            _path[level] = child;
            _slots[level] = leftmost ? 0 : child.NrItems - 1;
        }
    }
}
