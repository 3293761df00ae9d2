// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using Crfs.Format.Checksums;

namespace Crfs.Format.Btrfs;

/// <summary>
/// What the parent (or the superblock / ROOT_ITEM) says about a block before it is read: the
/// kernel's <c>verify_parent_transid</c> and <c>btrfs_verify_level_key</c> inputs. A block that is
/// intact on its own may still be the wrong block (a stale copy, a misdirected write), and only
/// these catch that. <see cref="None"/> skips them (e.g. a block dumped by address).
/// </summary>
/// <param name="Level">The level the block must have, or -1 when unknown.</param>
/// <param name="Generation">The header generation the pointer recorded, or 0 when unknown.</param>
/// <param name="OwnerTree">The tree being walked, or 0 when unknown.</param>
/// <param name="FirstKey">The key the parent pointer carries, when read through a node.</param>
public readonly record struct TreeBlockExpectation(int Level, ulong Generation, ulong OwnerTree, BtrfsKey? FirstKey)
{
    public static readonly TreeBlockExpectation None = new(-1, 0, 0, null);
}

/// <summary>
/// Validates a tree block once, when it is read from disk, so that everything above — the views,
/// the tree cursor, the file-system reader, <c>dump-tree</c> — can index into it without bounds
/// checks of its own. The rules follow the kernel's tree-checker (btrfs-format.md §3.6–3.8):
/// checksum, address, fsid, level, item layout, key order, and the per-item invariants that matter
/// for safety (fixed item sizes, entries of multi-entry items inside their item, name hashes).
/// </summary>
/// <remarks>
/// <para>
/// Two kinds of checks are kept apart. <see cref="Validate"/> depends only on the block and the
/// volume's constants, so its verdict can be cached with the block. <see cref="ValidateExpectation"/>
/// depends on how the block was reached (parent pointer, ROOT_ITEM, superblock) and is repeated on
/// every fetch, which is cheap. Both return a fault description instead of throwing so that a
/// caller with several mirrors can collect one fault per copy; <see cref="Check"/> throws
/// <see cref="CorruptBlockException"/> for callers with only one copy.
/// </para>
/// <para>
/// Over-strict checks would refuse valid volumes, so every rule here is one the kernel also
/// enforces, except a few size checks (INODE_EXTREF entries, ROOT_REF, DEV_EXTENT,
/// FREE_SPACE_INFO) that the kernel leaves out but that the views rely on; the kernel and
/// btrfs-progs only ever write those items at their exact sizes.
/// </para>
/// </remarks>
public sealed class TreeBlockChecker
{
    private readonly byte[] _metadataFsid;
    private ulong _generationLimit;
    private readonly IncompatFeatures _incompat;
    private readonly bool _skipCsumItemChecks;

    public TreeBlockChecker(
        int nodeSize,
        int sectorSize,
        ChecksumType checksumType,
        ReadOnlySpan<byte> metadataFsid,
        ulong superGeneration,
        IncompatFeatures incompat,
        SuperblockFlags superFlags = SuperblockFlags.None)
    {
        NodeSize = nodeSize;
        SectorSize = sectorSize;
        ChecksumType = checksumType;
        ChecksumSize = BtrfsChecksum.Size(checksumType);
        _metadataFsid = metadataFsid[..UuidFormat.Size].ToArray();
        _generationLimit = superGeneration + 1; // log trees are written at generation + 1
        _incompat = incompat;
        _skipCsumItemChecks = (superFlags & (SuperblockFlags.ChangingDataCsum | SuperblockFlags.ChangingMetaCsum)) != 0;
    }

    public int NodeSize { get; }

    /// <summary>
    /// Raises the generation bound once the volume's owner has started writing generation
    /// <paramref name="superGeneration"/>. A writer re-reads blocks it wrote after opening (when
    /// they fall out of its caches); to the bound taken from the superblock at open they would
    /// look like blocks from the future. Never lowers the bound; safe to call from any thread.
    /// </summary>
    public void AdvanceSuperGeneration(ulong superGeneration)
    {
        ulong limit = superGeneration + 1;
        ulong seen = Volatile.Read(ref _generationLimit);
        while (limit > seen)
        {
            ulong previous = Interlocked.CompareExchange(ref _generationLimit, limit, seen);
            if (previous == seen)
            {
                return;
            }

            seen = previous;
        }
    }

    public int SectorSize { get; }

    public ChecksumType ChecksumType { get; }

    public int ChecksumSize { get; }

    /// <summary>A checker for the volume a validated superblock describes.</summary>
    public static TreeBlockChecker ForSuperblock(SuperblockView superblock) => new(
        (int)superblock.NodeSize,
        (int)superblock.SectorSize,
        superblock.CsumType,
        superblock.MetadataFsid,
        superblock.Generation,
        superblock.IncompatFlags,
        superblock.Flags);

