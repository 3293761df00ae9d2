// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Protocol.Messages;

namespace Crfs.Client.Cache;

/// <summary>What the cache knows about one key.</summary>
public enum CacheLookup : byte
{
    /// <summary>The key lies outside every range known completely: ask the server.</summary>
    Unknown = 0,

    /// <summary>The item is cached.</summary>
    Present = 1,

    /// <summary>The key lies in a range known completely and has no item: a cached negative.</summary>
    Absent = 2,
}

/// <summary>
/// The client's copy of btrfs items, per tree, keyed by <see cref="BtrfsKey"/>, together with the
/// key ranges it holds <em>completely</em>.
/// <para>
/// Completeness is what makes the cache fast: an ITEM_READ reply describes a span <c>[lo, hi]</c>
/// entirely, a fresh inode number's key range is empty by construction, and a range this client
/// deleted is empty. Inside such a range a missing key is a cached negative, so looking up a name
/// in a directory the client just made costs no round trip. Outside them the cache answers
/// <see cref="CacheLookup.Unknown"/> and the caller reads from the server.
/// </para>
/// <para>
/// The cache holds only what a held lock covers: the session clips every span to the lock range
/// before it gets here and calls <see cref="Invalidate"/> when a lock is given up. Dirty items
/// are written through (the open transaction records the same change for the wire), so a read
/// never has to merge two sources; the session keeps a fill from the server from overwriting a
/// key that is dirty. Not thread-safe: the session guards it with its own lock.
/// </para>
/// </summary>
public sealed class ItemCache
{
    private readonly Dictionary<ulong, TreeCache> _trees = [];

    /// <summary>Items cached over all trees.</summary>
    public int Count { get; private set; }

    public CacheLookup Lookup(ulong treeId, BtrfsKey key, out byte[]? value)
    {
        value = null;
        if (!_trees.TryGetValue(treeId, out TreeCache? tree))
        {
            return CacheLookup.Unknown;
        }

        if (tree.Values.TryGetValue(key, out value))
        {
            return CacheLookup.Present;
        }

        return tree.IsComplete(key, key) ? CacheLookup.Absent : CacheLookup.Unknown;
    }

    /// <summary>True when every key of <c>[first, last]</c> is known (present or absent).</summary>
    public bool IsComplete(ulong treeId, BtrfsKey first, BtrfsKey last) =>
        _trees.TryGetValue(treeId, out TreeCache? tree) && tree.IsComplete(first, last);

    /// <summary>
    /// The first key of <c>[first, last]</c> not covered by a complete range, or false when the
    /// whole span is complete.
    /// </summary>
    public bool TryFindIncomplete(ulong treeId, BtrfsKey first, BtrfsKey last, out BtrfsKey key)
    {
        if (!_trees.TryGetValue(treeId, out TreeCache? tree))
        {
            key = first;
            return true;
        }

        return tree.TryFindIncomplete(first, last, out key);
    }

    /// <summary>
    /// Takes in a span read from the server: every cached item of <c>[low, high]</c> is replaced
    /// by <paramref name="items"/>, except keys <paramref name="isPinned"/> says are dirty (the
    /// client's version is newer), and the span becomes complete.
    /// </summary>
    public void Fill(ulong treeId, BtrfsKey low, BtrfsKey high, IEnumerable<WireItem> items, Func<BtrfsKey, bool> isPinned)
    {
        TreeCache tree = Tree(treeId);
        foreach (BtrfsKey key in tree.Keys.GetViewBetween(low, high).ToArray())
        {
            if (!isPinned(key))
            {
                tree.Remove(key);
                Count--;
            }
        }

        foreach (WireItem item in items)
        {
            if (item.Key >= low && item.Key <= high && !isPinned(item.Key))
            {
                if (tree.Set(item.Key, item.Value.ToArray()))
                {
                    Count++;
                }
            }
        }

        tree.MarkComplete(low, high);
    }

    /// <summary>Stores an item (written through by the transaction, or returned by a COMMIT).</summary>
    public void Put(ulong treeId, BtrfsKey key, byte[] value)
    {
        if (Tree(treeId).Set(key, value))
        {
            Count++;
        }
    }

    /// <summary>Removes an item; the key is then known absent.</summary>
    public void Delete(ulong treeId, BtrfsKey key)
    {
        TreeCache tree = Tree(treeId);
        if (tree.Remove(key))
        {
            Count--;
        }

        tree.MarkComplete(key, key);
    }

    /// <summary>Removes every item of <c>[first, last]</c>; the span is then known empty.</summary>
    public void DeleteRange(ulong treeId, BtrfsKey first, BtrfsKey last)
    {
        TreeCache tree = Tree(treeId);
        foreach (BtrfsKey key in tree.Keys.GetViewBetween(first, last).ToArray())
        {
            tree.Remove(key);
            Count--;
        }

        tree.MarkComplete(first, last);
    }

    /// <summary>Records that <c>[first, last]</c> holds no item not already cached (a fresh inode's range).</summary>
    public void MarkComplete(ulong treeId, BtrfsKey first, BtrfsKey last) => Tree(treeId).MarkComplete(first, last);

