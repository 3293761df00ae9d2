// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Format.Checksums;

namespace Crfs.Volume.Transactions;

/// <summary>
/// A tree block decoded for editing: keys plus item payloads (leaf) or child pointers (node).
/// </summary>
/// <remarks>
/// The writer edits blocks in this decoded form and serialises them only at commit, so splits,
/// merges and item resizes are list operations rather than byte shuffles inside a leaf. A node
/// is either <em>clean</em> (a committed block, shared and never changed) or <em>dirty</em>
/// (allocated in the running transaction, owned by it, freely edited). Item payload arrays are
/// never changed in place, only replaced, so a dirty copy of a clean node may share them.
/// </remarks>
internal sealed class TreeNode
{
    private TreeNode(ulong logical, int level, ulong owner, ulong generation)
    {
        Logical = logical;
        Level = level;
        Owner = owner;
        Generation = generation;
    }

    public ulong Logical { get; set; }

    public int Level { get; }

    public ulong Owner { get; }

    public ulong Generation { get; set; }

    public bool IsLeaf => Level == 0;

    public bool Dirty { get; set; }

    public List<BtrfsKey> Keys { get; } = [];

    /// <summary>Leaf payloads, parallel to <see cref="Keys"/>.</summary>
    public List<byte[]> Items { get; } = [];

    /// <summary>Node child addresses, parallel to <see cref="Keys"/>.</summary>
    public List<ulong> Pointers { get; } = [];

    /// <summary>Node child generations, parallel to <see cref="Keys"/>.</summary>
    public List<ulong> Generations { get; } = [];

    /// <summary>Leaf bytes in use: 25 per item header plus the payloads.</summary>
    public int LeafBytes { get; private set; }

    public int Count => Keys.Count;

    public static TreeNode NewLeaf(ulong logical, ulong owner, ulong generation) => new(logical, 0, owner, generation) { Dirty = true };

    public static TreeNode NewNode(ulong logical, int level, ulong owner, ulong generation) => new(logical, level, owner, generation) { Dirty = true };

    /// <summary>Decodes a validated block.</summary>
    public static TreeNode Decode(ulong logical, ReadOnlySpan<byte> block)
    {
        var header = new HeaderView(block);
        var node = new TreeNode(logical, header.Level, header.Owner, header.Generation);
        int n = (int)header.NrItems;
        if (header.Level == 0)
        {
            var leaf = new LeafView(block);
            for (int i = 0; i < n; i++)
            {
                node.AddItem(leaf.Key(i), leaf.ItemData(i).ToArray());
            }
        }
        else
        {
            var view = new NodeView(block);
            for (int i = 0; i < n; i++)
            {
                node.Keys.Add(view.Key(i));
                node.Pointers.Add(view.BlockPtr(i));
                node.Generations.Add(view.Generation(i));
            }
        }

        return node;
    }

    /// <summary>A dirty copy at a new address, for copy-on-write.</summary>
    public TreeNode CopyTo(ulong logical, ulong owner, ulong generation)
    {
        var copy = new TreeNode(logical, Level, owner, generation) { Dirty = true };
        copy.Keys.AddRange(Keys);
        if (IsLeaf)
        {
            copy.Items.AddRange(Items);
            copy.LeafBytes = LeafBytes;
        }
        else
        {
            copy.Pointers.AddRange(Pointers);
            copy.Generations.AddRange(Generations);
        }

        return copy;
    }

    public void AddItem(BtrfsKey key, byte[] data) => InsertItem(Count, key, data);

    public void InsertItem(int slot, BtrfsKey key, byte[] data)
    {
        Keys.Insert(slot, key);
        Items.Insert(slot, data);
        LeafBytes += ItemHeaderLayout.Size + data.Length;
    }

    public void ReplaceItem(int slot, byte[] data)
    {
        LeafBytes += data.Length - Items[slot].Length;
        Items[slot] = data;
    }

    public void RemoveItems(int slot, int count)
    {
        for (int i = slot; i < slot + count; i++)
        {
            LeafBytes -= ItemHeaderLayout.Size + Items[i].Length;
        }

        Keys.RemoveRange(slot, count);
        Items.RemoveRange(slot, count);
    }

    public void InsertPointer(int slot, BtrfsKey key, ulong pointer, ulong generation)
    {
        Keys.Insert(slot, key);
        Pointers.Insert(slot, pointer);
        Generations.Insert(slot, generation);
    }

    public void RemovePointer(int slot)
    {
        Keys.RemoveAt(slot);
        Pointers.RemoveAt(slot);
        Generations.RemoveAt(slot);
    }

    /// <summary>Moves entries <c>[from, Count)</c> to the end of <paramref name="target"/>.</summary>
    public void MoveTailTo(int from, TreeNode target)
    {
        int n = Count - from;
        target.Keys.AddRange(Keys.GetRange(from, n));
        if (IsLeaf)
        {
            for (int i = from; i < Count; i++)
            {
                target.LeafBytes += ItemHeaderLayout.Size + Items[i].Length;
            }

            target.Items.AddRange(Items.GetRange(from, n));
            RemoveItems(from, n);
        }
        else
        {
            target.Pointers.AddRange(Pointers.GetRange(from, n));
            target.Generations.AddRange(Generations.GetRange(from, n));
            Keys.RemoveRange(from, n);
            Pointers.RemoveRange(from, n);
            Generations.RemoveRange(from, n);
        }
    }

    /// <summary>In a leaf: the first slot whose key is at least <paramref name="key"/>.</summary>
    public int LowerBound(BtrfsKey key)
    {
        int lo = 0;
        int hi = Keys.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (Keys[mid] < key)
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

    /// <summary>In a node: the child whose subtree may hold <paramref name="key"/>.</summary>
    public int ChildSlot(BtrfsKey key)
    {
        int slot = LowerBound(key);
        if (slot < Count && Keys[slot] == key)
        {
            return slot;
        }

        return Math.Max(slot - 1, 0);
    }

    /// <summary>
    /// Serialises the node into a full tree block with a final header and checksum.
    /// </summary>
    public void Serialize(Span<byte> block, ReadOnlySpan<byte> fsid, ReadOnlySpan<byte> chunkTreeUuid, ChecksumType csumType)
    {
        block.Clear();
        var header = new HeaderWriter(block);
        fsid.CopyTo(header.Fsid);
        chunkTreeUuid.CopyTo(header.ChunkTreeUuid);
        header.Bytenr = Logical;
        header.SetFlags(TreeBlockFlags.Written);
        header.Generation = Generation;
        header.Owner = Owner;
        header.NrItems = (uint)Count;
        header.Level = (byte)Level;
        if (IsLeaf)
        {
            var leaf = new LeafWriter(block);
            uint end = (uint)TreeBlockGeometry.LeafDataSize(block.Length);
            for (int i = 0; i < Count; i++)
            {
                byte[] data = Items[i];
                end -= (uint)data.Length;
                leaf.SetItemHeader(i, Keys[i], end, (uint)data.Length);
                data.CopyTo(block[(HeaderLayout.Size + (int)end)..]);
            }
        }
        else
        {
            var node = new NodeWriter(block);
            for (int i = 0; i < Count; i++)
            {
                node.SetPointer(i, Keys[i], Pointers[i], Generations[i]);
            }
        }

        BtrfsChecksum.Compute(csumType, block[HeaderLayout.Fsid..], block[..BtrfsChecksum.Size(csumType)]);
    }

    public override string ToString() => $"{(IsLeaf ? "leaf" : "node")} {Logical} level {Level} owner {Owner} generation {Generation} items {Count}";
}