    /// <summary>Throws <see cref="CorruptBlockException"/> unless both checks pass.</summary>
    public void Check(ReadOnlySpan<byte> block, ulong logical, int mirror, in TreeBlockExpectation expected)
    {
        string? fault = Validate(block, logical) ?? ValidateExpectation(block, expected);
        if (fault is not null)
        {
            throw new CorruptBlockException(logical, mirror, fault);
        }
    }

    /// <summary>
    /// The block-intrinsic checks. Returns null when the block is sound, else what is wrong
    /// (one line, naming the slot and key where there is one).
    /// </summary>
    public string? Validate(ReadOnlySpan<byte> block, ulong logical)
    {
        if (block.Length != NodeSize)
        {
            return $"block is {block.Length} bytes, nodesize is {NodeSize}";
        }

        Span<byte> computed = stackalloc byte[BtrfsChecksum.MaxSize];
        BtrfsChecksum.Compute(ChecksumType, block[HeaderLayout.Fsid..], computed);
        ReadOnlySpan<byte> stored = block[..ChecksumSize];
        if (!stored.SequenceEqual(computed[..ChecksumSize]))
        {
            return $"checksum mismatch: stored 0x{Convert.ToHexStringLower(stored)} computed 0x{Convert.ToHexStringLower(computed[..ChecksumSize])}";
        }

        var header = new HeaderView(block);
        if (header.Bytenr != logical)
        {
            return $"bytenr mismatch: header says {header.Bytenr}";
        }

        if (!header.Fsid.SequenceEqual(_metadataFsid))
        {
            return $"fsid mismatch: header has {UuidFormat.ToString(header.Fsid)}, volume is {UuidFormat.ToString(_metadataFsid)}";
        }

        if (header.Level >= HeaderLayout.MaxLevel)
        {
            return $"invalid level {header.Level}, expected [0, {HeaderLayout.MaxLevel})";
        }

        return header.Level == 0 ? ValidateLeaf(block) : ValidateNode(block);
    }

    /// <summary>
    /// The checks that depend on how the block was reached: level, generation (parent transid),
    /// owner and first key.
    /// </summary>
    public string? ValidateExpectation(ReadOnlySpan<byte> block, in TreeBlockExpectation expected)
    {
        var header = new HeaderView(block);
        if (expected.Level >= 0 && header.Level != expected.Level)
        {
            return $"level mismatch: block has level {header.Level}, expected {expected.Level}";
        }

        if (expected.Generation != 0 && header.Generation != expected.Generation)
        {
            return $"parent transid verify failed: block has generation {header.Generation}, expected {expected.Generation}";
        }

        string? ownerFault = CheckOwner(header.Owner, expected.OwnerTree);
        if (ownerFault is not null)
        {
            return ownerFault;
        }

        if (expected.FirstKey is BtrfsKey firstKey)
        {
            if (header.NrItems == 0)
            {
                return $"empty block where the parent expects first key {firstKey}";
            }

            BtrfsKey found = header.Level == 0 ? new LeafView(block).Key(0) : new NodeView(block).Key(0);
            if (found != firstKey)
            {
                return $"first key mismatch: block starts at {found}, parent expects {firstKey}";
            }
        }

        return null;
    }

    private static string? CheckOwner(ulong owner, ulong tree)
    {
        // The log and relocation trees name their owner in the key offset; the kernel skips them too.
        if (tree == 0 || tree == ObjectIds.TreeLog || tree == ObjectIds.TreeReloc)
        {
            return null;
        }

        if (!ObjectIds.IsFsTree(tree))
        {
            return owner == tree ? null : $"owner mismatch: block owned by tree {owner}, expected {tree}";
        }

        // Subvolume trees share blocks with their snapshots, so any subvolume may own them.
        return ObjectIds.IsFsTree(owner) ? null : $"owner mismatch: block owned by tree {owner}, expected a subvolume tree";
    }

    private string? ValidateNode(ReadOnlySpan<byte> block)
    {
        var node = new NodeView(block);
        int n = node.NrItems;
        int max = TreeBlockGeometry.MaxKeyPointers(NodeSize);
        if ((uint)n == 0 || n > max)
        {
            return $"node nritems {node.Header.NrItems} out of range [1, {max}]";
        }

        for (int slot = 0; slot < n; slot++)
        {
            ulong ptr = node.BlockPtr(slot);
            if (ptr == 0 || ptr % (ulong)SectorSize != 0)
            {
                return $"node slot {slot} key {node.Key(slot)}: invalid block pointer {ptr}";
            }

            if (slot > 0 && node.Key(slot - 1) >= node.Key(slot))
            {
                return $"node slot {slot}: bad key order, previous {node.Key(slot - 1)} current {node.Key(slot)}";
            }
        }

        return null;
    }

