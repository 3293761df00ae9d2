// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using Crfs.Format.Btrfs;
using Crfs.Volume.Trees;

namespace Crfs.Cli.Commands;

/// <summary>
/// Prints tree blocks and items in the layout of btrfs-progs' <c>print-tree.c</c>, so that the
/// output of <c>crfs inspect dump-tree</c> reads (and mostly diffs) like
/// <c>btrfs inspect-internal dump-tree</c>. Every item printed comes from a validated block, so
/// the views may be used without further checks.
/// </summary>
internal static class ItemPrinter
{
    public static string FormatObjectId(ulong objectId, ItemType type)
    {
        if (type is ItemType.UuidKeySubvol or ItemType.UuidKeyReceivedSubvol)
        {
            return $"0x{objectId:x16}";
        }

        return ObjectIds.Name(objectId, type) ?? objectId.ToString(CultureInfo.InvariantCulture);
    }

    /// <summary>Formats a key as btrfs-progs does: <c>(256 INODE_ITEM 0)</c>, <c>(FS_TREE ROOT_ITEM 0)</c>.</summary>
    public static string FormatKey(BtrfsKey key)
    {
        string offset = key.Type is ItemType.UuidKeySubvol or ItemType.UuidKeyReceivedSubvol
            ? $"0x{key.Offset:x16}"
            : key.Offset.ToString(CultureInfo.InvariantCulture);
        return $"({FormatObjectId(key.ObjectId, key.Type)} {ItemTypeNames.Name(key.Type)} {offset})";
    }

    public static string FormatOwner(ulong owner) => ObjectIds.Name(owner, ItemType.RootItem) ?? owner.ToString(CultureInfo.InvariantCulture);

    public static void PrintBlockHeader(TextWriter w, TreeBlock block, int nodeSize)
    {
        HeaderView h = new(block.Bytes);
        if (block.IsLeaf)
        {
            w.WriteLine($"leaf {block.Logical} items {block.NrItems} free space {block.Leaf.FreeSpace} generation {block.Generation} owner {FormatOwner(block.Owner)}");
            w.WriteLine($"leaf {block.Logical} flags 0x{(ulong)h.Flags:x}({FlagNames(h.Flags)}) backref revision {h.BackrefRevision}");
        }
        else
        {
            int free = TreeBlockGeometry.MaxKeyPointers(nodeSize) - block.NrItems;
            w.WriteLine($"node {block.Logical} level {block.Level} items {block.NrItems} free space {free} generation {block.Generation} owner {FormatOwner(block.Owner)}");
            w.WriteLine($"node {block.Logical} flags 0x{(ulong)h.Flags:x}({FlagNames(h.Flags)}) backref revision {h.BackrefRevision}");
        }

        w.WriteLine($"fs uuid {UuidFormat.ToString(h.Fsid)}");
        w.WriteLine($"chunk uuid {UuidFormat.ToString(h.ChunkTreeUuid)}");
    }

    public static void PrintNodePointers(TextWriter w, TreeBlock node)
    {
        for (int slot = 0; slot < node.NrItems; slot++)
        {
            w.WriteLine($"\tkey {FormatKey(node.Key(slot))} block {node.ChildPointer(slot)} gen {node.ChildGeneration(slot)}");
        }
    }

    public static void PrintLeafItems(TextWriter w, TreeBlock leaf, int csumSize, int sectorSize)
    {
        LeafView view = leaf.Leaf;
        for (int slot = 0; slot < leaf.NrItems; slot++)
        {
            BtrfsKey key = view.Key(slot);
            w.WriteLine($"\titem {slot} key {FormatKey(key)} itemoff {view.ItemOffset(slot)} itemsize {view.ItemSize(slot)}");
            PrintItem(w, key, view.ItemData(slot), csumSize, sectorSize);
        }
    }

