// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;

namespace Crfs.Format.Tests.Btrfs;

/// <summary>
/// Freezes every on-disk size, offset and enum value against the btrfs format (btrfs-format.md,
/// <c>btrfs_tree.h</c>). These numbers are the kernel's, not ours: a failure here means a layout
/// class drifted, never that the expectation should be updated.
/// </summary>
public class FormatStabilityTests
{
    public static TheoryData<string, int, int> Offsets => new()
    {
        // name, actual, expected
        { "DiskKey.ObjectId", DiskKeyLayout.ObjectId, 0 },
        { "DiskKey.Type", DiskKeyLayout.Type, 8 },
        { "DiskKey.Offset", DiskKeyLayout.Offset, 9 },
        { "DiskKey.Size", DiskKeyLayout.Size, 17 },
        { "Timespec.Nanoseconds", TimespecLayout.Nanoseconds, 8 },
        { "Timespec.Size", TimespecLayout.Size, 12 },

        { "Header.Fsid", HeaderLayout.Fsid, 0x20 },
        { "Header.Bytenr", HeaderLayout.Bytenr, 0x30 },
        { "Header.Flags", HeaderLayout.Flags, 0x38 },
        { "Header.ChunkTreeUuid", HeaderLayout.ChunkTreeUuid, 0x40 },
        { "Header.Generation", HeaderLayout.Generation, 0x50 },
        { "Header.Owner", HeaderLayout.Owner, 0x58 },
        { "Header.NrItems", HeaderLayout.NrItems, 0x60 },
        { "Header.Level", HeaderLayout.Level, 0x64 },
        { "Header.Size", HeaderLayout.Size, 101 },
        { "ItemHeader.Offset", ItemHeaderLayout.Offset, 17 },
        { "ItemHeader.DataSize", ItemHeaderLayout.DataSize, 21 },
        { "ItemHeader.Size", ItemHeaderLayout.Size, 25 },
        { "KeyPointer.BlockPtr", KeyPointerLayout.BlockPtr, 17 },
        { "KeyPointer.Generation", KeyPointerLayout.Generation, 25 },
        { "KeyPointer.Size", KeyPointerLayout.Size, 33 },

        { "Superblock.Fsid", SuperblockLayout.Fsid, 0x20 },
        { "Superblock.Bytenr", SuperblockLayout.Bytenr, 0x30 },
        { "Superblock.Flags", SuperblockLayout.Flags, 0x38 },
        { "Superblock.Magic", SuperblockLayout.Magic, 0x40 },
        { "Superblock.Generation", SuperblockLayout.Generation, 0x48 },
        { "Superblock.Root", SuperblockLayout.Root, 0x50 },
        { "Superblock.ChunkRoot", SuperblockLayout.ChunkRoot, 0x58 },
        { "Superblock.LogRoot", SuperblockLayout.LogRoot, 0x60 },
        { "Superblock.LogRootTransid", SuperblockLayout.LogRootTransid, 0x68 },
        { "Superblock.TotalBytes", SuperblockLayout.TotalBytes, 0x70 },
        { "Superblock.BytesUsed", SuperblockLayout.BytesUsed, 0x78 },
        { "Superblock.RootDirObjectId", SuperblockLayout.RootDirObjectId, 0x80 },
        { "Superblock.NumDevices", SuperblockLayout.NumDevices, 0x88 },
        { "Superblock.SectorSize", SuperblockLayout.SectorSize, 0x90 },
        { "Superblock.NodeSize", SuperblockLayout.NodeSize, 0x94 },
        { "Superblock.LeafSize", SuperblockLayout.LeafSize, 0x98 },
        { "Superblock.StripeSize", SuperblockLayout.StripeSize, 0x9C },
        { "Superblock.SysChunkArraySize", SuperblockLayout.SysChunkArraySize, 0xA0 },
        { "Superblock.ChunkRootGeneration", SuperblockLayout.ChunkRootGeneration, 0xA4 },
        { "Superblock.CompatFlags", SuperblockLayout.CompatFlags, 0xAC },
        { "Superblock.CompatRoFlags", SuperblockLayout.CompatRoFlags, 0xB4 },
        { "Superblock.IncompatFlags", SuperblockLayout.IncompatFlags, 0xBC },
        { "Superblock.CsumType", SuperblockLayout.CsumType, 0xC4 },
        { "Superblock.RootLevel", SuperblockLayout.RootLevel, 0xC6 },
        { "Superblock.ChunkRootLevel", SuperblockLayout.ChunkRootLevel, 0xC7 },
        { "Superblock.LogRootLevel", SuperblockLayout.LogRootLevel, 0xC8 },
        { "Superblock.DevItem", SuperblockLayout.DevItem, 0xC9 },
        { "Superblock.Label", SuperblockLayout.Label, 0x12B },
        { "Superblock.CacheGeneration", SuperblockLayout.CacheGeneration, 0x22B },
        { "Superblock.UuidTreeGeneration", SuperblockLayout.UuidTreeGeneration, 0x233 },
        { "Superblock.MetadataUuid", SuperblockLayout.MetadataUuid, 0x23B },
        { "Superblock.NrGlobalRoots", SuperblockLayout.NrGlobalRoots, 0x24B },
        { "Superblock.RemapRoot", SuperblockLayout.RemapRoot, 0x253 },
        { "Superblock.SysChunkArray", SuperblockLayout.SysChunkArray, 0x32B },
        { "Superblock.SuperRoots", SuperblockLayout.SuperRoots, 0xB2B },
        { "Superblock.Padding", SuperblockLayout.Padding, 0xDCB },
        { "Superblock.Size", SuperblockLayout.Size, 4096 },

        { "RootBackup.TreeRootGen", RootBackupLayout.TreeRootGen, 8 },
        { "RootBackup.ChunkRoot", RootBackupLayout.ChunkRoot, 16 },
        { "RootBackup.ExtentRoot", RootBackupLayout.ExtentRoot, 32 },
        { "RootBackup.FsRoot", RootBackupLayout.FsRoot, 48 },
        { "RootBackup.DevRoot", RootBackupLayout.DevRoot, 64 },
        { "RootBackup.CsumRoot", RootBackupLayout.CsumRoot, 80 },
        { "RootBackup.TotalBytes", RootBackupLayout.TotalBytes, 96 },
        { "RootBackup.BytesUsed", RootBackupLayout.BytesUsed, 104 },
        { "RootBackup.NumDevices", RootBackupLayout.NumDevices, 112 },
        { "RootBackup.TreeRootLevel", RootBackupLayout.TreeRootLevel, 152 },
        { "RootBackup.CsumRootLevel", RootBackupLayout.CsumRootLevel, 157 },
        { "RootBackup.Size", RootBackupLayout.Size, 168 },

        { "DevItem.TotalBytes", DevItemLayout.TotalBytes, 8 },
        { "DevItem.BytesUsed", DevItemLayout.BytesUsed, 16 },
        { "DevItem.IoAlign", DevItemLayout.IoAlign, 24 },
        { "DevItem.IoWidth", DevItemLayout.IoWidth, 28 },
        { "DevItem.SectorSize", DevItemLayout.SectorSize, 32 },
        { "DevItem.Type", DevItemLayout.Type, 36 },
        { "DevItem.Generation", DevItemLayout.Generation, 44 },
        { "DevItem.StartOffset", DevItemLayout.StartOffset, 52 },
        { "DevItem.DevGroup", DevItemLayout.DevGroup, 60 },
        { "DevItem.SeekSpeed", DevItemLayout.SeekSpeed, 64 },
        { "DevItem.Bandwidth", DevItemLayout.Bandwidth, 65 },
        { "DevItem.Uuid", DevItemLayout.Uuid, 66 },
        { "DevItem.Fsid", DevItemLayout.Fsid, 82 },
        { "DevItem.Size", DevItemLayout.Size, 98 },

        { "InodeItem.Transid", InodeItemLayout.Transid, 8 },
        { "InodeItem.FileSize", InodeItemLayout.FileSize, 16 },
        { "InodeItem.Nbytes", InodeItemLayout.Nbytes, 24 },
        { "InodeItem.BlockGroup", InodeItemLayout.BlockGroup, 32 },
        { "InodeItem.Nlink", InodeItemLayout.Nlink, 40 },
        { "InodeItem.Uid", InodeItemLayout.Uid, 44 },
        { "InodeItem.Gid", InodeItemLayout.Gid, 48 },
        { "InodeItem.Mode", InodeItemLayout.Mode, 52 },
        { "InodeItem.Rdev", InodeItemLayout.Rdev, 56 },
        { "InodeItem.Flags", InodeItemLayout.Flags, 64 },
        { "InodeItem.Sequence", InodeItemLayout.Sequence, 72 },
        { "InodeItem.Atime", InodeItemLayout.Atime, 112 },
        { "InodeItem.Ctime", InodeItemLayout.Ctime, 124 },
        { "InodeItem.Mtime", InodeItemLayout.Mtime, 136 },
        { "InodeItem.Otime", InodeItemLayout.Otime, 148 },
        { "InodeItem.Size", InodeItemLayout.Size, 160 },

        { "InodeRef.NameLength", InodeRefLayout.NameLength, 8 },
        { "InodeRef.Size", InodeRefLayout.Size, 10 },
        { "InodeExtref.Index", InodeExtrefLayout.Index, 8 },
        { "InodeExtref.NameLength", InodeExtrefLayout.NameLength, 16 },
        { "InodeExtref.Size", InodeExtrefLayout.Size, 18 },
        { "DirItem.Transid", DirItemLayout.Transid, 17 },
        { "DirItem.DataLength", DirItemLayout.DataLength, 25 },
        { "DirItem.NameLength", DirItemLayout.NameLength, 27 },
        { "DirItem.Type", DirItemLayout.Type, 29 },
        { "DirItem.Size", DirItemLayout.Size, 30 },

        { "FileExtentItem.RamBytes", FileExtentItemLayout.RamBytes, 8 },
        { "FileExtentItem.Compression", FileExtentItemLayout.Compression, 16 },
        { "FileExtentItem.Encryption", FileExtentItemLayout.Encryption, 17 },
        { "FileExtentItem.OtherEncoding", FileExtentItemLayout.OtherEncoding, 18 },
        { "FileExtentItem.Type", FileExtentItemLayout.Type, 20 },
        { "FileExtentItem.InlineDataStart", FileExtentItemLayout.InlineDataStart, 21 },
        { "FileExtentItem.DiskNumBytes", FileExtentItemLayout.DiskNumBytes, 29 },
        { "FileExtentItem.Offset", FileExtentItemLayout.Offset, 37 },
        { "FileExtentItem.NumBytes", FileExtentItemLayout.NumBytes, 45 },
        { "FileExtentItem.Size", FileExtentItemLayout.Size, 53 },

        { "RootItem.Generation", RootItemLayout.Generation, 160 },
        { "RootItem.RootDirId", RootItemLayout.RootDirId, 168 },
        { "RootItem.Bytenr", RootItemLayout.Bytenr, 176 },
        { "RootItem.ByteLimit", RootItemLayout.ByteLimit, 184 },
        { "RootItem.BytesUsed", RootItemLayout.BytesUsed, 192 },
        { "RootItem.LastSnapshot", RootItemLayout.LastSnapshot, 200 },
        { "RootItem.Flags", RootItemLayout.Flags, 208 },
        { "RootItem.Refs", RootItemLayout.Refs, 216 },
        { "RootItem.DropProgress", RootItemLayout.DropProgress, 220 },
        { "RootItem.DropLevel", RootItemLayout.DropLevel, 237 },
        { "RootItem.Level", RootItemLayout.Level, 238 },
        { "RootItem.GenerationV2", RootItemLayout.GenerationV2, 239 },
        { "RootItem.Uuid", RootItemLayout.Uuid, 247 },
        { "RootItem.ParentUuid", RootItemLayout.ParentUuid, 263 },
        { "RootItem.ReceivedUuid", RootItemLayout.ReceivedUuid, 279 },
        { "RootItem.Ctransid", RootItemLayout.Ctransid, 295 },
        { "RootItem.Otransid", RootItemLayout.Otransid, 303 },
        { "RootItem.Stransid", RootItemLayout.Stransid, 311 },
        { "RootItem.Rtransid", RootItemLayout.Rtransid, 319 },
        { "RootItem.Ctime", RootItemLayout.Ctime, 327 },
        { "RootItem.Otime", RootItemLayout.Otime, 339 },
        { "RootItem.Stime", RootItemLayout.Stime, 351 },
        { "RootItem.Rtime", RootItemLayout.Rtime, 363 },
        { "RootItem.LegacySize", RootItemLayout.LegacySize, 239 },
        { "RootItem.Size", RootItemLayout.Size, 439 },
        { "RootRef.Sequence", RootRefLayout.Sequence, 8 },
        { "RootRef.NameLength", RootRefLayout.NameLength, 16 },
        { "RootRef.Size", RootRefLayout.Size, 18 },

        { "ChunkItem.Owner", ChunkItemLayout.Owner, 8 },
        { "ChunkItem.StripeLength", ChunkItemLayout.StripeLength, 16 },
        { "ChunkItem.Type", ChunkItemLayout.Type, 24 },
        { "ChunkItem.IoAlign", ChunkItemLayout.IoAlign, 32 },
        { "ChunkItem.IoWidth", ChunkItemLayout.IoWidth, 36 },
        { "ChunkItem.SectorSize", ChunkItemLayout.SectorSize, 40 },
        { "ChunkItem.NumStripes", ChunkItemLayout.NumStripes, 44 },
        { "ChunkItem.SubStripes", ChunkItemLayout.SubStripes, 46 },
        { "ChunkItem.Size", ChunkItemLayout.Size, 48 },
        { "Stripe.Offset", StripeLayout.Offset, 8 },
        { "Stripe.DevUuid", StripeLayout.DevUuid, 16 },
        { "Stripe.Size", StripeLayout.Size, 32 },
        { "DevExtent.ChunkObjectId", DevExtentLayout.ChunkObjectId, 8 },
        { "DevExtent.ChunkOffset", DevExtentLayout.ChunkOffset, 16 },
        { "DevExtent.Length", DevExtentLayout.Length, 24 },
        { "DevExtent.ChunkTreeUuid", DevExtentLayout.ChunkTreeUuid, 32 },
        { "DevExtent.Size", DevExtentLayout.Size, 48 },
        { "BlockGroupItem.ChunkObjectId", BlockGroupItemLayout.ChunkObjectId, 8 },
        { "BlockGroupItem.Flags", BlockGroupItemLayout.Flags, 16 },
        { "BlockGroupItem.Size", BlockGroupItemLayout.Size, 24 },

        { "ExtentItem.Generation", ExtentItemLayout.Generation, 8 },
        { "ExtentItem.Flags", ExtentItemLayout.Flags, 16 },
        { "ExtentItem.Size", ExtentItemLayout.Size, 24 },
        { "TreeBlockInfo.Level", TreeBlockInfoLayout.Level, 17 },
        { "TreeBlockInfo.Size", TreeBlockInfoLayout.Size, 18 },
        { "ExtentInlineRef.Offset", ExtentInlineRefLayout.Offset, 1 },
        { "ExtentInlineRef.Size", ExtentInlineRefLayout.Size, 9 },
        { "ExtentDataRef.ObjectId", ExtentDataRefLayout.ObjectId, 8 },
        { "ExtentDataRef.Offset", ExtentDataRefLayout.Offset, 16 },
        { "ExtentDataRef.Count", ExtentDataRefLayout.Count, 24 },
        { "ExtentDataRef.Size", ExtentDataRefLayout.Size, 28 },
        { "SharedDataRef.Size", SharedDataRefLayout.Size, 4 },
        { "FreeSpaceInfo.Flags", FreeSpaceInfoLayout.Flags, 4 },
        { "FreeSpaceInfo.Size", FreeSpaceInfoLayout.Size, 8 },
        { "DevStats.Size", DevStatsLayout.Size, 40 },
    };