    private string? ValidateLeaf(ReadOnlySpan<byte> block)
    {
        var leaf = new LeafView(block);
        uint nrItems = leaf.Header.NrItems;
        int dataSize = TreeBlockGeometry.LeafDataSize(NodeSize);
        if (nrItems == 0)
        {
            ulong owner = leaf.Header.Owner;
            if ((leaf.Header.Flags & TreeBlockFlags.Reloc) == 0 && owner is ObjectIds.RootTree or ObjectIds.ChunkTree
                or ObjectIds.DevTree or ObjectIds.FsTree or ObjectIds.DataRelocTree or ObjectIds.ExtentTree)
            {
                return $"empty leaf owned by tree {owner}, which must never be empty";
            }

            return owner == 0 ? "empty leaf with owner 0" : null;
        }

        if (nrItems > (uint)(dataSize / ItemHeaderLayout.Size))
        {
            return $"leaf nritems {nrItems} exceeds the {dataSize / ItemHeaderLayout.Size} item headers a leaf can hold";
        }

        int n = (int)nrItems;
        BtrfsKey prev = BtrfsKey.Min;
        for (int slot = 0; slot < n; slot++)
        {
            BtrfsKey key = leaf.Key(slot);
            if (slot > 0 && prev >= key)
            {
                return $"leaf slot {slot}: bad key order, previous {prev} current {key}";
            }

            ulong end = (ulong)leaf.ItemOffset(slot) + leaf.ItemSize(slot);
            ulong expectedEnd = slot == 0 ? (ulong)dataSize : leaf.ItemOffset(slot - 1);
            if (end != expectedEnd)
            {
                return $"leaf slot {slot} key {key}: item data ends at {end}, expected {expectedEnd}";
            }

            if (leaf.ItemOffset(slot) < (ulong)((slot + 1) * ItemHeaderLayout.Size))
            {
                return $"leaf slot {slot} key {key}: item data at {leaf.ItemOffset(slot)} overlaps the item headers";
            }

            string? fault = ValidateItem(leaf, slot, key, prev);
            if (fault is not null)
            {
                return $"leaf slot {slot} key {key}: {fault}";
            }

            prev = key;
        }

        return null;
    }

    private string? ValidateItem(LeafView leaf, int slot, BtrfsKey key, BtrfsKey prev)
    {
        ReadOnlySpan<byte> data = leaf.ItemData(slot);
        switch (key.Type)
        {
            case ItemType.InodeItem:
                return ValidateInodeItem(key, data);
            case ItemType.InodeRef:
                return ValidatePrevIno(leaf, slot, key, prev) ?? ValidateInodeRef(data);
            case ItemType.InodeExtref:
                return ValidateInodeExtref(data);
            case ItemType.DirItem:
            case ItemType.DirIndex:
            case ItemType.XattrItem:
                return ValidatePrevIno(leaf, slot, key, prev) ?? ValidateDirItem(key, data);
            case ItemType.ExtentData:
                return ValidatePrevIno(leaf, slot, key, prev) ?? ValidateFileExtent(leaf, slot, key, prev, data);
            case ItemType.ExtentCsum:
                return ValidateCsumItem(leaf, slot, key, prev, data);
            case ItemType.RootItem:
                return ValidateRootKey(key, isRootItem: true) ?? ValidateRootItem(data);
            case ItemType.RootRef:
            case ItemType.RootBackref:
                return ValidateRootRef(data);
            case ItemType.ChunkItem:
                return ValidateChunkItem(key, data);
            case ItemType.DevItem:
                return ValidateDevItem(key, data);
            case ItemType.DevExtent:
                return data.Length == DevExtentLayout.Size ? null : $"invalid item size {data.Length}, expected {DevExtentLayout.Size}";
            case ItemType.BlockGroupItem:
                return ValidateBlockGroupItem(key, data);
            case ItemType.ExtentItem:
            case ItemType.MetadataItem:
                return ValidateExtentItem(key, prev, data);
            case ItemType.TreeBlockRef:
            case ItemType.SharedBlockRef:
            case ItemType.SharedDataRef:
                return ValidateSimpleKeyedRef(key, data);
            case ItemType.ExtentDataRef:
                return ValidateKeyedDataRef(key, data);
            case ItemType.FreeSpaceInfo:
                return data.Length == FreeSpaceInfoLayout.Size ? null : $"invalid item size {data.Length}, expected {FreeSpaceInfoLayout.Size}";
            default:
                return null;
        }
    }

    // Every item of an inode sorts after its INODE_ITEM; in a subvolume leaf, an item whose
    // predecessor belongs to another inode means the INODE_ITEM is missing.
    private static string? ValidatePrevIno(LeafView leaf, int slot, BtrfsKey key, BtrfsKey prev)
    {
        if (slot == 0 || !ObjectIds.IsFsTree(leaf.Header.Owner) || prev.ObjectId == key.ObjectId)
        {
            return null;
        }

        return $"invalid previous key objectid {prev.ObjectId}, expected {key.ObjectId} (missing INODE_ITEM)";
    }

