// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Format.Checksums;
using Crfs.Volume.Allocation;

namespace Crfs.Volume.Transactions;

/// <summary>The commit loop: applying references, block group usage, root items and the free space tree.</summary>
public sealed partial class WriteTransaction
{
    private const int MaxCommitPasses = 64;

    /// <summary>
    /// Brings every derived structure in line with the transaction's changes: runs until a pass
    /// changes nothing. Afterwards the dirty blocks and the allocator describe one consistent
    /// set of trees, ready to be written.
    /// </summary>
    internal void Settle()
    {
        // The superblock generation is the root tree root's header generation: always CoW it.
        TreeRoot rootTree = Root(ObjectIds.RootTree);
        Search(rootTree, BtrfsKey.Min, cow: true);
        rootTree.Changed = true;

        for (int pass = 0; ; pass++)
        {
            if (pass > MaxCommitPasses)
            {
                throw new WriterFaultException($"commit of transaction {Generation} did not converge after {MaxCommitPasses} passes");
            }

            bool work = false;
            if (_dataRefs.Count > 0)
            {
                RunDataRefs();
                work = true;
            }

            if (_metaRefs.Count > 0)
            {
                RunMetaRefs();
                work = true;
            }

            work |= UpdateRootItems();
            work |= UpdateBlockGroups();
            if (!work)
            {
                return;
            }
        }
    }

    internal IReadOnlyCollection<TreeNode> DirtyNodes => _dirty.Values;

    // ---- extent tree: tree blocks ----

    private void RunMetaRefs()
    {
        var batch = _metaRefs.ToList();
        _metaRefs.Clear();
        batch.Sort((a, b) => a.Key.CompareTo(b.Key));
        foreach ((ulong bytenr, MetaRefOp op) in batch)
        {
            if (op.DeleteLevel >= 0)
            {
                var key = new BtrfsKey(bytenr, ItemType.MetadataItem, (ulong)op.DeleteLevel);
                if (!TryGet(ObjectIds.ExtentTree, key, out byte[] item))
                {
                    throw new WriterFaultException($"freeing tree block {bytenr} level {op.DeleteLevel}: no METADATA_ITEM {key} in the extent tree");
                }

                var view = new ExtentItemView(item);
                if (view.Refs != 1 || (view.Flags & ExtentFlags.FullBackref) != 0)
                {
                    throw new WriterFaultException($"tree block {bytenr} has {view.Refs} references (flags 0x{(ulong)view.Flags:x}); shared tree blocks (snapshots) are not supported by the writer");
                }

                Delete(ObjectIds.ExtentTree, key);
            }

            if (op.InsertLevel >= 0)
            {
                Insert(ObjectIds.ExtentTree, new BtrfsKey(bytenr, ItemType.MetadataItem, (ulong)op.InsertLevel), MetadataItem(Generation, op.Owner));
            }
        }
    }

    // ---- extent tree: data ----

    private void RunDataRefs()
    {
        var batch = _dataRefs.Values.OrderBy(r => r.Bytenr).ToList();
        _dataRefs.Clear();
        foreach (DataExtentRefs change in batch)
        {
            ApplyDataRefs(change);
        }
    }

