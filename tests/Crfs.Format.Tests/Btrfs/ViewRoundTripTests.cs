// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using Crfs.Format.Btrfs;

namespace Crfs.Format.Tests.Btrfs;

/// <summary>
/// Writes every layout through its writer view and reads it back through its reader view, with
/// distinct values in every field so that two fields swapped or overlapping show up. A few tests
/// also pin the raw bytes, so that both views agreeing on a wrong encoding cannot pass.
/// </summary>
public class ViewRoundTripTests
{
    private static readonly BtrfsKey s_key = new(0x0102030405060708, ItemType.DirIndex, 0x1112131415161718);

    [Fact]
    public void DiskKeyIsLittleEndianObjectIdTypeOffset()
    {
        byte[] b = new byte[DiskKeyLayout.Size];
        DiskKeyLayout.Write(b, s_key);
        Assert.Equal(new byte[] { 8, 7, 6, 5, 4, 3, 2, 1, 96, 0x18, 0x17, 0x16, 0x15, 0x14, 0x13, 0x12, 0x11 }, b);
        Assert.Equal(s_key, new DiskKey(b).ToKey());
        Assert.Equal(s_key.Offset, new DiskKey(b).Offset);
    }

    [Fact]
    public void HeaderRoundTripsAndKeepsTheBackrefRevisionInTheTopByte()
    {
        byte[] block = new byte[4096];
        var w = new HeaderWriter(block)
        {
            Bytenr = 30441472,
            Generation = 7,
            Owner = 5,
            NrItems = 25,
            Level = 3,
        };
        w.SetFlags(TreeBlockFlags.Written);
        "0123456789abcdef"u8.CopyTo(w.Fsid);
        "fedcba9876543210"u8.CopyTo(w.ChunkTreeUuid);
        var r = new HeaderView(block);
        Assert.Equal(30441472UL, r.Bytenr);
        Assert.Equal(7UL, r.Generation);
        Assert.Equal(5UL, r.Owner);
        Assert.Equal(25U, r.NrItems);
        Assert.Equal(3, r.Level);
        Assert.Equal(TreeBlockFlags.Written, r.Flags);
        Assert.Equal(1, r.BackrefRevision);
        Assert.Equal(0x0100000000000001UL, BinaryPrimitives.ReadUInt64LittleEndian(block.AsSpan(0x38)));
        Assert.True(r.Fsid.SequenceEqual("0123456789abcdef"u8));
        Assert.True(r.ChunkTreeUuid.SequenceEqual("fedcba9876543210"u8));
    }

    [Fact]
    public void LeafItemHeadersAndNodePointersRoundTrip()
    {
        byte[] block = new byte[4096];
        var leaf = new LeafWriter(block);
        HeaderWriter leafHeader = leaf.Header;
        leafHeader.NrItems = 2;
        leaf.SetItemHeader(0, s_key, 3000, 20);
        leaf.SetItemHeader(1, s_key.Next(), 2990, 10);
        leaf.ItemData(0).Fill(0xAA);
        var lv = new LeafView(block);
        Assert.Equal(2, lv.NrItems);
        Assert.Equal(s_key, lv.Key(0));
        Assert.Equal(s_key.Next(), lv.Key(1));
        Assert.Equal(3000U, lv.ItemOffset(0));
        Assert.Equal(10U, lv.ItemSize(1));
        Assert.Equal(20, lv.ItemData(0).Length);
        Assert.Equal(0xAA, block[HeaderLayout.Size + 3000]);
        Assert.Equal(2990 - (2 * ItemHeaderLayout.Size), lv.FreeSpace);

        var node = new NodeWriter(block);
        HeaderWriter nodeHeader = node.Header;
        nodeHeader.NrItems = 1;
        node.SetPointer(0, s_key, 123 * 4096, 42);
        var nv = new NodeView(block);
        Assert.Equal(s_key, nv.Key(0));
        Assert.Equal(123UL * 4096, nv.BlockPtr(0));
        Assert.Equal(42UL, nv.Generation(0));
    }