    private string? ValidateInodeItem(BtrfsKey key, ReadOnlySpan<byte> data)
    {
        string? keyFault = ValidateInodeKey(key, "key");
        if (keyFault is not null)
        {
            return keyFault;
        }

        if (data.Length != InodeItemLayout.Size)
        {
            return $"invalid item size {data.Length}, expected {InodeItemLayout.Size}";
        }

        var inode = new InodeItemView(data);
        if (inode.Generation > _generationLimit)
        {
            return $"invalid inode generation {inode.Generation}, expected at most {_generationLimit}";
        }

        if (inode.Transid > _generationLimit)
        {
            return $"invalid inode transid {inode.Transid}, expected at most {_generationLimit}";
        }

        uint mode = inode.Mode;
        if ((mode & ~InodeMode.ValidMask) != 0)
        {
            return $"unknown mode bits 0x{mode & ~InodeMode.ValidMask:x}";
        }

        if (InodeMode.ToDirEntryType(mode) == DirEntryType.Unknown)
        {
            return $"invalid file type in mode 0{Convert.ToString(mode, 8)}";
        }

        if (InodeMode.IsDirectory(mode) && inode.Nlink > 1)
        {
            return $"directory with nlink {inode.Nlink}";
        }

        ulong unknownFlags = (ulong)inode.Flags & 0xFFFF_FFFFUL & ~(ulong)InodeFlags.KnownMask;
        return unknownFlags == 0 ? null : $"unknown inode flags 0x{unknownFlags:x}";
    }

    private static string? ValidateInodeKey(BtrfsKey key, string what)
    {
        bool validId = (key.ObjectId >= ObjectIds.FirstFree && key.ObjectId <= ObjectIds.LastFree)
            || key.ObjectId == ObjectIds.RootTreeDir || key.ObjectId == ObjectIds.FreeIno;
        if (!validId)
        {
            return $"invalid {what} objectid {key.ObjectId} for an inode";
        }

        return key.Offset == 0 ? null : $"invalid {what} offset {key.Offset} for an inode, expected 0";
    }

    private static string? ValidateRootKey(BtrfsKey key, bool isRootItem)
    {
        if (key.ObjectId == 0)
        {
            return isRootItem ? "invalid root id 0" : "location key names root id 0";
        }

        if (!isRootItem && !ObjectIds.IsFsTree(key.ObjectId))
        {
            return $"location key names tree {key.ObjectId}, which is not a subvolume";
        }

        return key.ObjectId == ObjectIds.TreeReloc && key.Offset == 0 ? "reloc tree root with offset 0" : null;
    }

    private static string? ValidateInodeRef(ReadOnlySpan<byte> data)
    {
        if (data.Length <= InodeRefLayout.Size)
        {
            return $"invalid INODE_REF size {data.Length}, expected more than {InodeRefLayout.Size}";
        }

        int pos = 0;
        while (pos < data.Length)
        {
            if (pos + InodeRefLayout.Size > data.Length)
            {
                return $"inode ref entry header at {pos} crosses the item end {data.Length}";
            }

            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(data[(pos + InodeRefLayout.NameLength)..]);
            if (pos + InodeRefLayout.Size + nameLength > data.Length)
            {
                return $"inode ref entry at {pos} with name length {nameLength} crosses the item end {data.Length}";
            }

            pos += InodeRefLayout.Size + nameLength;
        }

        return null;
    }

    private static string? ValidateInodeExtref(ReadOnlySpan<byte> data)
    {
        if (data.Length <= InodeExtrefLayout.Size)
        {
            return $"invalid INODE_EXTREF size {data.Length}, expected more than {InodeExtrefLayout.Size}";
        }

        int pos = 0;
        while (pos < data.Length)
        {
            if (pos + InodeExtrefLayout.Size > data.Length)
            {
                return $"inode extref entry header at {pos} crosses the item end {data.Length}";
            }

            int nameLength = BinaryPrimitives.ReadUInt16LittleEndian(data[(pos + InodeExtrefLayout.NameLength)..]);
            if (pos + InodeExtrefLayout.Size + nameLength > data.Length)
            {
                return $"inode extref entry at {pos} with name length {nameLength} crosses the item end {data.Length}";
            }

            pos += InodeExtrefLayout.Size + nameLength;
        }

        return null;
    }

