// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using Crfs.Format.Btrfs;

namespace Crfs.Format.Tests.Btrfs;

/// <summary>
/// The checker accepts real blocks made by mkfs.btrfs and rejects each kind of damage with a
/// message that names it. Damaged blocks are resealed (checksum recomputed) so that the check
/// under test, not the checksum, is what fails.
/// </summary>
public class TreeBlockCheckerTests
{
    private static readonly Lazy<RealImage> s_image = new(RealImage.Load);

    private static RealImage Image
    {
        get
        {
            Skip.IfNot(RealImage.CanBuild, "needs mkfs.btrfs and setfattr");
            return s_image.Value;
        }
    }

    [SkippableFact]
    public void RealBlocksFromMkfsPass()
    {
        RealImage img = Image;
        foreach (byte[] block in new[] { img.FsLeaf, img.RootLeaf, img.ChunkLeaf, img.ExtentLeaf, img.CsumLeaf })
        {
            ulong logical = new HeaderView(block).Bytenr;
            Assert.Null(img.Checker.Validate(block, logical));
            var expected = new TreeBlockExpectation(0, new HeaderView(block).Generation, new HeaderView(block).Owner, new LeafView(block).Key(0));
            Assert.Null(img.Checker.ValidateExpectation(block, expected));
        }
    }

    [SkippableFact]
    public void FlippedByteFailsTheChecksumNamingBothValues()
    {
        RealImage img = Image;
        byte[] block = Copy(img.FsLeaf);
        block[5000] ^= 0x40;
        string fault = Fault(img, block);
        Assert.StartsWith("checksum mismatch: stored 0x", fault);
        Assert.Contains(" computed 0x", fault);
    }