    [Theory]
    [MemberData(nameof(Offsets))]
    public void LayoutOffsetMatchesTheBtrfsFormat(string field, int actual, int expected) =>
        Assert.True(actual == expected, $"{field} is {actual}, btrfs puts it at {expected}");

    [Fact]
    public void InlineRefSizesMatchTheBtrfsFormat()
    {
        Assert.Equal(9, ExtentInlineRefLayout.SizeOf(ItemType.TreeBlockRef));
        Assert.Equal(9, ExtentInlineRefLayout.SizeOf(ItemType.SharedBlockRef));
        Assert.Equal(29, ExtentInlineRefLayout.SizeOf(ItemType.ExtentDataRef));
        Assert.Equal(13, ExtentInlineRefLayout.SizeOf(ItemType.SharedDataRef));
        Assert.Equal(9, ExtentInlineRefLayout.SizeOf(ExtentInlineRefLayout.ExtentOwnerRef));
        Assert.Equal(-1, ExtentInlineRefLayout.SizeOf(ItemType.InodeItem));
    }

    [Fact]
    public void GeometryMatchesKernelLimitsFor16KiBNodes()
    {
        Assert.Equal(16283, TreeBlockGeometry.LeafDataSize(16384));
        Assert.Equal(493, TreeBlockGeometry.MaxKeyPointers(16384));
        Assert.Equal(16258, TreeBlockGeometry.MaxItemSize(16384));
        Assert.Equal(16228, TreeBlockGeometry.MaxXattrSize(16384));
    }