    public static void PrintItem(TextWriter w, BtrfsKey key, ReadOnlySpan<byte> data, int csumSize, int sectorSize)
    {
        switch (key.Type)
        {
            case ItemType.InodeItem:
                PrintInode(w, new InodeItemView(data), "\t\t");
                break;
            case ItemType.InodeRef:
                foreach (InodeRefView r in new InodeRefEnumerator(data))
                {
                    w.WriteLine($"\t\tindex {r.Index} namelen {r.NameLength} name: {Name(r.Name)}");
                }

                break;
            case ItemType.InodeExtref:
                foreach (InodeExtrefView r in new InodeExtrefEnumerator(data))
                {
                    w.WriteLine($"\t\tindex {r.Index} parent {r.ParentObjectId} namelen {r.NameLength} name: {Name(r.Name)}");
                }

                break;
            case ItemType.DirItem:
            case ItemType.DirIndex:
            case ItemType.XattrItem:
                foreach (DirItemView e in new DirItemEnumerator(data))
                {
                    w.WriteLine($"\t\tlocation key {FormatKey(e.Location)} type {DirTypeName(e.Type)}");
                    w.WriteLine($"\t\ttransid {e.Transid} data_len {e.DataLength} name_len {e.NameLength}");
                    w.WriteLine($"\t\tname: {Name(e.Name)}");
                    if (e.DataLength > 0)
                    {
                        w.WriteLine($"\t\tdata {Name(e.Data)}");
                    }
                }

                break;
            case ItemType.ExtentData:
                PrintFileExtent(w, new FileExtentItemView(data));
                break;
            case ItemType.ExtentCsum:
                ulong length = (ulong)(data.Length / csumSize) * (ulong)sectorSize;
                w.WriteLine($"\t\trange start {key.Offset} end {key.Offset + length} length {length}");
                break;
            case ItemType.RootItem:
                PrintRootItem(w, new RootItemView(data));
                break;
            case ItemType.RootRef:
            case ItemType.RootBackref:
                var rr = new RootRefView(data);
                string kind = key.Type == ItemType.RootRef ? "ref" : "backref";
                w.WriteLine($"\t\troot {kind} key dirid {rr.DirId} sequence {rr.Sequence} name {Name(rr.Name)}");
                break;
            case ItemType.ChunkItem:
                PrintChunk(w, new ChunkItemView(data), "\t\t");
                break;
            case ItemType.DevItem:
                PrintDevItem(w, new DevItemView(data));
                break;
            case ItemType.DevExtent:
                var de = new DevExtentView(data);
                w.WriteLine($"\t\tdev extent chunk_tree {de.ChunkTree}");
                w.WriteLine($"\t\tchunk_objectid {de.ChunkObjectId} chunk_offset {de.ChunkOffset} length {de.Length}");
                w.WriteLine($"\t\tchunk_tree_uuid {UuidFormat.ToString(de.ChunkTreeUuid)}");
                break;
            case ItemType.BlockGroupItem:
                var bg = new BlockGroupItemView(data);
                w.WriteLine($"\t\tblock group used {bg.Used} chunk_objectid {bg.ChunkObjectId} flags {BlockGroupNames.Format(bg.Flags)}");
                break;
            case ItemType.ExtentItem:
            case ItemType.MetadataItem:
                PrintExtentItem(w, key, data);
                break;
            case ItemType.TreeBlockRef:
                w.WriteLine("\t\ttree block backref");
                break;
            case ItemType.SharedBlockRef:
                w.WriteLine("\t\tshared block backref");
                break;
            case ItemType.ExtentDataRef:
                for (int pos = 0; pos + ExtentDataRefLayout.Size <= data.Length; pos += ExtentDataRefLayout.Size)
                {
                    var r = new ExtentDataRefView(data[pos..]);
                    w.WriteLine($"\t\textent data backref root {FormatOwner(r.Root)} objectid {r.ObjectId} offset {r.Offset} count {r.Count}");
                }

                break;
            case ItemType.SharedDataRef:
                w.WriteLine($"\t\tshared data backref count {new SharedDataRefView(data).Count}");
                break;
            case ItemType.FreeSpaceInfo:
                var fsi = new FreeSpaceInfoView(data);
                w.WriteLine($"\t\tfree space info extent count {fsi.ExtentCount} flags {(uint)fsi.Flags}");
                break;
            case ItemType.FreeSpaceExtent:
                w.WriteLine("\t\tfree space extent");
                break;
            case ItemType.FreeSpaceBitmap:
                w.WriteLine("\t\tfree space bitmap");
                break;
            case ItemType.OrphanItem:
                w.WriteLine("\t\torphan item");
                break;
            case ItemType.UuidKeySubvol:
            case ItemType.UuidKeyReceivedSubvol:
                for (int pos = 0; pos + 8 <= data.Length; pos += 8)
                {
                    w.WriteLine($"\t\tsubvol_id {BinaryPrimitives.ReadUInt64LittleEndian(data[pos..])}");
                }

                break;
            case ItemType.PersistentItem when key.ObjectId == ObjectIds.DevStats && data.Length >= DevStatsLayout.Size:
                var ds = new DevStatsView(data);
                w.WriteLine($"\t\tpersistent item objectid DEV_STATS offset {key.Offset}");
                w.WriteLine("\t\tdevice stats");
                w.WriteLine($"\t\twrite_errs {ds.WriteErrors} read_errs {ds.ReadErrors} flush_errs {ds.FlushErrors} corruption_errs {ds.CorruptionErrors} generation {ds.GenerationErrors}");
                break;
            default:
                if (!data.IsEmpty)
                {
                    w.WriteLine($"\t\tdata {Convert.ToHexStringLower(data[..Math.Min(data.Length, 64)])}{(data.Length > 64 ? "..." : "")}");
                }

                break;
        }
    }