    private string? ValidateDirItem(BtrfsKey key, ReadOnlySpan<byte> data)
    {
        int maxXattr = TreeBlockGeometry.MaxXattrSize(NodeSize);
        int pos = 0;
        int entries = 0;
        while (pos < data.Length)
        {
            if (pos + DirItemLayout.Size > data.Length)
            {
                return $"dir item header at {pos} crosses the item end {data.Length}";
            }

            var entry = new DirItemView(data[pos..]);
            BtrfsKey location = entry.Location;
            string? locationFault;
            if (key.Type == ItemType.XattrItem)
            {
                locationFault = location == BtrfsKey.Min ? null : $"xattr location key {location} is not zero";
            }
            else
            {
                locationFault = location.Type switch
                {
                    ItemType.RootItem => ValidateRootKey(location, isRootItem: false),
                    ItemType.InodeItem or 0 => ValidateInodeKey(location, "location key"),
                    _ => $"invalid location key type {(byte)location.Type}",
                };
            }

            if (locationFault is not null)
            {
                return locationFault;
            }

            // The top bit flags an encrypted name (BTRFS_FT_ENCRYPTED); the type is the rest.
            int type = (byte)entry.Type & 0x7F;
            if (type > (int)DirEntryType.Xattr)
            {
                return $"invalid dir entry type {type}";
            }

            bool isXattrEntry = type == (int)DirEntryType.Xattr;
            if ((key.Type == ItemType.XattrItem) != isXattrEntry)
            {
                return $"dir entry type {type} does not match item type {ItemTypeNames.Name(key.Type)}";
            }

            int nameLength = entry.NameLength;
            int dataLength = entry.DataLength;
            if (nameLength > DirItemLayout.MaxNameLength)
            {
                return $"name length {nameLength} exceeds {DirItemLayout.MaxNameLength}";
            }

            if (nameLength + dataLength > maxXattr)
            {
                return $"name and data length {nameLength + dataLength} exceed {maxXattr}";
            }

            if (dataLength != 0 && !isXattrEntry)
            {
                return $"data length {dataLength} on a non-xattr entry";
            }

            int size = DirItemLayout.Size + nameLength + dataLength;
            if (pos + size > data.Length)
            {
                return $"dir item entry at {pos} of {size} bytes crosses the item end {data.Length}";
            }

            if (key.Type != ItemType.DirIndex)
            {
                ulong hash = NameHash.DirItem(data.Slice(pos + DirItemLayout.Size, nameLength));
                if (hash != key.Offset)
                {
                    return $"name hash mismatch: name hashes to 0x{hash:x16}, key offset is 0x{key.Offset:x16}";
                }
            }

            pos += size;
            entries++;
        }

        return entries == 0 ? "empty dir item" : null;
    }

    private string? ValidateFileExtent(LeafView leaf, int slot, BtrfsKey key, BtrfsKey prev, ReadOnlySpan<byte> data)
    {
        ulong sector = (ulong)SectorSize;
        if (key.Offset % sector != 0)
        {
            return $"unaligned file offset {key.Offset}";
        }

        if (data.Length < FileExtentItemLayout.InlineDataStart)
        {
            return $"invalid item size {data.Length}, expected at least {FileExtentItemLayout.InlineDataStart}";
        }

        var fe = new FileExtentItemView(data);
        if ((byte)fe.Type > (byte)FileExtentType.Prealloc)
        {
            return $"invalid file extent type {(byte)fe.Type}";
        }

        if ((byte)fe.Compression > (byte)CompressionType.Zstd)
        {
            return $"invalid compression {(byte)fe.Compression}";
        }

        if (fe.Encryption != 0)
        {
            return $"invalid encryption {fe.Encryption}";
        }

        if (fe.Type == FileExtentType.Inline)
        {
            if (key.Offset != 0)
            {
                return $"inline extent at file offset {key.Offset}, expected 0";
            }

            if (fe.Compression == CompressionType.None && (ulong)data.Length != (ulong)FileExtentItemLayout.InlineDataStart + fe.RamBytes)
            {
                return $"uncompressed inline extent item size {data.Length} does not match ram_bytes {fe.RamBytes}";
            }

            return null;
        }

        if (data.Length != FileExtentItemLayout.Size)
        {
            return $"invalid item size {data.Length} for a regular/prealloc extent, expected {FileExtentItemLayout.Size}";
        }

        if (fe.RamBytes % sector != 0 || fe.DiskBytenr % sector != 0 || fe.DiskNumBytes % sector != 0
            || fe.Offset % sector != 0 || fe.NumBytes % sector != 0)
        {
            return $"unaligned extent fields: ram_bytes {fe.RamBytes} disk_bytenr {fe.DiskBytenr} disk_num_bytes {fe.DiskNumBytes} offset {fe.Offset} num_bytes {fe.NumBytes}";
        }

        if (key.Offset + fe.NumBytes < key.Offset)
        {
            return $"extent end overflows: file offset {key.Offset} num_bytes {fe.NumBytes}";
        }

        if (slot > 0 && prev.ObjectId == key.ObjectId && prev.Type == ItemType.ExtentData)
        {
            var previous = new FileExtentItemView(leaf.ItemData(slot - 1));
            ulong prevEnd = previous.Type == FileExtentType.Inline
                ? AlignUp(prev.Offset + previous.RamBytes, sector)
                : prev.Offset + previous.NumBytes;
            if (prevEnd > key.Offset)
            {
                return $"previous file extent [{prev.Offset}, {prevEnd}) overlaps this one at {key.Offset}";
            }
        }

        return null;
    }

    private static ulong AlignUp(ulong value, ulong alignment) => (value + alignment - 1) / alignment * alignment;