    [Fact]
    public void SuperblockMirrorOffsetsAreFrozen()
    {
        Assert.Equal(0x10000UL, SuperblockLayout.MirrorOffset(0));
        Assert.Equal(0x4000000UL, SuperblockLayout.MirrorOffset(1));
        Assert.Equal(0x4000000000UL, SuperblockLayout.MirrorOffset(2));
        Assert.Equal(0x4D5F53665248425FUL, SuperblockLayout.MagicValue);
    }

    [Fact]
    public void ItemTypeValuesAreFrozen()
    {
        (ItemType Type, byte Value)[] expected =
        [
            (ItemType.InodeItem, 1), (ItemType.InodeRef, 12), (ItemType.InodeExtref, 13), (ItemType.XattrItem, 24),
            (ItemType.VerityDescItem, 36), (ItemType.VerityMerkleItem, 37), (ItemType.OrphanItem, 48),
            (ItemType.DirLogItem, 60), (ItemType.DirLogIndex, 72), (ItemType.DirItem, 84), (ItemType.DirIndex, 96),
            (ItemType.ExtentData, 108), (ItemType.ExtentCsum, 128), (ItemType.RootItem, 132), (ItemType.RootBackref, 144),
            (ItemType.RootRef, 156), (ItemType.ExtentItem, 168), (ItemType.MetadataItem, 169), (ItemType.TreeBlockRef, 176),
            (ItemType.ExtentDataRef, 178), (ItemType.SharedBlockRef, 182), (ItemType.SharedDataRef, 184),
            (ItemType.BlockGroupItem, 192), (ItemType.FreeSpaceInfo, 198), (ItemType.FreeSpaceExtent, 199),
            (ItemType.FreeSpaceBitmap, 200), (ItemType.DevExtent, 204), (ItemType.DevItem, 216), (ItemType.ChunkItem, 228),
            (ItemType.QgroupStatus, 240), (ItemType.QgroupInfo, 242), (ItemType.QgroupLimit, 244),
            (ItemType.QgroupRelation, 246), (ItemType.TemporaryItem, 248), (ItemType.PersistentItem, 249),
            (ItemType.DevReplace, 250), (ItemType.UuidKeySubvol, 251), (ItemType.UuidKeyReceivedSubvol, 252),
            (ItemType.StringItem, 253),
        ];
        foreach ((ItemType type, byte value) in expected)
        {
            Assert.Equal(value, (byte)type);
        }

        Assert.Equal(expected.Length, Enum.GetValues<ItemType>().Length);
    }