    public static void PrintChunk(TextWriter w, ChunkItemView c, string indent)
    {
        w.WriteLine($"{indent}length {c.Length} owner {c.Owner} stripe_len {c.StripeLength} type {BlockGroupNames.Format(c.Type)}");
        w.WriteLine($"{indent}io_align {c.IoAlign} io_width {c.IoWidth} sector_size {c.SectorSize}");
        w.WriteLine($"{indent}num_stripes {c.NumStripes} sub_stripes {c.SubStripes}");
        for (int i = 0; i < c.NumStripes; i++)
        {
            StripeView s = c.Stripe(i);
            w.WriteLine($"{indent}\tstripe {i} devid {s.DevId} offset {s.Offset}");
            w.WriteLine($"{indent}\tdev_uuid {UuidFormat.ToString(s.DevUuid)}");
        }
    }

    private static void PrintInode(TextWriter w, InodeItemView i, string indent)
    {
        w.WriteLine($"{indent}generation {i.Generation} transid {i.Transid} size {i.Size} nbytes {i.Nbytes}");
        w.WriteLine($"{indent}block group {i.BlockGroup} mode {Convert.ToString(i.Mode, 8)} links {i.Nlink} uid {i.Uid} gid {i.Gid} rdev {i.Rdev}");
        w.WriteLine($"{indent}sequence {i.Sequence} flags 0x{(ulong)i.Flags:x}({InodeFlagNames(i.Flags)})");
        w.WriteLine($"{indent}atime {Time(i.Atime)}");
        w.WriteLine($"{indent}ctime {Time(i.Ctime)}");
        w.WriteLine($"{indent}mtime {Time(i.Mtime)}");
        w.WriteLine($"{indent}otime {Time(i.Otime)}");
    }

    private static void PrintFileExtent(TextWriter w, FileExtentItemView fe)
    {
        string type = fe.Type switch
        {
            FileExtentType.Inline => "inline",
            FileExtentType.Regular => "regular",
            FileExtentType.Prealloc => "prealloc",
            _ => "unknown",
        };
        w.WriteLine($"\t\tgeneration {fe.Generation} type {(byte)fe.Type} ({type})");
        string compression = $"{(byte)fe.Compression} ({CompressionName(fe.Compression)})";
        if (fe.Type == FileExtentType.Inline)
        {
            w.WriteLine($"\t\tinline extent data size {fe.InlineData.Length} ram_bytes {fe.RamBytes} compression {compression}");
            return;
        }

        if (fe.Type == FileExtentType.Prealloc)
        {
            w.WriteLine($"\t\tprealloc data disk byte {fe.DiskBytenr} nr {fe.DiskNumBytes}");
            w.WriteLine($"\t\tprealloc data offset {fe.Offset} nr {fe.NumBytes}");
            return;
        }

        w.WriteLine($"\t\textent data disk byte {fe.DiskBytenr} nr {fe.DiskNumBytes}");
        w.WriteLine($"\t\textent data offset {fe.Offset} nr {fe.NumBytes} ram {fe.RamBytes}");
        w.WriteLine($"\t\textent compression {compression}");
    }