    private string? ValidateCsumItem(LeafView leaf, int slot, BtrfsKey key, BtrfsKey prev, ReadOnlySpan<byte> data)
    {
        if (_skipCsumItemChecks)
        {
            return null;
        }

        if (key.ObjectId != ObjectIds.ExtentCsum)
        {
            return $"csum item objectid {key.ObjectId}, expected {ObjectIds.ExtentCsum}";
        }

        if (key.Offset % (ulong)SectorSize != 0)
        {
            return $"unaligned csum item offset {key.Offset}";
        }

        if (data.Length % ChecksumSize != 0)
        {
            return $"csum item size {data.Length} is not a multiple of {ChecksumSize}";
        }

        if (slot > 0 && prev.Type == ItemType.ExtentCsum)
        {
            ulong prevEnd = prev.Offset + ((ulong)(leaf.ItemSize(slot - 1) / (uint)ChecksumSize) * (ulong)SectorSize);
            if (prevEnd > key.Offset)
            {
                return $"previous csum item [{prev.Offset}, {prevEnd}) overlaps this one at {key.Offset}";
            }
        }

        return null;
    }

    private string? ValidateRootItem(ReadOnlySpan<byte> data)
    {
        if (data.Length != RootItemLayout.Size && data.Length != RootItemLayout.LegacySize)
        {
            return $"invalid ROOT_ITEM size {data.Length}, expected {RootItemLayout.Size} or {RootItemLayout.LegacySize}";
        }

        var root = new RootItemView(data);
        if (root.Generation > _generationLimit || root.GenerationV2 > _generationLimit || root.LastSnapshot > _generationLimit)
        {
            return $"root generations {root.Generation}/{root.GenerationV2}/{root.LastSnapshot} exceed {_generationLimit}";
        }

        if (root.Bytenr % (ulong)SectorSize != 0)
        {
            return $"unaligned root bytenr {root.Bytenr}";
        }

        if (root.Level >= HeaderLayout.MaxLevel || root.DropLevel >= HeaderLayout.MaxLevel)
        {
            return $"invalid root level {root.Level} or drop level {root.DropLevel}";
        }

        ulong unknown = (ulong)root.Flags & ~(ulong)(RootItemFlags.ReadOnly | RootItemFlags.Dead);
        return unknown == 0 ? null : $"unknown root flags 0x{unknown:x}";
    }

    private static string? ValidateRootRef(ReadOnlySpan<byte> data)
    {
        if (data.Length < RootRefLayout.Size)
        {
            return $"invalid root ref size {data.Length}, expected at least {RootRefLayout.Size}";
        }

        int nameLength = new RootRefView(data).NameLength;
        return data.Length == RootRefLayout.Size + nameLength
            ? null
            : $"root ref size {data.Length} does not match name length {nameLength}";
    }

    private string? ValidateChunkItem(BtrfsKey key, ReadOnlySpan<byte> data)
    {
        if (data.Length < ChunkItemLayout.Size)
        {
            return $"invalid chunk item size {data.Length}, expected at least {ChunkItemLayout.Size}";
        }

        var chunk = new ChunkItemView(data);
        if (chunk.NumStripes != 0 && data.Length != ChunkItemLayout.ItemSize(chunk.NumStripes))
        {
            return $"chunk item size {data.Length} does not match {chunk.NumStripes} stripes";
        }

        return ValidateChunk(chunk, key.Offset, SectorSize, _incompat);
    }