    [Fact]
    public void ObjectIdValuesAreFrozen()
    {
        Assert.Equal(1UL, ObjectIds.RootTree);
        Assert.Equal(2UL, ObjectIds.ExtentTree);
        Assert.Equal(3UL, ObjectIds.ChunkTree);
        Assert.Equal(4UL, ObjectIds.DevTree);
        Assert.Equal(5UL, ObjectIds.FsTree);
        Assert.Equal(6UL, ObjectIds.RootTreeDir);
        Assert.Equal(7UL, ObjectIds.CsumTree);
        Assert.Equal(8UL, ObjectIds.QuotaTree);
        Assert.Equal(9UL, ObjectIds.UuidTree);
        Assert.Equal(10UL, ObjectIds.FreeSpaceTree);
        Assert.Equal(11UL, ObjectIds.BlockGroupTree);
        Assert.Equal(12UL, ObjectIds.RaidStripeTree);
        Assert.Equal(0UL, ObjectIds.DevStats);
        Assert.Equal(1UL, ObjectIds.DevItems);
        Assert.Equal(256UL, ObjectIds.FirstFree);
        Assert.Equal(256UL, ObjectIds.FirstChunkTree);
        Assert.Equal(ulong.MaxValue - 255, ObjectIds.LastFree);
        Assert.Equal(ulong.MaxValue - 3, ObjectIds.Balance);
        Assert.Equal(ulong.MaxValue - 4, ObjectIds.Orphan);
        Assert.Equal(ulong.MaxValue - 5, ObjectIds.TreeLog);
        Assert.Equal(ulong.MaxValue - 6, ObjectIds.TreeLogFixup);
        Assert.Equal(ulong.MaxValue - 7, ObjectIds.TreeReloc);
        Assert.Equal(ulong.MaxValue - 8, ObjectIds.DataRelocTree);
        Assert.Equal(ulong.MaxValue - 9, ObjectIds.ExtentCsum);
        Assert.Equal(ulong.MaxValue - 10, ObjectIds.FreeSpace);
        Assert.Equal(ulong.MaxValue - 11, ObjectIds.FreeIno);
        Assert.Equal(ulong.MaxValue - 254, ObjectIds.MultipleObjectIds);
        Assert.Equal(2UL, ObjectIds.EmptySubvolDir);
    }

