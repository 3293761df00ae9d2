// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Volume.Allocation;

namespace Crfs.Volume.Transactions;

/// <summary>
/// B-tree editing under copy-on-write: search with a path, insert, replace, delete, range delete,
/// with leaf and node splits, merging of thin leaves, removal of empty blocks and root growth
/// and collapse.
/// </summary>
/// <remarks>
/// <para>
/// A modifying search copies every block on its path that is not yet dirty (new address,
/// generation T, owner = the tree) and points the parent at the copy, so after the search the
/// whole path belongs to the transaction. The edit is then made in the leaf, and
/// <see cref="Fixup"/> walks the path bottom-up repairing what the edit broke: an overfull block
/// is split (new siblings get pointers in the parent), an empty block is unlinked and freed, a
/// thin leaf is merged into a neighbour, every parent key is reset to its child's first key, an
/// overfull root gets a new root above it and a root node left with one child is replaced by
/// that child. Nodes may therefore be briefly overfull between an edit and its fixup, never
/// across calls.
/// </para>
/// <para>
/// Every allocation and free of a tree block is recorded as a pending metadata reference
/// (<see cref="MetaRefOp"/>), applied to the extent tree by the commit loop.
/// </para>
/// </remarks>
public sealed partial class WriteTransaction
{
    private readonly Dictionary<ulong, TreeNode> _dirty = [];
    private readonly Dictionary<ulong, MetaRefOp> _metaRefs = [];

    /// <summary>Finds the item with exactly <paramref name="key"/>.</summary>
    public bool TryGet(ulong treeId, BtrfsKey key, out byte[] data)
    {
        TreeRoot tree = Root(treeId);
        Path path = Search(tree, key, cow: false);
        TreeNode leaf = path.Nodes[0];
        int slot = path.Slots[0];
        if (slot < leaf.Count && leaf.Keys[slot] == key)
        {
            data = leaf.Items[slot];
            return true;
        }

        data = [];
        return false;
    }

    public bool Contains(ulong treeId, BtrfsKey key) => TryGet(treeId, key, out _);

    /// <summary>The first item at or after <paramref name="key"/>.</summary>
    public bool TryFindFirst(ulong treeId, BtrfsKey key, out BtrfsKey found, out byte[] data)
    {
        TreeRoot tree = Root(treeId);
        Path path = Search(tree, key, cow: false);
        if (path.Slots[0] >= path.Nodes[0].Count && !NextLeaf(tree, path))
        {
            found = default;
            data = [];
            return false;
        }

        found = path.Nodes[0].Keys[path.Slots[0]];
        data = path.Nodes[0].Items[path.Slots[0]];
        return true;
    }

    /// <summary>The last item at or before <paramref name="key"/>.</summary>
    public bool TryFindLast(ulong treeId, BtrfsKey key, out BtrfsKey found, out byte[] data)
    {
        TreeRoot tree = Root(treeId);
        Path path = Search(tree, key, cow: false);
        TreeNode leaf = path.Nodes[0];
        int slot = path.Slots[0];
        if (!(slot < leaf.Count && leaf.Keys[slot] == key))
        {
            if (slot > 0)
            {
                path.Slots[0] = slot - 1;
            }
            else if (!PreviousLeaf(tree, path))
            {
                found = default;
                data = [];
                return false;
            }
        }

        found = path.Nodes[0].Keys[path.Slots[0]];
        data = path.Nodes[0].Items[path.Slots[0]];
        return true;
    }

    /// <summary>Every item with <paramref name="from"/> ≤ key ≤ <paramref name="to"/>, in key order.</summary>
    public List<(BtrfsKey Key, byte[] Data)> Scan(ulong treeId, BtrfsKey from, BtrfsKey to)
    {
        var result = new List<(BtrfsKey, byte[])>();
        TreeRoot tree = Root(treeId);
        Path path = Search(tree, from, cow: false);
        while (true)
        {
            TreeNode leaf = path.Nodes[0];
            for (int i = path.Slots[0]; i < leaf.Count; i++)
            {
                if (leaf.Keys[i] > to)
                {
                    return result;
                }

                result.Add((leaf.Keys[i], leaf.Items[i]));
            }

            path.Slots[0] = leaf.Count;
            if (!NextLeaf(tree, path))
            {
                return result;
            }
        }
    }

