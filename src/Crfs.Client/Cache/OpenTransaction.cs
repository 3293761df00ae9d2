// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Protocol.Messages;

namespace Crfs.Client.Cache;

/// <summary>
/// The changes a client has made and not yet sent: per tree, key-sorted item operations that never
/// overlap (the shape COMMIT requires), and per tree the file-data operations in the order they
/// were made.
/// <para>
/// Item operations normalise as they arrive: a later put or delete of a key replaces the earlier
/// operation on it, and a put inside a pending delete-range splits the range around the key, so
/// the list can be sent as is and applied by the server in any order. Data operations are kept in
/// order because they do not commute (a truncate then a write is not a write then a truncate); a
/// reader replays them over what the server returns (<see cref="DataOverlay"/>).
/// </para>
/// <para>Not thread-safe: the session guards it with its own lock.</para>
/// </summary>
public sealed class OpenTransaction
{
    private readonly SortedDictionary<ulong, TreeChanges> _trees = [];

    /// <summary>Bytes the transaction would occupy on the wire, roughly (keys, values, data).</summary>
    public long DirtyBytes { get; private set; }

    public bool IsEmpty => _trees.Count == 0;

    /// <summary>The trees with changes, in id order.</summary>
    public IEnumerable<ulong> TreeIds => _trees.Keys;

    public int ItemOperationCount
    {
        get
        {
            int n = 0;
            foreach (TreeChanges t in _trees.Values)
            {
                n += t.Ops.Count;
            }

            return n;
        }
    }

    public void Put(ulong treeId, BtrfsKey key, ReadOnlyMemory<byte> value)
    {
        TreeChanges tree = Tree(treeId);
        SplitAround(tree, key);
        Set(tree, ItemOperation.Put(key, value));
    }

    public void Delete(ulong treeId, BtrfsKey key)
    {
        TreeChanges tree = Tree(treeId);
        DropDataOfDeletedInodes(tree, key, key);
        if (CoveringRange(tree, key) is not null)
        {
            return;
        }

        Set(tree, ItemOperation.Delete(key));
    }

    public void DeleteRange(ulong treeId, BtrfsKey first, BtrfsKey last)
    {
        TreeChanges tree = Tree(treeId);
        if (CoveringRange(tree, first) is ItemOperation before && before.Key < first)
        {
            // Extend the range that already covers the start instead of overlapping it.
            Remove(tree, before.Key);
            first = before.Key;
            last = before.EndKey > last ? before.EndKey : last;
        }

        foreach (BtrfsKey start in tree.Starts.GetViewBetween(first, last).ToArray())
        {
            ItemOperation op = tree.Ops[start];
            if (op.Kind == ItemOperationKind.DeleteRange && op.EndKey > last)
            {
                last = op.EndKey;
            }

            Remove(tree, start);
        }

        DropDataOfDeletedInodes(tree, first, last);
        Set(tree, ItemOperation.DeleteRange(first, last));
    }

    public void AddData(ulong treeId, DataOperation op)
    {
        Tree(treeId).Data.Add(op);
        DirtyBytes += 17 + op.Data.Length;
    }

    /// <summary>
    /// Forgets the buffered data of every inode whose INODE_ITEM falls in <c>[first, last]</c>: an
    /// inode this batch deletes has nothing left to write, and the server refuses a write to an
    /// inode that does not exist once the batch's items are applied (a file created, written and
    /// removed between two commits — an editor's or a compiler's temporary file).
    /// </summary>
    private void DropDataOfDeletedInodes(TreeChanges tree, BtrfsKey first, BtrfsKey last) =>
        tree.Data.RemoveAll(op =>
        {
            var inodeItem = new BtrfsKey(op.Ino, ItemType.InodeItem, 0);
            bool gone = inodeItem >= first && inodeItem <= last;
            if (gone)
            {
                DirtyBytes -= 17 + op.Data.Length;
            }

            return gone;
        });

    /// <summary>True when <paramref name="key"/> has a pending operation (put, delete, or inside a delete-range).</summary>
    public bool Touches(ulong treeId, BtrfsKey key) =>
        _trees.TryGetValue(treeId, out TreeChanges? tree) && (tree.Ops.ContainsKey(key) || CoveringRange(tree, key) is not null);