    /// <summary>
    /// The chunk rules shared by chunk-tree leaves and the superblock's system chunk array
    /// (<c>btrfs_check_chunk_valid</c>). The stripes must already be known to lie inside the item.
    /// </summary>
    public static string? ValidateChunk(ChunkItemView chunk, ulong logical, int sectorSize, IncompatFeatures incompat)
    {
        int numStripes = chunk.NumStripes;
        ulong length = chunk.Length;
        BlockGroupFlags type = chunk.Type;
        BlockGroupFlags profile = type & BlockGroupFlags.ProfileMask;
        if (numStripes == 0)
        {
            return "chunk with 0 stripes";
        }

        if (logical % (ulong)sectorSize != 0)
        {
            return $"unaligned chunk logical start {logical}";
        }

        if (chunk.SectorSize != (uint)sectorSize)
        {
            return $"chunk sector size {chunk.SectorSize}, expected {sectorSize}";
        }

        if (length == 0 || length % (ulong)sectorSize != 0)
        {
            return $"invalid chunk length {length}";
        }

        if (logical + length < logical)
        {
            return $"chunk [{logical}, +{length}) overflows";
        }

        if (chunk.StripeLength != ChunkItemLayout.StandardStripeLength)
        {
            return $"invalid chunk stripe length {chunk.StripeLength}";
        }

        ulong unknown = (ulong)(type & ~(BlockGroupFlags.TypeMask | BlockGroupFlags.ProfileMask));
        if (unknown != 0)
        {
            return $"unrecognized chunk type bits 0x{unknown:x}";
        }

        if (ulong.PopCount((ulong)profile) > 1)
        {
            return $"chunk has several profile bits: {BlockGroupNames.Format(type)}";
        }

        if ((type & BlockGroupFlags.TypeMask) == 0)
        {
            return $"chunk type 0x{(ulong)type:x} has no DATA/METADATA/SYSTEM bit";
        }

        if ((type & BlockGroupFlags.System) != 0 && (type & (BlockGroupFlags.Data | BlockGroupFlags.Metadata)) != 0)
        {
            return $"system chunk with data or metadata type: {BlockGroupNames.Format(type)}";
        }

        if ((incompat & IncompatFeatures.MixedGroups) == 0
            && (type & (BlockGroupFlags.Data | BlockGroupFlags.Metadata)) == (BlockGroupFlags.Data | BlockGroupFlags.Metadata))
        {
            return "mixed data+metadata chunk without the MIXED_GROUPS feature";
        }

        bool stripesOk = profile switch
        {
            BlockGroupFlags.None => numStripes == 1,
            BlockGroupFlags.Dup => numStripes == 2,
            BlockGroupFlags.Raid1 => numStripes == 2,
            BlockGroupFlags.Raid1c3 => numStripes == 3,
            BlockGroupFlags.Raid1c4 => numStripes == 4,
            BlockGroupFlags.Raid10 => chunk.SubStripes == 2 && numStripes >= 2 && numStripes % 2 == 0,
            BlockGroupFlags.Raid5 => numStripes >= 2,
            BlockGroupFlags.Raid6 => numStripes >= 3,
            _ => numStripes >= 1, // RAID0
        };
        return stripesOk ? null : $"invalid num_stripes:sub_stripes {numStripes}:{chunk.SubStripes} for profile {BlockGroupNames.Profile(type)}";
    }

    private static string? ValidateDevItem(BtrfsKey key, ReadOnlySpan<byte> data)
    {
        if (key.ObjectId != ObjectIds.DevItems)
        {
            return $"dev item objectid {key.ObjectId}, expected {ObjectIds.DevItems}";
        }

        if (data.Length != DevItemLayout.Size)
        {
            return $"invalid item size {data.Length}, expected {DevItemLayout.Size}";
        }

        var dev = new DevItemView(data);
        if (dev.DevId != key.Offset)
        {
            return $"devid mismatch: key has {key.Offset}, item has {dev.DevId}";
        }

        return dev.BytesUsed > dev.TotalBytes ? $"dev item bytes used {dev.BytesUsed} exceed total {dev.TotalBytes}" : null;
    }

    private string? ValidateBlockGroupItem(BtrfsKey key, ReadOnlySpan<byte> data)
    {
        if (key.Offset == 0)
        {
            return "block group of length 0";
        }

        if (data.Length != BlockGroupItemLayout.Size)
        {
            return $"invalid item size {data.Length}, expected {BlockGroupItemLayout.Size}";
        }

        var bg = new BlockGroupItemView(data);
        if ((_incompat & IncompatFeatures.ExtentTreeV2) == 0 && bg.ChunkObjectId != ObjectIds.FirstChunkTree)
        {
            return $"block group chunk objectid {bg.ChunkObjectId}, expected {ObjectIds.FirstChunkTree}";
        }

        if (bg.Used > key.Offset)
        {
            return $"block group used {bg.Used} exceeds its length {key.Offset}";
        }

        BlockGroupFlags flags = bg.Flags;
        if (ulong.PopCount((ulong)(flags & BlockGroupFlags.ProfileMask)) > 1)
        {
            return $"block group has several profile bits: {BlockGroupNames.Format(flags)}";
        }

        BlockGroupFlags type = flags & BlockGroupFlags.TypeMask;
        return type is BlockGroupFlags.Data or BlockGroupFlags.Metadata or BlockGroupFlags.System
            or (BlockGroupFlags.Data | BlockGroupFlags.Metadata)
            ? null
            : $"invalid block group type {BlockGroupNames.Format(flags)}";
    }