    private void ApplyDataRefs(DataExtentRefs change)
    {
        var refs = new SortedDictionary<(ulong Root, ulong Inode, ulong Offset), long>();
        ulong generation = Generation;
        var itemKey = new BtrfsKey(change.Bytenr, ItemType.ExtentItem, change.Length);
        if (!change.IsNew)
        {
            if (!TryGet(ObjectIds.ExtentTree, itemKey, out byte[] item))
            {
                throw new WriterFaultException($"data extent [{change.Bytenr}, {change.Bytenr + change.Length}) has no EXTENT_ITEM {itemKey}");
            }

            var view = new ExtentItemView(item);
            generation = view.Generation;
            if ((view.Flags & ExtentFlags.Data) == 0)
            {
                throw new WriterFaultException($"extent {itemKey} is not a data extent (flags 0x{(ulong)view.Flags:x})");
            }

            foreach (ExtentInlineRefView r in view.InlineRefs(hasTreeBlockInfo: false))
            {
                if (r.Type != ItemType.ExtentDataRef)
                {
                    throw new WriterFaultException($"data extent {itemKey} has an inline {ItemTypeNames.Name(r.Type)} reference; shared (snapshot) data references are not supported by the writer");
                }

                ExtentDataRefView d = r.DataRef;
                refs[(d.Root, d.ObjectId, d.Offset)] = refs.GetValueOrDefault((d.Root, d.ObjectId, d.Offset)) + d.Count;
            }

            var keyedFrom = new BtrfsKey(change.Bytenr, ItemType.ExtentDataRef, 0);
            var keyedTo = new BtrfsKey(change.Bytenr, ItemType.SharedDataRef, ulong.MaxValue);
            foreach ((BtrfsKey k, byte[] data) in Scan(ObjectIds.ExtentTree, keyedFrom, keyedTo))
            {
                if (k.Type != ItemType.ExtentDataRef)
                {
                    throw new WriterFaultException($"data extent {itemKey} has keyed reference {k}; shared (snapshot) data references are not supported by the writer");
                }

                for (int off = 0; off + ExtentDataRefLayout.Size <= data.Length; off += ExtentDataRefLayout.Size)
                {
                    var d = new ExtentDataRefView(data.AsSpan(off, ExtentDataRefLayout.Size));
                    refs[(d.Root, d.ObjectId, d.Offset)] = refs.GetValueOrDefault((d.Root, d.ObjectId, d.Offset)) + d.Count;
                }
            }

            Delete(ObjectIds.ExtentTree, itemKey);
            DeleteRange(ObjectIds.ExtentTree, keyedFrom, keyedTo);
        }

        foreach (var (k, delta) in change.Deltas)
        {
            long v = refs.GetValueOrDefault(k) + delta;
            if (v < 0)
            {
                throw new WriterFaultException($"data extent {itemKey}: reference (root {k.Root}, inode {k.Inode}, offset {k.Offset}) would drop below zero");
            }

            if (v == 0)
            {
                refs.Remove(k);
            }
            else
            {
                refs[k] = v;
            }
        }

        if (refs.Count == 0)
        {
            DeleteChecksums(change.Bytenr, change.Length);
            if (change.IsNew)
            {
                _writer.Allocator.FreeUncommitted(change.Bytenr, change.Length);
            }
            else
            {
                _writer.Allocator.FreeCommitted(change.Bytenr, change.Length);
            }

            return;
        }

        WriteDataExtentItem(itemKey, generation, refs);
    }

    // Inline references while the item stays small (the kernel's BTRFS_MAX_EXTENT_ITEM_SIZE),
    // ordered by descending hash; the rest as keyed EXTENT_DATA_REF items.
    private void WriteDataExtentItem(BtrfsKey itemKey, ulong generation, SortedDictionary<(ulong Root, ulong Inode, ulong Offset), long> refs)
    {
        int inlineSize = ExtentInlineRefLayout.SizeOf(ItemType.ExtentDataRef);
        int maxItem = (TreeBlockGeometry.LeafDataSize(NodeSize) / 16) - ItemHeaderLayout.Size;
        int maxInline = (maxItem - ExtentItemLayout.Size) / inlineSize;
        var ordered = refs.Select(r => (Hash: DataRefHash.Compute(r.Key.Root, r.Key.Inode, r.Key.Offset), r.Key, Count: r.Value))
            .OrderByDescending(r => r.Hash).ToList();
        var inline = ordered.Count <= maxInline ? ordered : ordered.Take(maxInline).ToList();
        ulong total = 0;
        foreach (var r in ordered)
        {
            total += (ulong)r.Count;
        }

        byte[] item = new byte[ExtentItemLayout.Size + (inline.Count * inlineSize)];
        var w = new ExtentItemWriter(item);
        w.Refs = total;
        w.Generation = generation;
        w.Flags = ExtentFlags.Data;
        for (int i = 0; i < inline.Count; i++)
        {
            var rw = new ExtentInlineRefWriter(item.AsSpan(ExtentItemLayout.Size + (i * inlineSize), inlineSize));
            rw.Type = ItemType.ExtentDataRef;
            ExtentDataRefWriter d = rw.DataRef;
            d.Root = inline[i].Key.Root;
            d.ObjectId = inline[i].Key.Inode;
            d.Offset = inline[i].Key.Offset;
            d.Count = (uint)inline[i].Count;
        }

        Insert(ObjectIds.ExtentTree, itemKey, item);
        foreach (var group in ordered.Skip(inline.Count).GroupBy(r => r.Hash))
        {
            var entries = group.ToList();
            byte[] keyed = new byte[entries.Count * ExtentDataRefLayout.Size];
            for (int i = 0; i < entries.Count; i++)
            {
                var d = new ExtentDataRefWriter(keyed.AsSpan(i * ExtentDataRefLayout.Size, ExtentDataRefLayout.Size));
                d.Root = entries[i].Key.Root;
                d.ObjectId = entries[i].Key.Inode;
                d.Offset = entries[i].Key.Offset;
                d.Count = (uint)entries[i].Count;
            }

            Insert(ObjectIds.ExtentTree, new BtrfsKey(itemKey.ObjectId, ItemType.ExtentDataRef, group.Key), keyed);
        }
    }

    // ---- root items ----