    [SkippableFact]
    public void CheckThrowsCorruptBlockExceptionNamingAddressAndMirror()
    {
        RealImage img = Image;
        byte[] block = Copy(img.FsLeaf);
        block[HeaderLayout.Size + 3] ^= 1;
        ulong logical = new HeaderView(block).Bytenr;
        var e = Assert.Throws<CorruptBlockException>(() => img.Checker.Check(block, logical, 2, TreeBlockExpectation.None));
        Assert.Equal(logical, e.Logical);
        Assert.Equal(2, e.Mirror);
        Assert.StartsWith($"corrupt tree block {logical} (mirror 2): checksum mismatch", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [SkippableFact]
    public void WrongAddressIsReported()
    {
        RealImage img = Image;
        byte[] block = Copy(img.FsLeaf);
        ulong logical = new HeaderView(block).Bytenr;
        Assert.StartsWith($"bytenr mismatch: header says {logical}", img.Checker.Validate(block, logical + 16384));
    }

    [SkippableFact]
    public void ForeignFsidIsReported()
    {
        RealImage img = Image;
        Assert.StartsWith("fsid mismatch", Mutate(img, img.FsLeaf, b => b[HeaderLayout.Fsid] ^= 0xFF));
    }

    [SkippableFact]
    public void ImpossibleLevelIsReported()
    {
        RealImage img = Image;
        Assert.StartsWith("invalid level 9", Mutate(img, img.FsLeaf, b => b[HeaderLayout.Level] = 9));
    }

    [SkippableFact]
    public void ItemCountBeyondTheLeafIsReported()
    {
        RealImage img = Image;
        Assert.Contains("nritems 100000 exceeds", Mutate(img, img.FsLeaf, b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(HeaderLayout.NrItems), 100000)));
    }

    [SkippableFact]
    public void ItemDataNotPackedIsReported()
    {
        RealImage img = Image;
        string fault = Mutate(img, img.FsLeaf, b => AddToItemHeader(b, 0, ItemHeaderLayout.Offset, -1));
        Assert.StartsWith("leaf slot 0 key (256 INODE_ITEM 0): item data ends at", fault);
    }

    [SkippableFact]
    public void KeysOutOfOrderAreReported()
    {
        RealImage img = Image;
        // Slot 2 repeats slot 1's key: keys must be strictly ascending.
        string fault = Mutate(img, img.FsLeaf, b => b.AsSpan(ItemHeaderAt(1), DiskKeyLayout.Size).CopyTo(b.AsSpan(ItemHeaderAt(2))));
        Assert.StartsWith("leaf slot 2: bad key order", fault);
    }

    [SkippableFact]
    public void InodeWithInvalidFileTypeIsReported()
    {
        RealImage img = Image;
        string fault = Mutate(img, img.FsLeaf, b => WriteItemU32(b, 0, InodeItemLayout.Mode, 0x3000 | 0x1ED));
        Assert.Equal("leaf slot 0 key (256 INODE_ITEM 0): invalid file type in mode 030755", fault);
    }

    [SkippableFact]
    public void InodeGenerationFromTheFutureIsReported()
    {
        RealImage img = Image;
        ulong limit = img.SuperblockView.Generation + 1;
        string fault = Mutate(img, img.FsLeaf, b => WriteItemU64(b, 0, InodeItemLayout.Generation, limit + 1));
        Assert.EndsWith($"invalid inode generation {limit + 1}, expected at most {limit}", fault);
    }

    [SkippableFact]
    public void AdvancedSuperGeneration_AcceptsWhatTheOwnerWroteSince_AndNeverLowersTheBound()
    {
        RealImage img = Image;
        ulong limit = img.SuperblockView.Generation + 1;
        byte[] block = Copy(img.FsLeaf);
        WriteItemU64(block, 0, InodeItemLayout.Generation, limit + 5);
        img.Reseal(block);
        ulong logical = new HeaderView(block).Bytenr;
        TreeBlockChecker checker = img.Checker;
        Assert.NotNull(checker.Validate(block, logical));

        checker.AdvanceSuperGeneration(limit + 4);
        Assert.Null(checker.Validate(block, logical));
        checker.AdvanceSuperGeneration(1);
        Assert.Null(checker.Validate(block, logical));
    }

    [SkippableFact]
    public void DirItemNameOverrunningItsItemIsReported()
    {
        RealImage img = Image;
        int slot = FindSlot(img.FsLeaf, ItemType.DirItem);
        string fault = Mutate(img, img.FsLeaf, b => WriteItemU16(b, slot, DirItemLayout.NameLength, 200));
        Assert.Contains($"leaf slot {slot} key (256 DIR_ITEM ", fault);
        Assert.Contains("crosses the item end", fault);
    }

    [SkippableFact]
    public void DirItemWhoseNameDoesNotHashToItsKeyIsReported()
    {
        RealImage img = Image;
        int slot = FindSlot(img.FsLeaf, ItemType.DirItem);
        string fault = Mutate(img, img.FsLeaf, b => ItemData(b, slot)[DirItemLayout.Size] ^= 0x20);
        Assert.Contains("name hash mismatch: name hashes to 0x", fault);
    }

    [SkippableFact]
    public void XattrTypeOnADirItemIsReported()
    {
        RealImage img = Image;
        int slot = FindSlot(img.FsLeaf, ItemType.DirIndex);
        string fault = Mutate(img, img.FsLeaf, b => ItemData(b, slot)[DirItemLayout.Type] = (byte)DirEntryType.Xattr);
        Assert.Contains("does not match item type DIR_INDEX", fault);
    }

    [SkippableFact]
    public void InodeRefNameOverrunIsReported()
    {
        RealImage img = Image;
        int slot = FindSlot(img.FsLeaf, ItemType.InodeRef);
        string fault = Mutate(img, img.FsLeaf, b => WriteItemU16(b, slot, InodeRefLayout.NameLength, 1000));
        Assert.Contains("with name length 1000 crosses the item end", fault);
    }

    [SkippableFact]
    public void UnknownFileExtentTypeIsReported()
    {
        RealImage img = Image;
        int slot = FindSlot(img.FsLeaf, ItemType.ExtentData);
        string fault = Mutate(img, img.FsLeaf, b => ItemData(b, slot)[FileExtentItemLayout.Type] = 5);
        Assert.EndsWith("invalid file extent type 5", fault);
    }

    [SkippableFact]
    public void InlineExtentWhoseSizeDisagreesWithRamBytesIsReported()
    {
        RealImage img = Image;
        int slot = FindInlineExtent(img.FsLeaf);
        string fault = Mutate(img, img.FsLeaf, b => WriteItemU64(b, slot, FileExtentItemLayout.RamBytes, 4000));
        Assert.Contains("does not match ram_bytes 4000", fault);
    }

    [SkippableFact]
    public void ItemOfAnInodeWithoutInodeItemIsReported()
    {
        RealImage img = Image;
        int slot = FindSlot(img.FsLeaf, ItemType.InodeItem, after: 1);
        var leaf = new LeafView(img.FsLeaf);
        ulong ino = leaf.Key(slot).ObjectId;
        ulong previous = leaf.Key(slot - 1).ObjectId;

        // Retyping the INODE_ITEM as an INODE_REF keeps the keys sorted but leaves the inode's
        // first item without its INODE_ITEM in front.
        string fault = Mutate(img, img.FsLeaf, b => b[ItemHeaderAt(slot) + DiskKeyLayout.Type] = (byte)ItemType.InodeRef);
        Assert.EndsWith($"invalid previous key objectid {previous}, expected {ino} (missing INODE_ITEM)", fault);
    }

    [SkippableFact]
    public void ChunkWithWrongStripeLengthIsReported()
    {
        RealImage img = Image;
        int slot = FindSlot(img.ChunkLeaf, ItemType.ChunkItem);
        string fault = Mutate(img, img.ChunkLeaf, b => WriteItemU64(b, slot, ChunkItemLayout.StripeLength, 4096));
        Assert.EndsWith("invalid chunk stripe length 4096", fault);
    }

    [SkippableFact]
    public void DupChunkWithOneStripeIsReported()
    {
        RealImage img = Image;
        int slot = FindChunk(img.ChunkLeaf, BlockGroupFlags.Dup);
        string fault = Mutate(img, img.ChunkLeaf, b => WriteItemU16(b, slot, ChunkItemLayout.NumStripes, 1));
        Assert.Contains("does not match 1 stripes", fault);
    }

    [SkippableFact]
    public void RootItemWithImpossibleLevelIsReported()
    {
        RealImage img = Image;
        int slot = FindSlot(img.RootLeaf, ItemType.RootItem);
        string fault = Mutate(img, img.RootLeaf, b => ItemData(b, slot)[RootItemLayout.Level] = 8);
        Assert.EndsWith("invalid root level 8 or drop level 0", fault);
    }

    [SkippableFact]
    public void ExtentItemWithFewerRefsThanItsInlineRefsIsReported()
    {
        RealImage img = Image;
        int slot = FindSlot(img.ExtentLeaf, ItemType.MetadataItem);
        string fault = Mutate(img, img.ExtentLeaf, b => WriteItemU64(b, slot, ExtentItemLayout.Refs, 0));
        Assert.EndsWith("extent refs 0 below the inline total 1", fault);
    }

    [SkippableFact]
    public void CsumItemSizeNotAMultipleOfTheChecksumIsReported()
    {
        RealImage img = Image;
        Skip.If(new LeafView(img.CsumLeaf).NrItems == 0, "the image has no csum items");
        string fault = Mutate(img, img.CsumLeaf, b =>
        {
            // Shrink item 0 by one byte at its start: its data still ends where it must.
            AddToItemHeader(b, 0, ItemHeaderLayout.Offset, 1);
            AddToItemHeader(b, 0, ItemHeaderLayout.DataSize, -1);
        });
        Assert.Contains("is not a multiple of 4", fault);
    }

    [SkippableFact]
    public void ExpectationsFromTheParentAreChecked()
    {
        RealImage img = Image;
        byte[] leaf = img.FsLeaf;
        var h = new HeaderView(leaf);
        BtrfsKey first = new LeafView(leaf).Key(0);
        TreeBlockChecker c = img.Checker;
        Assert.Equal("level mismatch: block has level 0, expected 1", c.ValidateExpectation(leaf, new TreeBlockExpectation(1, 0, 0, null)));
        Assert.Equal($"parent transid verify failed: block has generation {h.Generation}, expected {h.Generation + 5}",
            c.ValidateExpectation(leaf, new TreeBlockExpectation(0, h.Generation + 5, 0, null)));
        Assert.Equal("owner mismatch: block owned by tree 1, expected 2",
            c.ValidateExpectation(img.RootLeaf, new TreeBlockExpectation(0, 0, ObjectIds.ExtentTree, null)));
        Assert.Null(c.ValidateExpectation(leaf, new TreeBlockExpectation(0, 0, 257, null))); // any subvolume may own fs-tree blocks
        Assert.Equal($"first key mismatch: block starts at {first}, parent expects {first.Next()}",
            c.ValidateExpectation(leaf, new TreeBlockExpectation(0, 0, 0, first.Next())));
    }

    [SkippableFact]
    public void NodesAreCheckedForPointersAndKeyOrder()
    {
        RealImage img = Image;
        byte[] node = MakeNode(img, [(new BtrfsKey(256, ItemType.InodeItem, 0), 30 << 20), (new BtrfsKey(300, ItemType.InodeItem, 0), 31 << 20)]);
        ulong logical = new HeaderView(node).Bytenr;
        Assert.Null(img.Checker.Validate(node, logical));

        byte[] zero = MakeNode(img, [(new BtrfsKey(256, ItemType.InodeItem, 0), 0)]);
        Assert.Equal("node slot 0 key (256 INODE_ITEM 0): invalid block pointer 0", img.Checker.Validate(zero, logical));

        byte[] unsorted = MakeNode(img, [(new BtrfsKey(300, ItemType.InodeItem, 0), 30 << 20), (new BtrfsKey(256, ItemType.InodeItem, 0), 31 << 20)]);
        Assert.StartsWith("node slot 1: bad key order", img.Checker.Validate(unsorted, logical));

        byte[] empty = MakeNode(img, []);
        Assert.Equal("node nritems 0 out of range [1, 493]", img.Checker.Validate(empty, logical));
    }

    [SkippableFact]
    public void EmptyRootLeafOfTheFsTreeIsRejected()
    {
        RealImage img = Image;
        string fault = Mutate(img, img.FsLeaf, b => BinaryPrimitives.WriteUInt32LittleEndian(b.AsSpan(HeaderLayout.NrItems), 0));
        Assert.Equal("empty leaf owned by tree 5, which must never be empty", fault);
    }

    private static byte[] Copy(byte[] block) => (byte[])block.Clone();

    private static string Fault(RealImage img, byte[] block) =>
        img.Checker.Validate(block, new HeaderView(block).Bytenr) ?? throw new Xunit.Sdk.XunitException("the damaged block passed the checker");

    private static string Mutate(RealImage img, byte[] original, Action<byte[]> damage)
    {
        byte[] block = Copy(original);
        damage(block);
        img.Reseal(block);
        return Fault(img, block);
    }

    private static int ItemHeaderAt(int slot) => HeaderLayout.Size + (slot * ItemHeaderLayout.Size);

    private static void AddToItemHeader(byte[] b, int slot, int field, int delta)
    {
        Span<byte> at = b.AsSpan(ItemHeaderAt(slot) + field);
        BinaryPrimitives.WriteUInt32LittleEndian(at, (uint)(BinaryPrimitives.ReadUInt32LittleEndian(at) + delta));
    }

    private static Span<byte> ItemData(byte[] b, int slot)
    {
        var leaf = new LeafView(b);
        return b.AsSpan(HeaderLayout.Size + (int)leaf.ItemOffset(slot), (int)leaf.ItemSize(slot));
    }

    private static void WriteItemU16(byte[] b, int slot, int offset, ushort value) => BinaryPrimitives.WriteUInt16LittleEndian(ItemData(b, slot)[offset..], value);

    private static void WriteItemU32(byte[] b, int slot, int offset, uint value) => BinaryPrimitives.WriteUInt32LittleEndian(ItemData(b, slot)[offset..], value);

    private static void WriteItemU64(byte[] b, int slot, int offset, ulong value) => BinaryPrimitives.WriteUInt64LittleEndian(ItemData(b, slot)[offset..], value);

    private static int FindSlot(byte[] block, ItemType type, int after = -1)
    {
        var leaf = new LeafView(block);
        for (int i = after + 1; i < leaf.NrItems; i++)
        {
            if (leaf.Key(i).Type == type)
            {
                return i;
            }
        }

        throw new Xunit.Sdk.XunitException($"no {type} item in the block");
    }

    private static int FindInlineExtent(byte[] block)
    {
        var leaf = new LeafView(block);
        for (int i = 0; i < leaf.NrItems; i++)
        {
            if (leaf.Key(i).Type == ItemType.ExtentData && new FileExtentItemView(leaf.ItemData(i)).Type == FileExtentType.Inline)
            {
                return i;
            }
        }

        throw new Xunit.Sdk.XunitException("no inline extent in the block");
    }

    private static int FindChunk(byte[] block, BlockGroupFlags profile)
    {
        var leaf = new LeafView(block);
        for (int i = 0; i < leaf.NrItems; i++)
        {
            if (leaf.Key(i).Type == ItemType.ChunkItem && (new ChunkItemView(leaf.ItemData(i)).Type & profile) != 0)
            {
                return i;
            }
        }

        throw new Xunit.Sdk.XunitException($"no {profile} chunk in the block");
    }

    private static byte[] MakeNode(RealImage img, (BtrfsKey Key, ulong Ptr)[] pointers)
    {
        byte[] node = Copy(img.FsLeaf);
        node.AsSpan(HeaderLayout.Size).Clear();
        var w = new NodeWriter(node);
        HeaderWriter header = w.Header;
        header.Level = 1;
        header.NrItems = (uint)pointers.Length;
        for (int i = 0; i < pointers.Length; i++)
        {
            w.SetPointer(i, pointers[i].Key, pointers[i].Ptr, 7);
        }

        img.Reseal(node);
        return node;
    }
}