    /// <summary>The pending data operations of <paramref name="ino"/> in tree <paramref name="treeId"/>, in order.</summary>
    public IEnumerable<DataOperation> DataFor(ulong treeId, ulong ino)
    {
        if (_trees.TryGetValue(treeId, out TreeChanges? tree))
        {
            foreach (DataOperation op in tree.Data)
            {
                if (op.Ino == ino)
                {
                    yield return op;
                }
            }
        }
    }

    /// <summary>The item operations of a tree in key order, as COMMIT carries them.</summary>
    public IReadOnlyList<ItemOperation> ItemsFor(ulong treeId) =>
        _trees.TryGetValue(treeId, out TreeChanges? tree) ? [.. tree.Ops.Values] : [];

    public IReadOnlyList<DataOperation> DataOperationsFor(ulong treeId) =>
        _trees.TryGetValue(treeId, out TreeChanges? tree) ? [.. tree.Data] : [];

    private static ItemOperation? CoveringRange(TreeChanges tree, BtrfsKey key)
    {
        if (tree.Starts.Count == 0 || tree.Starts.Min > key)
        {
            return null;
        }

        BtrfsKey start = tree.Starts.GetViewBetween(tree.Starts.Min, key).Max;
        ItemOperation op = tree.Ops[start];
        return op.Kind == ItemOperationKind.DeleteRange && op.EndKey >= key ? op : null;
    }

    private void SplitAround(TreeChanges tree, BtrfsKey key)
    {
        if (CoveringRange(tree, key) is not ItemOperation range)
        {
            return;
        }

        Remove(tree, range.Key);
        if (range.Key < key && KeySteps.TryPrevious(key, out BtrfsKey before))
        {
            Set(tree, ItemOperation.DeleteRange(range.Key, before));
        }

        if (range.EndKey > key && KeySteps.TryNext(key, out BtrfsKey after))
        {
            Set(tree, ItemOperation.DeleteRange(after, range.EndKey));
        }
    }

    private void Set(TreeChanges tree, ItemOperation op)
    {
        Remove(tree, op.Key);
        tree.Ops[op.Key] = op;
        tree.Starts.Add(op.Key);
        DirtyBytes += Cost(op);
    }

    private void Remove(TreeChanges tree, BtrfsKey key)
    {
        if (tree.Ops.Remove(key, out ItemOperation old))
        {
            tree.Starts.Remove(key);
            DirtyBytes -= Cost(old);
        }
    }

    private static long Cost(ItemOperation op) => 1 + 17 + op.Value.Length + (op.Kind == ItemOperationKind.DeleteRange ? 17 : 0);

    private TreeChanges Tree(ulong treeId)
    {
        if (!_trees.TryGetValue(treeId, out TreeChanges? tree))
        {
            tree = new TreeChanges();
            _trees.Add(treeId, tree);
        }

        return tree;
    }

    private sealed class TreeChanges
    {
        public SortedDictionary<BtrfsKey, ItemOperation> Ops { get; } = [];

        public SortedSet<BtrfsKey> Starts { get; } = [];

        public List<DataOperation> Data { get; } = [];
    }
}

/// <summary>
/// Replays buffered data operations over bytes read from the server, so a read sees the client's
/// own writes, truncates and punches before they are committed.
/// </summary>
public static class DataOverlay
{
    /// <summary>
    /// Applies <paramref name="ops"/> (in order) to <paramref name="buffer"/>, which holds file bytes
    /// <c>[offset, offset + buffer.Length)</c> as the server has them.
    /// </summary>
    public static void Apply(Span<byte> buffer, ulong offset, IEnumerable<DataOperation> ops)
    {
        ulong end = offset + (ulong)buffer.Length;
        foreach (DataOperation op in ops)
        {
            (ulong from, ulong to) = op.Kind switch
            {
                DataOperationKind.Write => (op.Offset, op.Offset + op.Length),
                DataOperationKind.Punch => (op.Offset, op.Offset + op.Length),
                _ => (op.Offset, ulong.MaxValue),
            };
            ulong a = Math.Max(from, offset);
            ulong b = Math.Min(to, end);
            if (a >= b)
            {
                continue;
            }

            Span<byte> target = buffer.Slice((int)(a - offset), (int)(b - a));
            if (op.Kind == DataOperationKind.Write)
            {
                op.Data.Span.Slice((int)(a - op.Offset), (int)(b - a)).CopyTo(target);
            }
            else
            {
                target.Clear();
            }
        }
    }
}