    private bool UpdateRootItems()
    {
        bool any = false;
        foreach (TreeRoot tree in _writer.Roots.Values.ToList())
        {
            if (tree.TreeId is ObjectIds.RootTree or ObjectIds.ChunkTree || !(tree.RootItemStale || (tree.Changed && ObjectIds.IsFsTree(tree.TreeId))))
            {
                continue;
            }

            if (!TryFindFirst(ObjectIds.RootTree, new BtrfsKey(tree.TreeId, ItemType.RootItem, 0), out BtrfsKey key, out byte[] old)
                || key.ObjectId != tree.TreeId || key.Type != ItemType.RootItem)
            {
                throw new WriterFaultException($"tree {tree.TreeId} has no ROOT_ITEM to update");
            }

            byte[] item = new byte[Math.Max(old.Length, RootItemLayout.Size)];
            old.CopyTo(item, 0);
            var w = new RootItemWriter(item);
            w.Bytenr = tree.Bytenr;
            w.Level = (byte)tree.Level;
            w.Generation = tree.Generation;
            w.GenerationV2 = tree.Generation;
            long used = (long)new RootItemView(old).BytesUsed + tree.BytesUsedDelta;
            w.BytesUsed = (ulong)Math.Max(used, _writer.NodeSize);
            if (tree.Changed && ObjectIds.IsFsTree(tree.TreeId))
            {
                w.Ctransid = Generation;
                w.Ctime = VolumeWriter.Now();
                tree.Changed = false;
            }

            tree.BytesUsedDelta = 0;
            tree.RecordedBytenr = tree.Bytenr;
            tree.RecordedGeneration = tree.Generation;
            if (!item.AsSpan().SequenceEqual(old))
            {
                Update(ObjectIds.RootTree, key, item);
                any = true;
            }
        }

        return any;
    }

    // ---- block group items and the free space tree ----

    private bool UpdateBlockGroups()
    {
        bool any = false;
        foreach (BlockGroup g in _writer.Allocator.Groups)
        {
            if (g.Used.Total != g.RecordedUsed)
            {
                var key = new BtrfsKey(g.Start, ItemType.BlockGroupItem, g.Length);
                if (!TryGet(ObjectIds.ExtentTree, key, out byte[] old))
                {
                    throw new WriterFaultException($"{g}: no BLOCK_GROUP_ITEM {key}");
                }

                byte[] item = (byte[])old.Clone();
                new BlockGroupItemWriter(item).Used = g.Used.Total;
                g.RecordedUsed = g.Used.Total;
                Update(ObjectIds.ExtentTree, key, item);
                any = true;
            }
        }

        if (_writer.HasFreeSpaceTree)
        {
            foreach (BlockGroup g in _writer.Allocator.Groups)
            {
                if (g.FreeSpaceDirty)
                {
                    g.FreeSpaceDirty = false;
                    any |= RewriteFreeSpace(g);
                }
            }
        }

        return any;
    }

    // Rewrites one group's free space entries as the complement of its used set, changing only
    // the items that differ (so a second pass over an unchanged group edits nothing).
    private bool RewriteFreeSpace(BlockGroup g)
    {
        var from = new BtrfsKey(g.Start, 0, 0);
        var to = new BtrfsKey(g.End - 1, (ItemType)255, ulong.MaxValue);
        var existing = new Dictionary<BtrfsKey, byte[]>();
        bool wasBitmaps = false;
        foreach ((BtrfsKey k, byte[] d) in Scan(ObjectIds.FreeSpaceTree, from, to))
        {
            if (k.Type is ItemType.FreeSpaceInfo or ItemType.FreeSpaceExtent or ItemType.FreeSpaceBitmap)
            {
                existing[k] = d;
                if (k.Type == ItemType.FreeSpaceInfo)
                {
                    wasBitmaps = (new FreeSpaceInfoView(d).Flags & FreeSpaceInfoFlags.UsingBitmaps) != 0;
                }
            }
        }

        var runs = new List<(ulong Start, ulong End)>();
        ulong cursor = g.Start;
        foreach ((ulong s, ulong e) in g.Used.Intervals)
        {
            if (s > cursor)
            {
                runs.Add((cursor, s));
            }

            cursor = e;
        }

        if (cursor < g.End)
        {
            runs.Add((cursor, g.End));
        }

        ulong bitmapSpan = (ulong)SectorSize * 8 * 256; // one 256-byte bitmap item: 8 MiB of 4 KiB sectors
        long high = (long)((g.Length + bitmapSpan - 1) / bitmapSpan * (25 + 256) / 25);
        bool useBitmaps = wasBitmaps ? runs.Count >= high - 100 && runs.Count > 0 : runs.Count > high;

        var desired = new SortedDictionary<BtrfsKey, byte[]>();
        byte[] info = new byte[FreeSpaceInfoLayout.Size];
        var iw = new FreeSpaceInfoWriter(info);
        iw.ExtentCount = (uint)runs.Count;
        iw.Flags = useBitmaps ? FreeSpaceInfoFlags.UsingBitmaps : FreeSpaceInfoFlags.None;
        desired[new BtrfsKey(g.Start, ItemType.FreeSpaceInfo, g.Length)] = info;
        if (useBitmaps)
        {
            for (ulong start = g.Start; start < g.End; start += bitmapSpan)
            {
                ulong len = Math.Min(bitmapSpan, g.End - start);
                ulong sectors = len / (ulong)SectorSize;
                byte[] bits = new byte[(sectors + 7) / 8];
                foreach ((ulong s, ulong e) in runs)
                {
                    ulong a = Math.Max(s, start);
                    ulong b = Math.Min(e, start + len);
                    for (ulong x = a; x < b; x += (ulong)SectorSize)
                    {
                        ulong bit = (x - start) / (ulong)SectorSize;
                        bits[bit / 8] |= (byte)(1 << (int)(bit % 8));
                    }
                }

                desired[new BtrfsKey(start, ItemType.FreeSpaceBitmap, len)] = bits;
            }
        }
        else
        {
            foreach ((ulong s, ulong e) in runs)
            {
                desired[new BtrfsKey(s, ItemType.FreeSpaceExtent, e - s)] = [];
            }
        }

        bool changed = false;
        foreach ((BtrfsKey k, byte[] _) in existing)
        {
            if (!desired.ContainsKey(k))
            {
                Delete(ObjectIds.FreeSpaceTree, k);
                changed = true;
            }
        }

        foreach ((BtrfsKey k, byte[] d) in desired)
        {
            if (!existing.TryGetValue(k, out byte[]? old))
            {
                Insert(ObjectIds.FreeSpaceTree, k, d);
                changed = true;
            }
            else if (!old.AsSpan().SequenceEqual(d))
            {
                Update(ObjectIds.FreeSpaceTree, k, d);
                changed = true;
            }
        }

        return changed;
    }