    [Fact]
    public void FeatureFlagValuesAreFrozen()
    {
        Assert.Equal(0x1UL, (ulong)IncompatFeatures.MixedBackref);
        Assert.Equal(0x2UL, (ulong)IncompatFeatures.DefaultSubvol);
        Assert.Equal(0x4UL, (ulong)IncompatFeatures.MixedGroups);
        Assert.Equal(0x8UL, (ulong)IncompatFeatures.CompressLzo);
        Assert.Equal(0x10UL, (ulong)IncompatFeatures.CompressZstd);
        Assert.Equal(0x20UL, (ulong)IncompatFeatures.BigMetadata);
        Assert.Equal(0x40UL, (ulong)IncompatFeatures.ExtendedIref);
        Assert.Equal(0x80UL, (ulong)IncompatFeatures.Raid56);
        Assert.Equal(0x100UL, (ulong)IncompatFeatures.SkinnyMetadata);
        Assert.Equal(0x200UL, (ulong)IncompatFeatures.NoHoles);
        Assert.Equal(0x400UL, (ulong)IncompatFeatures.MetadataUuid);
        Assert.Equal(0x800UL, (ulong)IncompatFeatures.Raid1c34);
        Assert.Equal(0x1000UL, (ulong)IncompatFeatures.Zoned);
        Assert.Equal(0x2000UL, (ulong)IncompatFeatures.ExtentTreeV2);
        Assert.Equal(0x4000UL, (ulong)IncompatFeatures.RaidStripeTree);
        Assert.Equal(0x10000UL, (ulong)IncompatFeatures.SimpleQuota);
        Assert.Equal(0x20000UL, (ulong)IncompatFeatures.RemapTree);
        Assert.Equal(0x341UL, (ulong)(IncompatFeatures.MixedBackref | IncompatFeatures.ExtendedIref | IncompatFeatures.SkinnyMetadata | IncompatFeatures.NoHoles));

        Assert.Equal(0x1UL, (ulong)CompatRoFeatures.FreeSpaceTree);
        Assert.Equal(0x2UL, (ulong)CompatRoFeatures.FreeSpaceTreeValid);
        Assert.Equal(0x4UL, (ulong)CompatRoFeatures.Verity);
        Assert.Equal(0x8UL, (ulong)CompatRoFeatures.BlockGroupTree);

        Assert.Equal(1UL, (ulong)SuperblockFlags.Written);
        Assert.Equal(4UL, (ulong)SuperblockFlags.Error);
        Assert.Equal(1UL << 32, (ulong)SuperblockFlags.Seeding);
        Assert.Equal(1UL << 33, (ulong)SuperblockFlags.Metadump);
        Assert.Equal(1UL << 34, (ulong)SuperblockFlags.MetadumpV2);
        Assert.Equal(1UL << 35, (ulong)SuperblockFlags.ChangingFsid);
        Assert.Equal(1UL << 36, (ulong)SuperblockFlags.ChangingFsidV2);
    }