    /// <summary>Inserts a new item; the key must not exist.</summary>
    public void Insert(ulong treeId, BtrfsKey key, byte[] data)
    {
        TreeRoot tree = Root(treeId);
        CheckItemSize(tree, key, data);
        Path path = Search(tree, key, cow: true);
        TreeNode leaf = path.Nodes[0];
        int slot = path.Slots[0];
        if (slot < leaf.Count && leaf.Keys[slot] == key)
        {
            throw new WriterFaultException($"insert of {key} into tree {treeId}: the key exists");
        }

        leaf.InsertItem(slot, key, data);
        Fixup(tree, path);
    }

    /// <summary>Replaces an existing item's payload (any size).</summary>
    public void Update(ulong treeId, BtrfsKey key, byte[] data)
    {
        TreeRoot tree = Root(treeId);
        CheckItemSize(tree, key, data);
        Path path = Search(tree, key, cow: true);
        TreeNode leaf = path.Nodes[0];
        int slot = path.Slots[0];
        if (!(slot < leaf.Count && leaf.Keys[slot] == key))
        {
            throw new WriterFaultException($"update of {key} in tree {treeId}: no such item");
        }

        leaf.ReplaceItem(slot, data);
        Fixup(tree, path);
    }

    /// <summary>Inserts or replaces.</summary>
    public void Put(ulong treeId, BtrfsKey key, byte[] data)
    {
        TreeRoot tree = Root(treeId);
        CheckItemSize(tree, key, data);
        Path path = Search(tree, key, cow: true);
        TreeNode leaf = path.Nodes[0];
        int slot = path.Slots[0];
        if (slot < leaf.Count && leaf.Keys[slot] == key)
        {
            leaf.ReplaceItem(slot, data);
        }
        else
        {
            leaf.InsertItem(slot, key, data);
        }

        Fixup(tree, path);
    }

    /// <summary>Deletes the item with exactly <paramref name="key"/>; false when there is none.</summary>
    public bool Delete(ulong treeId, BtrfsKey key)
    {
        TreeRoot tree = Root(treeId);
        if (!TryGet(treeId, key, out _))
        {
            return false;
        }

        Path path = Search(tree, key, cow: true);
        path.Nodes[0].RemoveItems(path.Slots[0], 1);
        Fixup(tree, path);
        return true;
    }

    /// <summary>Deletes every item with <paramref name="from"/> ≤ key ≤ <paramref name="to"/>; returns how many.</summary>
    public int DeleteRange(ulong treeId, BtrfsKey from, BtrfsKey to)
    {
        TreeRoot tree = Root(treeId);
        int deleted = 0;
        while (TryFindFirst(treeId, from, out BtrfsKey first, out _) && first <= to)
        {
            Path path = Search(tree, first, cow: true);
            TreeNode leaf = path.Nodes[0];
            int slot = path.Slots[0];
            int end = slot;
            while (end < leaf.Count && leaf.Keys[end] <= to)
            {
                end++;
            }

            leaf.RemoveItems(slot, end - slot);
            deleted += end - slot;
            Fixup(tree, path);
            from = first;
        }

        return deleted;
    }

    private void CheckItemSize(TreeRoot tree, BtrfsKey key, byte[] data)
    {
        if (data.Length > TreeBlockGeometry.MaxItemSize(_writer.NodeSize))
        {
            throw new WriterFaultException($"item {key} of tree {tree.TreeId} is {data.Length} bytes, more than a leaf holds");
        }

        tree.Changed = true;
    }

    // ---- path search and copy-on-write ----

    /// <summary>
    /// How many distinct clean blocks (not yet copied in this transaction) lie on the search paths
    /// of <paramref name="keys"/> in <paramref name="treeId"/>: what changing items at those keys
    /// will copy-on-write, before any split. Reads only (through the block cache).
    /// </summary>
    /// <remarks>
    /// A batch of item changes costs far less than a per-item worst case: keys of one inode, and
    /// of inodes made together, share leaves, and every path shares the upper levels. Counting
    /// the real paths keeps a small volume usable for large batches without ever reserving less
    /// than the copies the change will make.
    /// </remarks>
    public int CountCleanBlocksOnPaths(ulong treeId, IEnumerable<BtrfsKey> keys)
    {
        TreeRoot tree = Root(treeId);
        var seen = new HashSet<ulong>();
        bool haveLeaf = false;
        BtrfsKey leafFirst = default, leafLast = default;
        foreach (BtrfsKey key in keys)
        {
            // Sorted keys mostly land in the leaf the previous key did; skip the descent then.
            if (haveLeaf && key.CompareTo(leafFirst) >= 0 && key.CompareTo(leafLast) <= 0)
            {
                continue;
            }

            Path path = Search(tree, key, cow: false);
            for (int level = path.RootLevel; level >= 0; level--)
            {
                TreeNode node = path.Nodes[level];
                if (!node.Dirty)
                {
                    seen.Add(node.Logical);
                }
            }

            TreeNode leaf = path.Nodes[0];
            haveLeaf = leaf.Count > 0;
            leafFirst = haveLeaf ? leaf.Keys[0] : default;
            leafLast = haveLeaf ? leaf.Keys[leaf.Count - 1] : default;
        }

        return seen.Count;
    }

