// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace Crfs.Format.Btrfs;

/// <summary>
/// <c>btrfs_header</c>, the first 101 bytes of every tree block (node or leaf):
/// <code>
/// 0x00 csum[32]           checksum of bytes 0x20..nodesize
/// 0x20 fsid[16]           fsid, or metadata_uuid with INCOMPAT_METADATA_UUID
/// 0x30 bytenr      u64    the block's own logical address
/// 0x38 flags       u64    low 56 bits TreeBlockFlags, top byte = backref revision (1)
/// 0x40 chunk_tree_uuid[16]
/// 0x50 generation  u64    transid that wrote the block
/// 0x58 owner       u64    tree id that allocated it
/// 0x60 nritems     u32
/// 0x64 level       u8     0 = leaf
/// 0x65 (end)
/// </code>
/// </summary>
public static class HeaderLayout
{
    public const int Csum = 0x00;
    public const int CsumSize = 32;
    public const int Fsid = 0x20;
    public const int Bytenr = 0x30;
    public const int Flags = 0x38;
    public const int ChunkTreeUuid = 0x40;
    public const int Generation = 0x50;
    public const int Owner = 0x58;
    public const int NrItems = 0x60;
    public const int Level = 0x64;
    public const int Size = 0x65;

    /// <summary>The deepest level a btrfs tree may have plus one (<c>BTRFS_MAX_LEVEL</c>).</summary>
    public const int MaxLevel = 8;

    /// <summary>The backref revision every modern block carries (<c>BTRFS_MIXED_BACKREF_REV</c>).</summary>
    public const byte MixedBackrefRevision = 1;

    public const int BackrefRevisionShift = 56;
}

/// <summary>
/// <c>btrfs_item</c>, a leaf's item header (25 bytes): key at 0, then <c>offset</c> (u32 at 17,
/// relative to the end of the block header) and <c>size</c> (u32 at 21) of the item's data.
/// Headers grow forward from byte 101; item data is packed at the end of the block, growing backward.
/// </summary>
public static class ItemHeaderLayout
{
    public const int Key = 0;
    public const int Offset = 17;
    public const int DataSize = 21;
    public const int Size = 25;
}

/// <summary>
/// <c>btrfs_key_ptr</c>, a node's child pointer (33 bytes): key at 0, <c>blockptr</c> (u64 at 17,
/// the child's logical address) and <c>generation</c> (u64 at 25, the child's header generation).
/// </summary>
public static class KeyPointerLayout
{
    public const int Key = 0;
    public const int BlockPtr = 17;
    public const int Generation = 25;
    public const int Size = 33;
}

/// <summary>Sizes that follow from the node size.</summary>
public static class TreeBlockGeometry
{
    /// <summary>Bytes available to item headers and data in a leaf (<c>BTRFS_LEAF_DATA_SIZE</c>).</summary>
    public static int LeafDataSize(int nodeSize) => nodeSize - HeaderLayout.Size;

    /// <summary>Child pointers that fit in a node (<c>BTRFS_NODEPTRS_PER_BLOCK</c>).</summary>
    public static int MaxKeyPointers(int nodeSize) => (nodeSize - HeaderLayout.Size) / KeyPointerLayout.Size;

    /// <summary>The largest item a leaf can hold (<c>BTRFS_MAX_ITEM_SIZE</c>).</summary>
    public static int MaxItemSize(int nodeSize) => LeafDataSize(nodeSize) - ItemHeaderLayout.Size;

    /// <summary>The largest xattr name plus value (<c>BTRFS_MAX_XATTR_SIZE</c>).</summary>
    public static int MaxXattrSize(int nodeSize) => MaxItemSize(nodeSize) - DirItemLayout.Size;
}