    private static void PrintRootItem(TextWriter w, RootItemView r)
    {
        w.WriteLine($"\t\tgeneration {r.Generation} root_dirid {r.RootDirId} bytenr {r.Bytenr} byte_limit {r.ByteLimit} bytes_used {r.BytesUsed}");
        string flags = r.Flags switch
        {
            RootItemFlags.None => "none",
            _ => FeatureNames.Join((ulong)r.Flags, [((ulong)RootItemFlags.ReadOnly, "RDONLY"), ((ulong)RootItemFlags.Dead, "DEAD")]),
        };
        w.WriteLine($"\t\tlast_snapshot {r.LastSnapshot} flags 0x{(ulong)r.Flags:x}({flags}) refs {r.Refs}");
        w.WriteLine($"\t\tdrop_progress key {FormatKey(r.DropProgress)} drop_level {r.DropLevel}");
        w.WriteLine($"\t\tlevel {r.Level} generation_v2 {r.GenerationV2}");
        if (r.Uuid.IsEmpty)
        {
            return; // a legacy ROOT_ITEM ends here
        }

        w.WriteLine($"\t\tuuid {UuidFormat.ToString(r.Uuid)}");
        w.WriteLine($"\t\tparent_uuid {UuidFormat.ToString(r.ParentUuid)}");
        w.WriteLine($"\t\treceived_uuid {UuidFormat.ToString(r.ReceivedUuid)}");
        w.WriteLine($"\t\tctransid {r.Ctransid} otransid {r.Otransid} stransid {r.Stransid} rtransid {r.Rtransid}");
        w.WriteLine($"\t\tctime {Time(r.Ctime)}");
        w.WriteLine($"\t\totime {Time(r.Otime)}");
        w.WriteLine($"\t\tstime {Time(r.Stime)}");
        w.WriteLine($"\t\trtime {Time(r.Rtime)}");
    }

    private static void PrintDevItem(TextWriter w, DevItemView d)
    {
        w.WriteLine($"\t\tdevid {d.DevId} total_bytes {d.TotalBytes} bytes_used {d.BytesUsed}");
        w.WriteLine($"\t\tio_align {d.IoAlign} io_width {d.IoWidth} sector_size {d.SectorSize} type {d.Type}");
        w.WriteLine($"\t\tgeneration {d.Generation} start_offset {d.StartOffset} dev_group {d.DevGroup}");
        w.WriteLine($"\t\tseek_speed {d.SeekSpeed} bandwidth {d.Bandwidth}");
        w.WriteLine($"\t\tuuid {UuidFormat.ToString(d.Uuid)}");
        w.WriteLine($"\t\tfsid {UuidFormat.ToString(d.Fsid)}");
    }

    private static void PrintExtentItem(TextWriter w, BtrfsKey key, ReadOnlySpan<byte> data)
    {
        var e = new ExtentItemView(data);
        string flags = FeatureNames.Join((ulong)e.Flags, [
            ((ulong)ExtentFlags.Data, "DATA"),
            ((ulong)ExtentFlags.TreeBlock, "TREE_BLOCK"),
            ((ulong)ExtentFlags.FullBackref, "FULL_BACKREF"),
        ]);
        w.WriteLine($"\t\trefs {e.Refs} gen {e.Generation} flags {flags}");
        bool treeBlock = (e.Flags & ExtentFlags.TreeBlock) != 0;
        bool info = treeBlock && key.Type == ItemType.ExtentItem;
        if (treeBlock && !info)
        {
            w.WriteLine($"\t\ttree block skinny level {key.Offset}");
        }
        else if (info)
        {
            TreeBlockInfoView tbi = e.TreeBlockInfo;
            w.WriteLine($"\t\ttree block key {FormatKey(tbi.Key)} level {tbi.Level}");
        }

        foreach (ExtentInlineRefView r in e.InlineRefs(info))
        {
            switch (r.Type)
            {
                case ItemType.TreeBlockRef:
                    w.WriteLine($"\t\ttree block backref root {FormatOwner(r.Offset)}");
                    break;
                case ItemType.SharedBlockRef:
                    w.WriteLine($"\t\tshared block backref parent {r.Offset}");
                    break;
                case ItemType.ExtentDataRef:
                    ExtentDataRefView d = r.DataRef;
                    w.WriteLine($"\t\textent data backref root {FormatOwner(d.Root)} objectid {d.ObjectId} offset {d.Offset} count {d.Count}");
                    break;
                case ItemType.SharedDataRef:
                    w.WriteLine($"\t\tshared data backref parent {r.Offset} count {r.SharedCount}");
                    break;
                default:
                    w.WriteLine($"\t\textent owner root {r.Offset}");
                    break;
            }
        }
    }