    private sealed class Path
    {
        public readonly TreeNode[] Nodes = new TreeNode[HeaderLayout.MaxLevel + 1];
        public readonly int[] Slots = new int[HeaderLayout.MaxLevel + 1];
        public int RootLevel;
    }

    private Path Search(TreeRoot tree, BtrfsKey key, bool cow)
    {
        var path = new Path();
        TreeNode node = ReadNode(tree, tree.Bytenr, tree.Level, tree.Generation);
        if (cow && !node.Dirty)
        {
            node = CowBlock(tree, node);
            SetRoot(tree, node);
        }

        path.RootLevel = node.Level;
        while (true)
        {
            int level = node.Level;
            path.Nodes[level] = node;
            if (level == 0)
            {
                path.Slots[0] = node.LowerBound(key);
                return path;
            }

            int slot = node.ChildSlot(key);
            path.Slots[level] = slot;
            node = Child(tree, node, slot, cow);
        }
    }

    private TreeNode Child(TreeRoot tree, TreeNode parent, int slot, bool cow)
    {
        TreeNode child = ReadNode(tree, parent.Pointers[slot], parent.Level - 1, parent.Generations[slot]);
        if (cow && !child.Dirty)
        {
            child = CowBlock(tree, child);
            parent.Pointers[slot] = child.Logical;
            parent.Generations[slot] = Generation;
        }

        return child;
    }

    private bool NextLeaf(TreeRoot tree, Path path)
    {
        for (int level = 1; level <= path.RootLevel; level++)
        {
            if (path.Slots[level] + 1 < path.Nodes[level].Count)
            {
                path.Slots[level]++;
                for (int l = level; l > 0; l--)
                {
                    path.Nodes[l - 1] = Child(tree, path.Nodes[l], path.Slots[l], cow: false);
                    path.Slots[l - 1] = 0;
                }

                if (path.Nodes[0].Count == 0)
                {
                    continue;
                }

                return true;
            }
        }

        return false;
    }

    private bool PreviousLeaf(TreeRoot tree, Path path)
    {
        for (int level = 1; level <= path.RootLevel; level++)
        {
            if (path.Slots[level] > 0)
            {
                path.Slots[level]--;
                for (int l = level; l > 0; l--)
                {
                    TreeNode child = Child(tree, path.Nodes[l], path.Slots[l], cow: false);
                    path.Nodes[l - 1] = child;
                    path.Slots[l - 1] = child.Count - 1;
                }

                return path.Slots[0] >= 0;
            }
        }

        return false;
    }

    private TreeNode ReadNode(TreeRoot tree, ulong logical, int level, ulong generation)
    {
        if (_dirty.TryGetValue(logical, out TreeNode? dirty))
        {
            return dirty;
        }

        return _writer.ReadCleanNode(tree.TreeId, logical, level, generation);
    }

    private TreeNode CowBlock(TreeRoot tree, TreeNode node)
    {
        ulong logical = AllocateTreeBlock(tree, node.Level);
        TreeNode copy = node.CopyTo(logical, tree.TreeId, Generation);
        _dirty[logical] = copy;
        FreeTreeBlock(tree, node);
        return copy;
    }

    private TreeNode NewBlock(TreeRoot tree, int level)
    {
        ulong logical = AllocateTreeBlock(tree, level);
        TreeNode node = level == 0 ? TreeNode.NewLeaf(logical, tree.TreeId, Generation) : TreeNode.NewNode(logical, level, tree.TreeId, Generation);
        _dirty[logical] = node;
        return node;
    }

