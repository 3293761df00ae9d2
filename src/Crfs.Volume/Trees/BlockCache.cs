// SPDX-License-Identifier: MIT
namespace Crfs.Volume.Trees;

/// <summary>
/// A bounded least-recently-used cache of validated tree blocks, keyed by logical address.
/// Only blocks that passed the intrinsic checks go in; what a parent expects of them is checked
/// again on every hit. One lock guards the map and the recency list; the work under it is a few
/// pointer moves, far less than the I/O and validation a miss costs.
/// </summary>
public sealed class BlockCache
{
    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, LinkedListNode<TreeBlock>> _map;
    private readonly LinkedList<TreeBlock> _lru = new(); // most recent first

    public BlockCache(int capacity)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        Capacity = capacity;
        _map = new Dictionary<ulong, LinkedListNode<TreeBlock>>(Math.Min(capacity, 1 << 16));
    }

    public int Capacity { get; }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _map.Count;
            }
        }
    }

    public bool TryGet(ulong logical, out TreeBlock block)
    {
        lock (_lock)
        {
            if (_map.TryGetValue(logical, out LinkedListNode<TreeBlock>? node))
            {
                if (node != _lru.First)
                {
                    _lru.Remove(node);
                    _lru.AddFirst(node);
                }

                block = node.Value;
                return true;
            }
        }

        block = null!;
        return false;
    }

    public void Add(TreeBlock block)
    {
        lock (_lock)
        {
            if (_map.TryGetValue(block.Logical, out LinkedListNode<TreeBlock>? existing))
            {
                _lru.Remove(existing);
            }

            _map[block.Logical] = _lru.AddFirst(block);
            while (_map.Count > Capacity)
            {
                LinkedListNode<TreeBlock> last = _lru.Last!;
                _lru.RemoveLast();
                _map.Remove(last.Value.Logical);
            }
        }
    }

    public void Remove(ulong logical)
    {
        lock (_lock)
        {
            if (_map.Remove(logical, out LinkedListNode<TreeBlock>? node))
            {
                _lru.Remove(node);
            }
        }
    }
}
