// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Protocol.Messages;
using Crfs.Volume.Transactions;

namespace Crfs.Server.Items;

/// <summary>
/// ITEM_READ: a run of items around a key, with the span <c>[Low, High]</c> it describes completely.
/// <para>
/// Reads go through the running transaction, so a session sees what it committed itself even
/// before that commit is durable. That never shows another session's undurable state, because
/// every span is clipped to a lock range the reader holds: a range another session wrote was
/// revoked from it, and a revoke is answered only after the writer's commit is durable. The
/// caller checks the lock before calling.
/// </para>
/// <para>
/// The span: when every item of the lock range fits in <c>max_bytes</c>, the whole range (the
/// ideal answer: one read makes the group complete in the client's cache). Otherwise a window
/// that starts at the requested key and runs forward until the budget is spent; its high end is
/// just before the first item left out, or the lock's end when nothing was. The key's own item is
/// always included, whatever its size. Leaf boundaries play no part: the writer's transaction
/// does not expose them, and a window in key order serves the same readahead purpose.
/// </para>
/// </summary>
internal static class ItemReader
{
    /// <summary>Per-item overhead on the wire (key and length), counted against the budget.</summary>
    private const int ItemOverhead = 17 + 4;

    public static LeafGroup Read(WriteTransaction tx, KeyRange lockRange, BtrfsKey key, uint maxBytes)
    {
        LeafGroup? whole = Window(tx, lockRange, lockRange.Start, maxBytes, mustInclude: key);
        return whole ?? Window(tx, lockRange, key, maxBytes, mustInclude: key)!;
    }

    /// <summary>
    /// Items from <paramref name="from"/> forward within the lock range while the budget lasts.
    /// Null when the window ends before <paramref name="mustInclude"/> (only possible when the
    /// window does not start at it).
    /// </summary>
    private static LeafGroup? Window(WriteTransaction tx, KeyRange lockRange, BtrfsKey from, uint maxBytes, BtrfsKey mustInclude)
    {
        var items = new List<WireItem>();
        long budget = maxBytes;
        BtrfsKey next = from;
        while (true)
        {
            if (!tx.TryFindFirst(lockRange.TreeId, next, out BtrfsKey found, out byte[] data) || found > lockRange.End)
            {
                return new LeafGroup(from, lockRange.End, items);
            }

            long cost = ItemOverhead + data.Length;
            bool first = items.Count == 0 && from == mustInclude;
            if (cost > budget && !first)
            {
                BtrfsKey high = Before(found);
                return high < mustInclude ? null : new LeafGroup(from, high, items);
            }

            items.Add(new WireItem(found, data));
            budget -= cost;
            if (found == lockRange.End)
            {
                return new LeafGroup(from, lockRange.End, items);
            }

            next = found.Next();
        }
    }

    /// <summary>The key just before <paramref name="key"/> (the key is above the lock start, so it has one).</summary>
    private static BtrfsKey Before(BtrfsKey key)
    {
        if (key.Offset > 0)
        {
            return key with { Offset = key.Offset - 1 };
        }

        if (key.Type > 0)
        {
            return new BtrfsKey(key.ObjectId, key.Type - 1, ulong.MaxValue);
        }

        return new BtrfsKey(key.ObjectId - 1, (ItemType)byte.MaxValue, ulong.MaxValue);
    }
}