    private static string Time(BtrfsTimespec t)
    {
        string date = t.Seconds is >= -62135596800 and <= 253402300799
            ? DateTimeOffset.FromUnixTimeSeconds(t.Seconds).ToLocalTime().ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture)
            : "out of range";
        return $"{t.Seconds}.{t.Nanoseconds} ({date})";
    }

    /// <summary>Prints a name byte for byte where it is printable UTF-8; other bytes as \xNN.</summary>
    public static string Name(ReadOnlySpan<byte> name)
    {
        var sb = new StringBuilder(name.Length);
        int i = 0;
        while (i < name.Length)
        {
            if (System.Text.Unicode.Utf8.IsValid(name[i..]) && !name[i..].ContainsAnyInRange((byte)0, (byte)31))
            {
                sb.Append(Encoding.UTF8.GetString(name[i..]));
                break;
            }

            System.Buffers.OperationStatus status = System.Text.Rune.DecodeFromUtf8(name[i..], out System.Text.Rune rune, out int consumed);
            if (status == System.Buffers.OperationStatus.Done && rune.Value >= 32)
            {
                sb.Append(rune.ToString());
                i += consumed;
            }
            else
            {
                sb.Append(CultureInfo.InvariantCulture, $"\\x{name[i]:x2}");
                i++;
            }
        }

        return sb.ToString();
    }

    private static string DirTypeName(DirEntryType type) => type switch
    {
        DirEntryType.RegularFile => "FILE",
        DirEntryType.Directory => "DIR",
        DirEntryType.CharDevice => "CHRDEV",
        DirEntryType.BlockDevice => "BLKDEV",
        DirEntryType.Fifo => "FIFO",
        DirEntryType.Socket => "SOCK",
        DirEntryType.Symlink => "SYMLINK",
        DirEntryType.Xattr => "XATTR",
        _ => "UNKNOWN",
    };

    private static string CompressionName(CompressionType type) => type switch
    {
        CompressionType.None => "none",
        CompressionType.Zlib => "zlib",
        CompressionType.Lzo => "lzo",
        CompressionType.Zstd => "zstd",
        _ => "unknown",
    };

    private static string FlagNames(TreeBlockFlags flags) =>
        FeatureNames.Join((ulong)flags, [((ulong)TreeBlockFlags.Written, "WRITTEN"), ((ulong)TreeBlockFlags.Reloc, "RELOC")]);

    private static string InodeFlagNames(InodeFlags flags) => FeatureNames.Join((ulong)flags, [
        ((ulong)InodeFlags.NoDataSum, "NODATASUM"),
        ((ulong)InodeFlags.NoDataCow, "NODATACOW"),
        ((ulong)InodeFlags.ReadOnly, "READONLY"),
        ((ulong)InodeFlags.NoCompress, "NOCOMPRESS"),
        ((ulong)InodeFlags.Prealloc, "PREALLOC"),
        ((ulong)InodeFlags.Sync, "SYNC"),
        ((ulong)InodeFlags.Immutable, "IMMUTABLE"),
        ((ulong)InodeFlags.Append, "APPEND"),
        ((ulong)InodeFlags.NoDump, "NODUMP"),
        ((ulong)InodeFlags.NoAtime, "NOATIME"),
        ((ulong)InodeFlags.DirSync, "DIRSYNC"),
        ((ulong)InodeFlags.Compress, "COMPRESS"),
        ((ulong)InodeFlags.RootItemInit, "ROOT_ITEM_INIT"),
        ((ulong)InodeFlags.Verity, "VERITY"),
    ]);
}