    [Fact]
    public void InodeItemRoundTripsEveryField()
    {
        var item = new InodeItem(1, 2, 3, 4, 5, 6, 7, 8, 0x81A4, (8UL << 20) | 17, InodeFlags.NoDataSum | InodeFlags.Verity, 9,
            new BtrfsTimespec(10, 11), new BtrfsTimespec(-12, 13), new BtrfsTimespec(14, 999_999_999), new BtrfsTimespec(16, 17));
        byte[] b = new byte[InodeItemLayout.Size];
        new InodeItemWriter(b).Set(item);
        Assert.Equal(item, new InodeItemView(b).ToInodeItem());
        Assert.Equal(8U, item.RdevMajor);
        Assert.Equal(17U, item.RdevMinor);
        Assert.Equal(3UL, BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(16)));
        Assert.Equal(999_999_999U, BinaryPrimitives.ReadUInt32LittleEndian(b.AsSpan(136 + 8)));
    }

    [Fact]
    public void DirItemEntriesRoundTripAndEnumerate()
    {
        byte[] item = new byte[DirItemLayout.EntrySize(3, 0) + DirItemLayout.EntrySize(4, 5)];
        var first = new DirItemWriter(item) { Location = s_key, Transid = 77, NameLength = 3, DataLength = 0, Type = DirEntryType.Symlink };
        "abc"u8.CopyTo(first.Name);
        var second = new DirItemWriter(item.AsSpan(DirItemLayout.EntrySize(3, 0)))
        {
            Location = BtrfsKey.Min,
            NameLength = 4,
            DataLength = 5,
            Type = DirEntryType.Xattr,
        };
        "user"u8.CopyTo(second.Name);
        "value"u8.CopyTo(second.Data);

        var seen = new List<(BtrfsKey, ulong, DirEntryType, string, string)>();
        foreach (DirItemView e in new DirItemEnumerator(item))
        {
            seen.Add((e.Location, e.Transid, e.Type, System.Text.Encoding.ASCII.GetString(e.Name), System.Text.Encoding.ASCII.GetString(e.Data)));
        }

        Assert.Equal([(s_key, 77UL, DirEntryType.Symlink, "abc", ""), (BtrfsKey.Min, 0UL, DirEntryType.Xattr, "user", "value")], seen);
    }

    [Fact]
    public void InodeRefAndExtrefEntriesRoundTripAndEnumerate()
    {
        byte[] refs = new byte[InodeRefLayout.EntrySize(1) + InodeRefLayout.EntrySize(2)];
        var a = new InodeRefWriter(refs) { Index = 2, NameLength = 1 };
        "a"u8.CopyTo(a.Name);
        var b = new InodeRefWriter(refs.AsSpan(InodeRefLayout.EntrySize(1))) { Index = 3, NameLength = 2 };
        "bb"u8.CopyTo(b.Name);
        var names = new List<(ulong, string)>();
        foreach (InodeRefView r in new InodeRefEnumerator(refs))
        {
            names.Add((r.Index, System.Text.Encoding.ASCII.GetString(r.Name)));
        }

        Assert.Equal([(2UL, "a"), (3UL, "bb")], names);

        byte[] ext = new byte[InodeExtrefLayout.EntrySize(3)];
        var x = new InodeExtrefWriter(ext) { ParentObjectId = 300, Index = 9, NameLength = 3 };
        "xyz"u8.CopyTo(x.Name);
        var view = new InodeExtrefView(ext);
        Assert.Equal(300UL, view.ParentObjectId);
        Assert.Equal(9UL, view.Index);
        Assert.True(view.Name.SequenceEqual("xyz"u8));
        Assert.Equal(ext.Length, view.EntrySize);
    }

    [Fact]
    public void FileExtentItemRoundTripsInlineAndRegular()
    {
        byte[] inline = new byte[FileExtentItemLayout.InlineDataStart + 5];
        var wi = new FileExtentItemWriter(inline) { Generation = 7, RamBytes = 5, Compression = CompressionType.None, Type = FileExtentType.Inline };
        "hello"u8.CopyTo(wi.InlineData);
        var ri = new FileExtentItemView(inline);
        Assert.Equal(FileExtentType.Inline, ri.Type);
        Assert.True(ri.InlineData.SequenceEqual("hello"u8));

        byte[] regular = new byte[FileExtentItemLayout.Size];
        _ = new FileExtentItemWriter(regular)
        {
            Generation = 1,
            RamBytes = 2 << 12,
            Compression = CompressionType.Zstd,
            Encryption = 0,
            OtherEncoding = 0,
            Type = FileExtentType.Prealloc,
            DiskBytenr = 3 << 12,
            DiskNumBytes = 4 << 12,
            Offset = 5 << 12,
            NumBytes = 6 << 12,
        };
        var r = new FileExtentItemView(regular);
        Assert.Equal((1UL, 2UL << 12, CompressionType.Zstd, FileExtentType.Prealloc, 3UL << 12, 4UL << 12, 5UL << 12, 6UL << 12),
            (r.Generation, r.RamBytes, r.Compression, r.Type, r.DiskBytenr, r.DiskNumBytes, r.Offset, r.NumBytes));
    }

    [Fact]
    public void RootItemRoundTripsAndLegacyItemsReadNewFieldsAsZero()
    {
        byte[] b = new byte[RootItemLayout.Size];
        var w = new RootItemWriter(b)
        {
            Generation = 1,
            RootDirId = 256,
            Bytenr = 3,
            ByteLimit = 4,
            BytesUsed = 5,
            LastSnapshot = 6,
            Flags = RootItemFlags.ReadOnly,
            Refs = 7,
            DropProgress = s_key,
            DropLevel = 2,
            Level = 3,
            GenerationV2 = 8,
            Ctransid = 9,
            Otransid = 10,
            Stransid = 11,
            Rtransid = 12,
            Ctime = new BtrfsTimespec(13, 14),
            Otime = new BtrfsTimespec(15, 16),
            Stime = new BtrfsTimespec(17, 18),
            Rtime = new BtrfsTimespec(19, 20),
        };
        InodeItemWriter inode = w.Inode;
        inode.Nlink = 1;
        "uuid-uuid-uuid-u"u8.CopyTo(w.Uuid);
        var r = new RootItemView(b);
        Assert.Equal((1UL, 256UL, 3UL, 4UL, 5UL, 6UL, RootItemFlags.ReadOnly, 7U, s_key, (byte)2, (byte)3, 8UL),
            (r.Generation, r.RootDirId, r.Bytenr, r.ByteLimit, r.BytesUsed, r.LastSnapshot, r.Flags, r.Refs, r.DropProgress, r.DropLevel, r.Level, r.GenerationV2));
        Assert.Equal((9UL, 10UL, 11UL, 12UL), (r.Ctransid, r.Otransid, r.Stransid, r.Rtransid));
        Assert.Equal(new BtrfsTimespec(19, 20), r.Rtime);
        Assert.Equal(1U, r.Inode.Nlink);
        Assert.True(r.Uuid.SequenceEqual("uuid-uuid-uuid-u"u8));

        var legacy = new RootItemView(b.AsSpan(0, RootItemLayout.LegacySize));
        Assert.Equal(3UL, legacy.Bytenr);
        Assert.Equal(0UL, legacy.GenerationV2);
        Assert.True(legacy.Uuid.IsEmpty);
        Assert.Equal(default, legacy.Ctime);
    }

    [Fact]
    public void ChunkItemRoundTripsWithStripes()
    {
        byte[] b = new byte[ChunkItemLayout.ItemSize(2)];
        var w = new ChunkItemWriter(b)
        {
            Length = 8 << 20,
            Owner = 2,
            StripeLength = 65536,
            Type = BlockGroupFlags.System | BlockGroupFlags.Dup,
            IoAlign = 65536,
            IoWidth = 65536,
            SectorSize = 4096,
            NumStripes = 2,
            SubStripes = 1,
        };
        StripeWriter s1 = w.Stripe(1);
        s1.DevId = 1;
        s1.Offset = 30408704;
        var r = new ChunkItemView(b);
        Assert.Equal(BlockGroupFlags.System | BlockGroupFlags.Dup, r.Type);
        Assert.Equal((ushort)2, r.NumStripes);
        Assert.Equal(30408704UL, r.Stripe(1).Offset);
        Assert.Equal(1UL, r.Stripe(1).DevId);
        Assert.Equal(112, b.Length);
    }

    [Fact]
    public void SmallFixedItemsRoundTrip()
    {
        byte[] bg = new byte[BlockGroupItemLayout.Size];
        _ = new BlockGroupItemWriter(bg) { Used = 1, ChunkObjectId = 256, Flags = BlockGroupFlags.Data };
        var bgv = new BlockGroupItemView(bg);
        Assert.Equal((1UL, 256UL, BlockGroupFlags.Data), (bgv.Used, bgv.ChunkObjectId, bgv.Flags));

        byte[] de = new byte[DevExtentLayout.Size];
        _ = new DevExtentWriter(de) { ChunkTree = 3, ChunkObjectId = 256, ChunkOffset = 5, Length = 6 };
        var dev = new DevExtentView(de);
        Assert.Equal((3UL, 256UL, 5UL, 6UL), (dev.ChunkTree, dev.ChunkObjectId, dev.ChunkOffset, dev.Length));

        byte[] fsi = new byte[FreeSpaceInfoLayout.Size];
        _ = new FreeSpaceInfoWriter(fsi) { ExtentCount = 1024, Flags = FreeSpaceInfoFlags.UsingBitmaps };
        Assert.Equal((1024U, FreeSpaceInfoFlags.UsingBitmaps), (new FreeSpaceInfoView(fsi).ExtentCount, new FreeSpaceInfoView(fsi).Flags));

        byte[] rr = new byte[RootRefLayout.Size + 3];
        var rw = new RootRefWriter(rr) { DirId = 256, Sequence = 2, NameLength = 3 };
        "sub"u8.CopyTo(rw.Name);
        Assert.True(new RootRefView(rr).Name.SequenceEqual("sub"u8));

        byte[] dev2 = new byte[DevItemLayout.Size];
        _ = new DevItemWriter(dev2) { DevId = 1, TotalBytes = 2, BytesUsed = 3, SeekSpeed = 4, Bandwidth = 5, DevGroup = 6 };
        var dv = new DevItemView(dev2);
        Assert.Equal((1UL, 2UL, 3UL, (byte)4, (byte)5, 6U), (dv.DevId, dv.TotalBytes, dv.BytesUsed, dv.SeekSpeed, dv.Bandwidth, dv.DevGroup));
    }

    [Fact]
    public void ExtentItemInlineRefsRoundTripInOrder()
    {
        int size = ExtentItemLayout.Size + ExtentInlineRefLayout.SizeOf(ItemType.ExtentDataRef) + ExtentInlineRefLayout.SizeOf(ItemType.SharedDataRef);
        byte[] b = new byte[size];
        _ = new ExtentItemWriter(b) { Refs = 5, Generation = 7, Flags = ExtentFlags.Data };
        var data = new ExtentInlineRefWriter(b.AsSpan(ExtentItemLayout.Size)) { Type = ItemType.ExtentDataRef };
        ExtentDataRefWriter body = data.DataRef;
        body.Root = 5;
        body.ObjectId = 257;
        body.Offset = 0;
        body.Count = 3;
        _ = new ExtentInlineRefWriter(b.AsSpan(ExtentItemLayout.Size + 29)) { Type = ItemType.SharedDataRef, Offset = 4096, SharedCount = 2 };

        var refs = new List<string>();
        foreach (ExtentInlineRefView r in new ExtentItemView(b).InlineRefs(hasTreeBlockInfo: false))
        {
            refs.Add(r.Type == ItemType.ExtentDataRef
                ? $"data {r.DataRef.Root} {r.DataRef.ObjectId} {r.DataRef.Offset} {r.DataRef.Count}"
                : $"shared {r.Offset} {r.SharedCount}");
        }

        Assert.Equal(["data 5 257 0 3", "shared 4096 2"], refs);
        Assert.Equal(5UL, new ExtentItemView(b).Refs);
    }

    [Fact]
    public void SuperblockRoundTripsNestedDevItemAndBackupRoots()
    {
        byte[] b = new byte[SuperblockLayout.Size];
        var w = new SuperblockWriter(b)
        {
            Magic = SuperblockLayout.MagicValue,
            Generation = 7,
            Root = 30605312,
            SectorSize = 4096,
            NodeSize = 16384,
            CsumType = ChecksumType.Sha256,
            IncompatFlags = IncompatFeatures.NoHoles,
            CompatRoFlags = CompatRoFeatures.FreeSpaceTree,
            Flags = SuperblockFlags.Written,
            RootLevel = 1,
            SysChunkArraySize = 129,
        };
        DevItemWriter dev = w.DevItem;
        dev.DevId = 1;
        RootBackupWriter backup = w.Backup(3);
        backup.TreeRoot = 99;
        backup.CsumRootLevel = 2;
        "label"u8.CopyTo(w.Label);
        var r = new SuperblockView(b);
        Assert.Equal((SuperblockLayout.MagicValue, 7UL, 30605312UL, 4096U, 16384U, ChecksumType.Sha256),
            (r.Magic, r.Generation, r.Root, r.SectorSize, r.NodeSize, r.CsumType));
        Assert.Equal((IncompatFeatures.NoHoles, CompatRoFeatures.FreeSpaceTree, SuperblockFlags.Written), (r.IncompatFlags, r.CompatRoFlags, r.Flags));
        Assert.Equal(1UL, r.DevItem.DevId);
        Assert.Equal(99UL, r.Backup(3).TreeRoot);
        Assert.Equal(2, r.Backup(3).CsumRootLevel);
        Assert.Equal(99UL, BinaryPrimitives.ReadUInt64LittleEndian(b.AsSpan(0xB2B + (3 * 168))));
        Assert.True(r.LabelText.SequenceEqual("label"u8));
        Assert.Equal(129, r.SysChunkArrayUsed.Length);
        Assert.True(r.MetadataFsid.SequenceEqual(r.Fsid));
    }

    [Fact]
    public void BtrfsKeyOrdersByObjectIdThenTypeThenOffsetUnsigned()
    {
        var a = new BtrfsKey(256, ItemType.InodeItem, 0);
        var b = new BtrfsKey(256, ItemType.InodeRef, 0);
        var c = new BtrfsKey(ObjectIds.Orphan, ItemType.OrphanItem, 1);
        Assert.True(a < b);
        Assert.True(b < c);
        Assert.Equal(new BtrfsKey(1, ItemType.InodeItem, 5), new BtrfsKey(1, ItemType.InodeItem, 4).Next());
        Assert.Equal("(256 INODE_ITEM 0)", a.ToString());
    }
}