/// <summary>A read view of a tree block's header (<see cref="HeaderLayout"/>).</summary>
public readonly ref struct HeaderView
{
    private readonly ReadOnlySpan<byte> _b;

    public HeaderView(ReadOnlySpan<byte> block)
    {
        _b = block[..HeaderLayout.Size];
    }

    public ReadOnlySpan<byte> Csum => _b.Slice(HeaderLayout.Csum, HeaderLayout.CsumSize);

    public ReadOnlySpan<byte> Fsid => _b.Slice(HeaderLayout.Fsid, UuidFormat.Size);

    public ulong Bytenr => BinaryPrimitives.ReadUInt64LittleEndian(_b[HeaderLayout.Bytenr..]);

    /// <summary>The whole 64-bit flags field, backref revision included.</summary>
    public ulong RawFlags => BinaryPrimitives.ReadUInt64LittleEndian(_b[HeaderLayout.Flags..]);

    public TreeBlockFlags Flags => (TreeBlockFlags)(RawFlags & ((1UL << HeaderLayout.BackrefRevisionShift) - 1));

    public byte BackrefRevision => (byte)(RawFlags >> HeaderLayout.BackrefRevisionShift);

    public ReadOnlySpan<byte> ChunkTreeUuid => _b.Slice(HeaderLayout.ChunkTreeUuid, UuidFormat.Size);

    public ulong Generation => BinaryPrimitives.ReadUInt64LittleEndian(_b[HeaderLayout.Generation..]);

    public ulong Owner => BinaryPrimitives.ReadUInt64LittleEndian(_b[HeaderLayout.Owner..]);

    public uint NrItems => BinaryPrimitives.ReadUInt32LittleEndian(_b[HeaderLayout.NrItems..]);

    public byte Level => _b[HeaderLayout.Level];
}

/// <summary>A write view of a tree block's header; the checksum is written last, by the writer.</summary>
public readonly ref struct HeaderWriter
{
    private readonly Span<byte> _b;

    public HeaderWriter(Span<byte> block)
    {
        _b = block[..HeaderLayout.Size];
    }

    public Span<byte> Csum => _b.Slice(HeaderLayout.Csum, HeaderLayout.CsumSize);

    public Span<byte> Fsid => _b.Slice(HeaderLayout.Fsid, UuidFormat.Size);

    public ulong Bytenr
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[HeaderLayout.Bytenr..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[HeaderLayout.Bytenr..], value);
    }

    public ulong RawFlags
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[HeaderLayout.Flags..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[HeaderLayout.Flags..], value);
    }

    /// <summary>Sets the flags together with the backref revision (always 1 on modern volumes).</summary>
    public void SetFlags(TreeBlockFlags flags, byte backrefRevision = HeaderLayout.MixedBackrefRevision) =>
        RawFlags = (ulong)flags | ((ulong)backrefRevision << HeaderLayout.BackrefRevisionShift);

    public Span<byte> ChunkTreeUuid => _b.Slice(HeaderLayout.ChunkTreeUuid, UuidFormat.Size);

    public ulong Generation
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[HeaderLayout.Generation..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[HeaderLayout.Generation..], value);
    }

    public ulong Owner
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[HeaderLayout.Owner..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[HeaderLayout.Owner..], value);
    }

    public uint NrItems
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_b[HeaderLayout.NrItems..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_b[HeaderLayout.NrItems..], value);
    }

    public byte Level
    {
        get => _b[HeaderLayout.Level];
        set => _b[HeaderLayout.Level] = value;
    }
}