    private void SetRoot(TreeRoot tree, TreeNode node)
    {
        tree.Bytenr = node.Logical;
        tree.Level = node.Level;
        tree.Generation = node.Generation;
    }

    private ulong AllocateTreeBlock(TreeRoot tree, int level)
    {
        SpaceKind kind = tree.TreeId == ObjectIds.ChunkTree ? SpaceKind.System : SpaceKind.Metadata;
        ulong logical = _writer.Allocator.AllocateTreeBlock(kind)
            ?? throw new WriterFaultException($"no {kind} space left for a tree block of tree {tree.TreeId} (the metadata reserve was not enough)");
        _writer.ForgetCleanNode(logical);
        _metaRefs[logical] = _metaRefs.TryGetValue(logical, out MetaRefOp pending) && pending.DeleteLevel >= 0
            ? new MetaRefOp(pending.DeleteLevel, level, tree.TreeId)
            : new MetaRefOp(-1, level, tree.TreeId);
        tree.BytesUsedDelta += _writer.NodeSize;
        return logical;
    }

    private void FreeTreeBlock(TreeRoot tree, TreeNode node)
    {
        ulong logical = node.Logical;
        if (node.Dirty)
        {
            _dirty.Remove(logical);
            if (_metaRefs.TryGetValue(logical, out MetaRefOp pending) && pending.InsertLevel >= 0)
            {
                if (pending.DeleteLevel >= 0)
                {
                    _metaRefs[logical] = new MetaRefOp(pending.DeleteLevel, -1, 0);
                }
                else
                {
                    _metaRefs.Remove(logical);
                }
            }
            else
            {
                // Its METADATA_ITEM was already inserted by an earlier pass of the commit loop.
                _metaRefs[logical] = new MetaRefOp(node.Level, -1, 0);
            }

            _writer.Allocator.FreeUncommitted(logical, (ulong)_writer.NodeSize);
        }
        else
        {
            if (_metaRefs.ContainsKey(logical))
            {
                throw new WriterFaultException($"tree block {logical} of tree {tree.TreeId} freed twice in transaction {Generation}");
            }

            _metaRefs[logical] = new MetaRefOp(node.Level, -1, 0);
            _writer.Allocator.FreeCommitted(logical, (ulong)_writer.NodeSize);
            _writer.ForgetCleanNode(logical);
        }

        tree.BytesUsedDelta -= _writer.NodeSize;
    }

    // ---- structural repair after an edit ----

    private void Fixup(TreeRoot tree, Path path)
    {
        int leafCapacity = TreeBlockGeometry.LeafDataSize(_writer.NodeSize);
        int maxPointers = TreeBlockGeometry.MaxKeyPointers(_writer.NodeSize);
        for (int level = 0; level <= path.RootLevel; level++)
        {
            TreeNode node = path.Nodes[level];
            bool isRoot = level == path.RootLevel;
            List<TreeNode>? pieces = null;
            if (node.IsLeaf ? node.LeafBytes > leafCapacity : node.Count > maxPointers)
            {
                pieces = node.IsLeaf ? SplitLeaf(tree, node, path.Slots[0], leafCapacity) : SplitNode(tree, node);
            }
            else if (!isRoot && node.IsLeaf && node.Count > 0 && node.LeafBytes < leafCapacity / 4)
            {
                MergeThinLeaf(tree, path, node, leafCapacity);
            }

            if (isRoot)
            {
                FixRoot(tree, node, pieces);
                return;
            }

            TreeNode parent = path.Nodes[level + 1];
            int pslot = path.Slots[level + 1];
            if (node.Count == 0)
            {
                parent.RemovePointer(pslot);
                FreeTreeBlock(tree, node);
                continue;
            }

            parent.Keys[pslot] = node.Keys[0];
            parent.Pointers[pslot] = node.Logical;
            parent.Generations[pslot] = Generation;
            if (pieces is not null)
            {
                for (int i = 0; i < pieces.Count; i++)
                {
                    parent.InsertPointer(pslot + 1 + i, pieces[i].Keys[0], pieces[i].Logical, Generation);
                }
            }
        }
    }