    [Fact]
    public void BlockGroupFlagValuesAreFrozen()
    {
        Assert.Equal(0x1UL, (ulong)BlockGroupFlags.Data);
        Assert.Equal(0x2UL, (ulong)BlockGroupFlags.System);
        Assert.Equal(0x4UL, (ulong)BlockGroupFlags.Metadata);
        Assert.Equal(0x8UL, (ulong)BlockGroupFlags.Raid0);
        Assert.Equal(0x10UL, (ulong)BlockGroupFlags.Raid1);
        Assert.Equal(0x20UL, (ulong)BlockGroupFlags.Dup);
        Assert.Equal(0x40UL, (ulong)BlockGroupFlags.Raid10);
        Assert.Equal(0x80UL, (ulong)BlockGroupFlags.Raid5);
        Assert.Equal(0x100UL, (ulong)BlockGroupFlags.Raid6);
        Assert.Equal(0x200UL, (ulong)BlockGroupFlags.Raid1c3);
        Assert.Equal(0x400UL, (ulong)BlockGroupFlags.Raid1c4);
    }

    [Fact]
    public void ItemEnumValuesAreFrozen()
    {
        Assert.Equal(0, (ushort)ChecksumType.Crc32c);
        Assert.Equal(1, (ushort)ChecksumType.XxHash64);
        Assert.Equal(2, (ushort)ChecksumType.Sha256);
        Assert.Equal(3, (ushort)ChecksumType.Blake2b);
        Assert.Equal(0, (byte)CompressionType.None);
        Assert.Equal(1, (byte)CompressionType.Zlib);
        Assert.Equal(2, (byte)CompressionType.Lzo);
        Assert.Equal(3, (byte)CompressionType.Zstd);
        Assert.Equal(0, (byte)FileExtentType.Inline);
        Assert.Equal(1, (byte)FileExtentType.Regular);
        Assert.Equal(2, (byte)FileExtentType.Prealloc);
        byte[] dirTypes = [0, 1, 2, 3, 4, 5, 6, 7, 8];
        Assert.Equal(dirTypes, Enum.GetValues<DirEntryType>().Select(t => (byte)t));
        Assert.Equal(1UL, (ulong)ExtentFlags.Data);
        Assert.Equal(2UL, (ulong)ExtentFlags.TreeBlock);
        Assert.Equal(0x100UL, (ulong)ExtentFlags.FullBackref);
        Assert.Equal(1UL, (ulong)RootItemFlags.ReadOnly);
        Assert.Equal(1UL << 48, (ulong)RootItemFlags.Dead);
        Assert.Equal(1UL, (ulong)TreeBlockFlags.Written);
        Assert.Equal(2UL, (ulong)TreeBlockFlags.Reloc);
        Assert.Equal(1U, (uint)FreeSpaceInfoFlags.UsingBitmaps);
        Assert.Equal(1UL, (ulong)InodeFlags.NoDataSum);
        Assert.Equal(2UL, (ulong)InodeFlags.NoDataCow);
        Assert.Equal(0x800UL, (ulong)InodeFlags.Compress);
        Assert.Equal(1UL << 31, (ulong)InodeFlags.RootItemInit);
        Assert.Equal(1UL << 32, (ulong)InodeFlags.Verity);
        Assert.Equal(0x80000FFFUL, (ulong)InodeFlags.KnownMask);
    }
}