    // ---- checksum tree ----

    /// <summary>Inserts checksums for data just written at <paramref name="logical"/> (sector-aligned, whole sectors).</summary>
    public void InsertChecksums(ulong logical, ReadOnlySpan<byte> data)
    {
        int sector = SectorSize;
        int csize = ChecksumSize;
        int sectors = data.Length / sector;
        int perItem = Math.Max(1, (TreeBlockGeometry.LeafDataSize(NodeSize) / 4) / csize);
        for (int first = 0; first < sectors; first += perItem)
        {
            int n = Math.Min(perItem, sectors - first);
            byte[] item = new byte[n * csize];
            for (int i = 0; i < n; i++)
            {
                BtrfsChecksum.Compute(_writer.ChecksumType, data.Slice((first + i) * sector, sector), item.AsSpan(i * csize, csize));
            }

            Insert(ObjectIds.CsumTree, new BtrfsKey(ObjectIds.ExtentCsum, ItemType.ExtentCsum, logical + ((ulong)first * (ulong)sector)), item);
        }
    }

    /// <summary>Deletes the checksums of <c>[logical, logical + length)</c>, trimming items that straddle the edges.</summary>
    public void DeleteChecksums(ulong logical, ulong length)
    {
        ulong end = logical + length;
        ulong sector = (ulong)SectorSize;
        int csize = ChecksumSize;
        var overlapping = new List<(BtrfsKey Key, byte[] Data)>();
        if (TryFindLast(ObjectIds.CsumTree, new BtrfsKey(ObjectIds.ExtentCsum, ItemType.ExtentCsum, logical), out BtrfsKey k0, out byte[] d0)
            && k0.ObjectId == ObjectIds.ExtentCsum && k0.Type == ItemType.ExtentCsum && k0.Offset < logical
            && k0.Offset + ((ulong)(d0.Length / csize) * sector) > logical)
        {
            overlapping.Add((k0, d0));
        }

        if (end > logical)
        {
            overlapping.AddRange(Scan(ObjectIds.CsumTree,
                new BtrfsKey(ObjectIds.ExtentCsum, ItemType.ExtentCsum, logical),
                new BtrfsKey(ObjectIds.ExtentCsum, ItemType.ExtentCsum, end - 1)));
        }

        foreach ((BtrfsKey key, byte[] data) in overlapping)
        {
            ulong s = key.Offset;
            ulong e = s + ((ulong)(data.Length / csize) * sector);
            Delete(ObjectIds.CsumTree, key);
            if (s < logical)
            {
                int keep = (int)((logical - s) / sector) * csize;
                Insert(ObjectIds.CsumTree, key, data[..keep]);
            }

            if (e > end)
            {
                int skip = (int)((end - s) / sector) * csize;
                Insert(ObjectIds.CsumTree, new BtrfsKey(ObjectIds.ExtentCsum, ItemType.ExtentCsum, end), data[skip..]);
            }
        }
    }
}