    private string? ValidateExtentItem(BtrfsKey key, BtrfsKey prev, ReadOnlySpan<byte> data)
    {
        bool skinny = key.Type == ItemType.MetadataItem;
        if (skinny && (_incompat & IncompatFeatures.SkinnyMetadata) == 0)
        {
            return "METADATA_ITEM without the SKINNY_METADATA feature";
        }

        if (key.ObjectId % (ulong)SectorSize != 0)
        {
            return $"unaligned extent bytenr {key.ObjectId}";
        }

        if (skinny && key.Offset >= HeaderLayout.MaxLevel)
        {
            return $"invalid tree level {key.Offset}";
        }

        if (data.Length < ExtentItemLayout.Size)
        {
            return $"invalid extent item size {data.Length}, expected at least {ExtentItemLayout.Size}";
        }

        var item = new ExtentItemView(data);
        if (item.Generation > _generationLimit)
        {
            return $"invalid extent generation {item.Generation}, expected at most {_generationLimit}";
        }

        ExtentFlags flags = item.Flags;
        ExtentFlags kind = flags & (ExtentFlags.Data | ExtentFlags.TreeBlock);
        if (kind is not (ExtentFlags.Data or ExtentFlags.TreeBlock))
        {
            return $"invalid extent flags 0x{(ulong)flags:x}";
        }

        bool treeBlock = kind == ExtentFlags.TreeBlock;
        if (treeBlock && !skinny && key.Offset != (ulong)NodeSize)
        {
            return $"tree block extent length {key.Offset}, expected {NodeSize}";
        }

        if (!treeBlock)
        {
            if (skinny)
            {
                return "data extent keyed as METADATA_ITEM";
            }

            if (key.Offset % (ulong)SectorSize != 0)
            {
                return $"unaligned data extent length {key.Offset}";
            }

            if ((flags & ExtentFlags.FullBackref) != 0)
            {
                return "data extent with FULL_BACKREF";
            }
        }

        int pos = ExtentItemLayout.Size;
        if (treeBlock && !skinny)
        {
            if (pos + TreeBlockInfoLayout.Size > data.Length)
            {
                return "tree block info crosses the item end";
            }

            if (new TreeBlockInfoView(data[pos..]).Level >= HeaderLayout.MaxLevel)
            {
                return "invalid tree block info level";
            }

            pos += TreeBlockInfoLayout.Size;
        }

        ulong inlineRefs = 0;
        while (pos < data.Length)
        {
            var iref = new ExtentInlineRefView(data[pos..]);
            ItemType type = iref.Type;
            int size = ExtentInlineRefLayout.SizeOf(type);
            if (size < 0 || (type == ExtentInlineRefLayout.ExtentOwnerRef && (_incompat & IncompatFeatures.SimpleQuota) == 0))
            {
                return $"unknown inline ref type {(byte)type} at {pos}";
            }

            if (pos + size > data.Length)
            {
                return $"inline ref at {pos} of {size} bytes crosses the item end {data.Length}";
            }

            switch (type)
            {
                case ItemType.TreeBlockRef:
                    inlineRefs++;
                    break;
                case ItemType.SharedBlockRef:
                    if (iref.Offset % (ulong)SectorSize != 0)
                    {
                        return $"unaligned shared block ref parent {iref.Offset}";
                    }

                    inlineRefs++;
                    break;
                case ItemType.ExtentDataRef:
                    ExtentDataRefView dref = iref.DataRef;
                    if (dref.Offset % (ulong)SectorSize != 0)
                    {
                        return $"unaligned data ref offset {dref.Offset}";
                    }

                    inlineRefs += dref.Count;
                    break;
                case ItemType.SharedDataRef:
                    if (iref.Offset % (ulong)SectorSize != 0)
                    {
                        return $"unaligned shared data ref parent {iref.Offset}";
                    }

                    inlineRefs += iref.SharedCount;
                    break;
                default:
                    break; // EXTENT_OWNER_REF: no count
            }

            pos += size;
        }

        if (inlineRefs > item.Refs)
        {
            return $"extent refs {item.Refs} below the inline total {inlineRefs}";
        }

        if (prev.Type is ItemType.ExtentItem or ItemType.MetadataItem)
        {
            ulong prevEnd = prev.ObjectId + (prev.Type == ItemType.MetadataItem ? (ulong)NodeSize : prev.Offset);
            if (prevEnd > key.ObjectId)
            {
                return $"previous extent {prev} overlaps this one";
            }
        }

        return null;
    }

    private string? ValidateSimpleKeyedRef(BtrfsKey key, ReadOnlySpan<byte> data)
    {
        int expected = key.Type == ItemType.SharedDataRef ? SharedDataRefLayout.Size : 0;
        if (data.Length != expected)
        {
            return $"invalid item size {data.Length}, expected {expected}";
        }

        if (key.ObjectId % (ulong)SectorSize != 0)
        {
            return $"unaligned extent bytenr {key.ObjectId}";
        }

        return key.Type != ItemType.TreeBlockRef && key.Offset % (ulong)SectorSize != 0
            ? $"unaligned parent bytenr {key.Offset}"
            : null;
    }

    private string? ValidateKeyedDataRef(BtrfsKey key, ReadOnlySpan<byte> data)
    {
        if (data.Length % ExtentDataRefLayout.Size != 0)
        {
            return $"item size {data.Length} is not a multiple of {ExtentDataRefLayout.Size}";
        }

        if (key.ObjectId % (ulong)SectorSize != 0)
        {
            return $"unaligned extent bytenr {key.ObjectId}";
        }

        for (int pos = 0; pos < data.Length; pos += ExtentDataRefLayout.Size)
        {
            ulong offset = new ExtentDataRefView(data[pos..]).Offset;
            if (offset % (ulong)SectorSize != 0)
            {
                return $"unaligned data ref offset {offset}";
            }
        }

        return null;
    }
}