/// <summary>
/// A read view of a leaf (level 0). Indexes are trusted: a leaf is only viewed after
/// <see cref="TreeBlockChecker"/> has accepted it, so every item header and data range is known to
/// lie inside the block.
/// </summary>
public readonly ref struct LeafView
{
    private readonly ReadOnlySpan<byte> _b;

    public LeafView(ReadOnlySpan<byte> block)
    {
        _b = block;
    }

    public HeaderView Header => new(_b);

    public int NrItems => (int)Header.NrItems;

    public BtrfsKey Key(int slot) => DiskKeyLayout.Read(ItemHeader(slot));

    /// <summary>The item's data offset, relative to the end of the block header.</summary>
    public uint ItemOffset(int slot) => BinaryPrimitives.ReadUInt32LittleEndian(ItemHeader(slot)[ItemHeaderLayout.Offset..]);

    public uint ItemSize(int slot) => BinaryPrimitives.ReadUInt32LittleEndian(ItemHeader(slot)[ItemHeaderLayout.DataSize..]);

    public ReadOnlySpan<byte> ItemData(int slot) =>
        _b.Slice(HeaderLayout.Size + (int)ItemOffset(slot), (int)ItemSize(slot));

    /// <summary>Unused bytes between the item headers and the item data.</summary>
    public int FreeSpace
    {
        get
        {
            int n = NrItems;
            int dataSize = TreeBlockGeometry.LeafDataSize(_b.Length);
            return n == 0 ? dataSize : (int)ItemOffset(n - 1) - (n * ItemHeaderLayout.Size);
        }
    }

    private ReadOnlySpan<byte> ItemHeader(int slot) =>
        _b.Slice(HeaderLayout.Size + (slot * ItemHeaderLayout.Size), ItemHeaderLayout.Size);
}

/// <summary>A write view of a leaf: item headers and data, for the CoW writer.</summary>
public readonly ref struct LeafWriter
{
    private readonly Span<byte> _b;

    public LeafWriter(Span<byte> block)
    {
        _b = block;
    }

    public HeaderWriter Header => new(_b);

    public void SetItemHeader(int slot, BtrfsKey key, uint offset, uint size)
    {
        Span<byte> h = _b.Slice(HeaderLayout.Size + (slot * ItemHeaderLayout.Size), ItemHeaderLayout.Size);
        DiskKeyLayout.Write(h, key);
        BinaryPrimitives.WriteUInt32LittleEndian(h[ItemHeaderLayout.Offset..], offset);
        BinaryPrimitives.WriteUInt32LittleEndian(h[ItemHeaderLayout.DataSize..], size);
    }

    /// <summary>The writable data of an item whose header is already set.</summary>
    public Span<byte> ItemData(int slot)
    {
        var view = new LeafView(_b);
        return _b.Slice(HeaderLayout.Size + (int)view.ItemOffset(slot), (int)view.ItemSize(slot));
    }
}

/// <summary>A read view of a node (level 1..7): its key pointers. Trusted like <see cref="LeafView"/>.</summary>
public readonly ref struct NodeView
{
    private readonly ReadOnlySpan<byte> _b;

    public NodeView(ReadOnlySpan<byte> block)
    {
        _b = block;
    }

    public HeaderView Header => new(_b);

    public int NrItems => (int)Header.NrItems;

    public BtrfsKey Key(int slot) => DiskKeyLayout.Read(Pointer(slot));

    public ulong BlockPtr(int slot) => BinaryPrimitives.ReadUInt64LittleEndian(Pointer(slot)[KeyPointerLayout.BlockPtr..]);

    public ulong Generation(int slot) => BinaryPrimitives.ReadUInt64LittleEndian(Pointer(slot)[KeyPointerLayout.Generation..]);

    private ReadOnlySpan<byte> Pointer(int slot) =>
        _b.Slice(HeaderLayout.Size + (slot * KeyPointerLayout.Size), KeyPointerLayout.Size);
}

/// <summary>A write view of a node's key pointers.</summary>
public readonly ref struct NodeWriter
{
    private readonly Span<byte> _b;

    public NodeWriter(Span<byte> block)
    {
        _b = block;
    }

    public HeaderWriter Header => new(_b);

    public void SetPointer(int slot, BtrfsKey key, ulong blockPtr, ulong generation)
    {
        Span<byte> p = _b.Slice(HeaderLayout.Size + (slot * KeyPointerLayout.Size), KeyPointerLayout.Size);
        DiskKeyLayout.Write(p, key);
        BinaryPrimitives.WriteUInt64LittleEndian(p[KeyPointerLayout.BlockPtr..], blockPtr);
        BinaryPrimitives.WriteUInt64LittleEndian(p[KeyPointerLayout.Generation..], generation);
    }
}