    /// <summary>The cached items of <c>[first, last]</c> in key order (complete or not: check first).</summary>
    public List<KeyValuePair<BtrfsKey, byte[]>> Enumerate(ulong treeId, BtrfsKey first, BtrfsKey last)
    {
        var list = new List<KeyValuePair<BtrfsKey, byte[]>>();
        if (_trees.TryGetValue(treeId, out TreeCache? tree))
        {
            foreach (BtrfsKey key in tree.Keys.GetViewBetween(first, last))
            {
                list.Add(new(key, tree.Values[key]));
            }
        }

        return list;
    }

    /// <summary>The greatest cached key of <c>[first, last]</c>, or null.</summary>
    public BtrfsKey? LastKey(ulong treeId, BtrfsKey first, BtrfsKey last)
    {
        if (!_trees.TryGetValue(treeId, out TreeCache? tree))
        {
            return null;
        }

        SortedSet<BtrfsKey> view = tree.Keys.GetViewBetween(first, last);
        return view.Count == 0 ? null : view.Max;
    }

    /// <summary>Forgets every item and every completeness claim inside <paramref name="range"/>.</summary>
    public void Invalidate(KeyRange range)
    {
        if (!_trees.TryGetValue(range.TreeId, out TreeCache? tree))
        {
            return;
        }

        foreach (BtrfsKey key in tree.Keys.GetViewBetween(range.Start, range.End).ToArray())
        {
            tree.Remove(key);
            Count--;
        }

        tree.ForgetComplete(range.Start, range.End);
    }

    /// <summary>Forgets everything (a new session after eviction).</summary>
    public void Clear()
    {
        _trees.Clear();
        Count = 0;
    }

    private TreeCache Tree(ulong treeId)
    {
        if (!_trees.TryGetValue(treeId, out TreeCache? tree))
        {
            tree = new TreeCache();
            _trees.Add(treeId, tree);
        }

        return tree;
    }

    /// <summary>One tree: items, and disjoint, non-adjacent complete spans ordered by their first key.</summary>
    private sealed class TreeCache
    {
        public SortedSet<BtrfsKey> Keys { get; } = [];

        public Dictionary<BtrfsKey, byte[]> Values { get; } = [];

        // First key -> last key of each complete span.
        private readonly SortedDictionary<BtrfsKey, BtrfsKey> _complete = [];
        private readonly SortedSet<BtrfsKey> _completeStarts = [];

        public bool Set(BtrfsKey key, byte[] value)
        {
            bool added = Keys.Add(key);
            Values[key] = value;
            return added;
        }

        public bool Remove(BtrfsKey key)
        {
            if (!Keys.Remove(key))
            {
                return false;
            }

            Values.Remove(key);
            return true;
        }

        public bool IsComplete(BtrfsKey first, BtrfsKey last) => !TryFindIncomplete(first, last, out _);

        public bool TryFindIncomplete(BtrfsKey first, BtrfsKey last, out BtrfsKey key)
        {
            key = first;
            while (true)
            {
                if (!TryCovering(key, out BtrfsKey spanLast))
                {
                    return true;
                }

                if (spanLast >= last || !KeySteps.TryNext(spanLast, out key))
                {
                    return false;
                }
            }
        }

        public void MarkComplete(BtrfsKey first, BtrfsKey last)
        {
            // Absorb every span that overlaps or touches [first, last].
            BtrfsKey lookFrom = KeySteps.TryPrevious(first, out BtrfsKey before) ? before : first;
            if (TryStartAtOrBefore(lookFrom, out BtrfsKey s) && _complete[s] >= lookFrom)
            {
                first = s < first ? s : first;
                last = _complete[s] > last ? _complete[s] : last;
                Drop(s);
            }

            BtrfsKey lookTo = KeySteps.TryNext(last, out BtrfsKey after) ? after : last;
            foreach (BtrfsKey start in _completeStarts.GetViewBetween(first, lookTo).ToArray())
            {
                if (_complete[start] > last)
                {
                    last = _complete[start];
                }

                Drop(start);
            }

            _complete[first] = last;
            _completeStarts.Add(first);
        }

        public void ForgetComplete(BtrfsKey first, BtrfsKey last)
        {
            if (TryStartAtOrBefore(first, out BtrfsKey s) && s < first && _complete[s] >= first)
            {
                BtrfsKey end = _complete[s];
                KeySteps.TryPrevious(first, out BtrfsKey cut);
                _complete[s] = cut;
                if (end > last && KeySteps.TryNext(last, out BtrfsKey resume))
                {
                    _complete[resume] = end;
                    _completeStarts.Add(resume);
                    return;
                }
            }

            foreach (BtrfsKey start in _completeStarts.GetViewBetween(first, last).ToArray())
            {
                BtrfsKey end = _complete[start];
                Drop(start);
                if (end > last && KeySteps.TryNext(last, out BtrfsKey resume))
                {
                    _complete[resume] = end;
                    _completeStarts.Add(resume);
                }
            }
        }

        private bool TryCovering(BtrfsKey key, out BtrfsKey last)
        {
            if (TryStartAtOrBefore(key, out BtrfsKey s) && _complete[s] >= key)
            {
                last = _complete[s];
                return true;
            }

            last = default;
            return false;
        }

        private bool TryStartAtOrBefore(BtrfsKey key, out BtrfsKey start)
        {
            start = default;
            if (_completeStarts.Count == 0 || _completeStarts.Min > key)
            {
                return false;
            }

            start = _completeStarts.GetViewBetween(_completeStarts.Min, key).Max;
            return true;
        }

        private void Drop(BtrfsKey start)
        {
            _complete.Remove(start);
            _completeStarts.Remove(start);
        }
    }
}