    private void FixRoot(TreeRoot tree, TreeNode root, List<TreeNode>? pieces)
    {
        if (pieces is not null)
        {
            TreeNode newRoot = NewBlock(tree, root.Level + 1);
            newRoot.InsertPointer(0, root.Keys[0], root.Logical, Generation);
            foreach (TreeNode p in pieces)
            {
                newRoot.InsertPointer(newRoot.Count, p.Keys[0], p.Logical, Generation);
            }

            SetRoot(tree, newRoot);
            return;
        }

        // A root node with one child is replaced by the child; an emptied root node by an empty leaf.
        while (!root.IsLeaf && root.Count <= 1)
        {
            TreeNode next;
            if (root.Count == 0)
            {
                next = NewBlock(tree, 0);
            }
            else
            {
                next = ReadNode(tree, root.Pointers[0], root.Level - 1, root.Generations[0]);
                if (!next.Dirty)
                {
                    next = CowBlock(tree, next);
                }
            }

            FreeTreeBlock(tree, root);
            root = next;
        }

        SetRoot(tree, root);
    }

    // Merges a thin leaf with a neighbour under the same parent when the two fit in one block.
    private void MergeThinLeaf(TreeRoot tree, Path path, TreeNode leaf, int capacity)
    {
        TreeNode parent = path.Nodes[1];
        int pslot = path.Slots[1];
        if (pslot + 1 < parent.Count)
        {
            TreeNode right = ReadNode(tree, parent.Pointers[pslot + 1], 0, parent.Generations[pslot + 1]);
            if (leaf.LeafBytes + right.LeafBytes <= capacity)
            {
                right = Child(tree, parent, pslot + 1, cow: true);
                right.MoveTailTo(0, leaf);
                parent.RemovePointer(pslot + 1);
                FreeTreeBlock(tree, right);
                return;
            }
        }

        if (pslot > 0)
        {
            TreeNode left = ReadNode(tree, parent.Pointers[pslot - 1], 0, parent.Generations[pslot - 1]);
            if (leaf.LeafBytes + left.LeafBytes <= capacity)
            {
                left = Child(tree, parent, pslot - 1, cow: true);
                leaf.MoveTailTo(0, left); // the leaf is now empty; Fixup unlinks it
            }
        }
    }

    // Splits an overfull leaf into 2 (or, with a large item, 3) leaves. An insert at either end
    // leaves the old items together (appending workloads then fill leaves completely);
    // otherwise the cut balances the two halves.
    private List<TreeNode> SplitLeaf(TreeRoot tree, TreeNode leaf, int hint, int capacity)
    {
        int n = leaf.Count;
        int[] size = new int[n];
        int total = 0;
        for (int i = 0; i < n; i++)
        {
            size[i] = ItemHeaderLayout.Size + leaf.Items[i].Length;
            total += size[i];
        }

        var cuts = new List<int>();
        int cut = -1;
        if (hint >= n - 1 && total - size[n - 1] <= capacity)
        {
            cut = n - 1;
        }
        else if (hint == 0 && total - size[0] <= capacity)
        {
            cut = 1;
        }
        else
        {
            int left = 0;
            int best = int.MaxValue;
            for (int m = 1; m < n; m++)
            {
                left += size[m - 1];
                int right = total - left;
                if (left <= capacity && right <= capacity && Math.Abs(left - right) < best)
                {
                    best = Math.Abs(left - right);
                    cut = m;
                }
            }
        }

        if (cut > 0)
        {
            cuts.Add(cut);
        }
        else
        {
            int used = 0;
            for (int i = 0; i < n; i++)
            {
                if (used + size[i] > capacity)
                {
                    cuts.Add(i);
                    used = 0;
                }

                used += size[i];
            }
        }

        var pieces = new List<TreeNode>();
        for (int c = cuts.Count - 1; c >= 0; c--)
        {
            TreeNode piece = NewBlock(tree, 0);
            leaf.MoveTailTo(cuts[c], piece);
            pieces.Insert(0, piece);
        }

        return pieces;
    }

    private List<TreeNode> SplitNode(TreeRoot tree, TreeNode node)
    {
        TreeNode right = NewBlock(tree, node.Level);
        node.MoveTailTo(node.Count / 2, right);
        return [right];
    }
}

/// <summary>
/// A pending change to one tree block's METADATA_ITEM: delete the item at level
/// <see cref="DeleteLevel"/> and/or insert one at <see cref="InsertLevel"/> owned by
/// <see cref="Owner"/> (-1 = nothing). Both are set when an address freed in this transaction
/// is handed out again before the extent tree caught up.
/// </summary>
internal readonly record struct MetaRefOp(int DeleteLevel, int InsertLevel, ulong Owner);
