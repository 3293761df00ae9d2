// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace Crfs.Format.Btrfs;

/// <summary>
/// <c>btrfs_extent_item</c>: data extents <c>(bytenr, EXTENT_ITEM, length)</c>, tree blocks
/// <c>(bytenr, METADATA_ITEM, level)</c> (skinny) or <c>(bytenr, EXTENT_ITEM, nodesize)</c> followed by a
/// <see cref="TreeBlockInfoLayout"/>. Inline back references follow to the end of the item
/// (<see cref="ExtentInlineRefLayout"/>).
/// <code>
///   off  size  field
/// 0x000     8  refs u64
/// 0x008     8  generation u64             allocation transid
/// 0x010     8  flags u64
/// 0x018        (end)
/// </code>
/// </summary>
public static class ExtentItemLayout
{
    public const int Refs = 0;
    public const int Generation = 8;
    public const int Flags = 16;
    public const int Size = 24;
}

/// <summary>A read view of an extent item (<see cref="ExtentItemLayout"/>).</summary>
public readonly ref struct ExtentItemView
{
    private readonly ReadOnlySpan<byte> _b;

    public ExtentItemView(ReadOnlySpan<byte> bytes)
    {
        LayoutGuard.RequireLength(bytes, ExtentItemLayout.Size, "an extent item");
        _b = bytes;
    }

    public ulong Refs => BinaryPrimitives.ReadUInt64LittleEndian(_b[ExtentItemLayout.Refs..]);

    public ulong Generation => BinaryPrimitives.ReadUInt64LittleEndian(_b[ExtentItemLayout.Generation..]);

    public ExtentFlags Flags => (ExtentFlags)BinaryPrimitives.ReadUInt64LittleEndian(_b[ExtentItemLayout.Flags..]);

    /// <summary>The tree-block info of a non-skinny tree block's EXTENT_ITEM.</summary>
    public TreeBlockInfoView TreeBlockInfo => new(_b[ExtentItemLayout.Size..]);

    /// <summary>The inline references; <paramref name="hasTreeBlockInfo"/> for non-skinny tree blocks.</summary>
    public ExtentInlineRefEnumerator InlineRefs(bool hasTreeBlockInfo) =>
        new(_b[(ExtentItemLayout.Size + (hasTreeBlockInfo ? TreeBlockInfoLayout.Size : 0))..]);
}

/// <summary>A write view of an extent item (<see cref="ExtentItemLayout"/>).</summary>
public readonly ref struct ExtentItemWriter
{
    private readonly Span<byte> _b;

    public ExtentItemWriter(Span<byte> bytes)
    {
        LayoutGuard.RequireLength(bytes, ExtentItemLayout.Size, "an extent item");
        _b = bytes;
    }

    public ulong Refs
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[ExtentItemLayout.Refs..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[ExtentItemLayout.Refs..], value);
    }

    public ulong Generation
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[ExtentItemLayout.Generation..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[ExtentItemLayout.Generation..], value);
    }

    public ExtentFlags Flags
    {
        get => (ExtentFlags)BinaryPrimitives.ReadUInt64LittleEndian(_b[ExtentItemLayout.Flags..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[ExtentItemLayout.Flags..], (ulong)value);
    }
}

/// <summary>
/// <c>btrfs_tree_block_info</c>, after the extent item of a non-skinny tree block.
/// <code>
///   off  size  field
/// 0x000    17  key key                    first key of the block
/// 0x011     1  level u8
/// 0x012        (end)
/// </code>
/// </summary>
public static class TreeBlockInfoLayout
{
    public const int Key = 0;
    public const int Level = 17;
    public const int Size = 18;
}

/// <summary>A read view of tree block info (<see cref="TreeBlockInfoLayout"/>).</summary>
public readonly ref struct TreeBlockInfoView
{
    private readonly ReadOnlySpan<byte> _b;

    public TreeBlockInfoView(ReadOnlySpan<byte> bytes)
    {
        _b = bytes[..TreeBlockInfoLayout.Size];
    }

    public BtrfsKey Key => DiskKeyLayout.Read(_b[TreeBlockInfoLayout.Key..]);

    public byte Level => _b[TreeBlockInfoLayout.Level];
}

/// <summary>A write view of tree block info (<see cref="TreeBlockInfoLayout"/>).</summary>
public readonly ref struct TreeBlockInfoWriter
{
    private readonly Span<byte> _b;

    public TreeBlockInfoWriter(Span<byte> bytes)
    {
        _b = bytes[..TreeBlockInfoLayout.Size];
    }

    public BtrfsKey Key
    {
        get => DiskKeyLayout.Read(_b[TreeBlockInfoLayout.Key..]);
        set => DiskKeyLayout.Write(_b[TreeBlockInfoLayout.Key..], value);
    }

    public byte Level
    {
        get => _b[TreeBlockInfoLayout.Level];
        set => _b[TreeBlockInfoLayout.Level] = value;
    }
}

/// <summary>
/// <c>btrfs_extent_inline_ref</c>: a type byte, then a body whose size depends on it
/// (<see cref="ExtentInlineRefLayout.SizeOf"/>): TREE_BLOCK_REF and EXTENT_OWNER_REF carry a root id,
/// SHARED_BLOCK_REF a parent bytenr, SHARED_DATA_REF a parent bytenr and a u32 count, and
/// EXTENT_DATA_REF a whole <see cref="ExtentDataRefLayout"/> starting right after the type byte.
/// <code>
///   off  size  field
/// 0x000     1  type u8
/// 0x001     8  offset u64                 root, parent bytenr; data refs start here instead
/// 0x009        (end)
/// </code>
/// </summary>
public static class ExtentInlineRefLayout
{
    public const int Type = 0;
    public const int Offset = 1;
    public const int Size = 9;

    /// <summary>The inline type of simple-quota owner references (<c>BTRFS_EXTENT_OWNER_REF_KEY</c>).</summary>
    public const ItemType ExtentOwnerRef = (ItemType)172;

    /// <summary>Where an inline EXTENT_DATA_REF's body begins.</summary>
    public const int DataRefBody = 1;

    /// <summary>Where an inline SHARED_DATA_REF's count is.</summary>
    public const int SharedDataRefCount = Size;

    /// <summary>The whole size of an inline reference of <paramref name="type"/>, or -1 when unknown.</summary>
    public static int SizeOf(ItemType type) => type switch
    {
        ItemType.TreeBlockRef or ItemType.SharedBlockRef or ExtentOwnerRef => Size,
        ItemType.ExtentDataRef => DataRefBody + ExtentDataRefLayout.Size,
        ItemType.SharedDataRef => Size + SharedDataRefLayout.Size,
        _ => -1,
    };
}

/// <summary>A read view of an inline extent ref (<see cref="ExtentInlineRefLayout"/>).</summary>
public readonly ref struct ExtentInlineRefView
{
    private readonly ReadOnlySpan<byte> _b;

    public ExtentInlineRefView(ReadOnlySpan<byte> bytes)
    {
        LayoutGuard.RequireLength(bytes, 1, "an inline extent ref");
        _b = bytes;
    }

    public ItemType Type => (ItemType)_b[ExtentInlineRefLayout.Type];

    public ulong Offset => BinaryPrimitives.ReadUInt64LittleEndian(_b[ExtentInlineRefLayout.Offset..]);

    public int EntrySize => ExtentInlineRefLayout.SizeOf(Type);

    /// <summary>The body of an EXTENT_DATA_REF.</summary>
    public ExtentDataRefView DataRef => new(_b[ExtentInlineRefLayout.DataRefBody..]);

    /// <summary>The count of a SHARED_DATA_REF.</summary>
    public uint SharedCount => BinaryPrimitives.ReadUInt32LittleEndian(_b[ExtentInlineRefLayout.SharedDataRefCount..]);
}

/// <summary>A write view of an inline extent ref (<see cref="ExtentInlineRefLayout"/>).</summary>
public readonly ref struct ExtentInlineRefWriter
{
    private readonly Span<byte> _b;

    public ExtentInlineRefWriter(Span<byte> bytes)
    {
        LayoutGuard.RequireLength(bytes, 1, "an inline extent ref");
        _b = bytes;
    }

    public ItemType Type
    {
        get => (ItemType)_b[ExtentInlineRefLayout.Type];
        set => _b[ExtentInlineRefLayout.Type] = (byte)value;
    }

    public ulong Offset
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[ExtentInlineRefLayout.Offset..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[ExtentInlineRefLayout.Offset..], value);
    }

    public ExtentDataRefWriter DataRef => new(_b[ExtentInlineRefLayout.DataRefBody..]);

    public uint SharedCount
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_b[ExtentInlineRefLayout.SharedDataRefCount..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_b[ExtentInlineRefLayout.SharedDataRefCount..], value);
    }
}

/// <summary>
/// Iterates the entries packed in one extent item. The item must have passed
/// <see cref="TreeBlockChecker"/>, which proved that every entry lies inside it.
/// </summary>
public ref struct ExtentInlineRefEnumerator
{
    private ReadOnlySpan<byte> _rest;

    public ExtentInlineRefEnumerator(ReadOnlySpan<byte> item)
    {
        _rest = item;
        Current = default;
    }

    public ExtentInlineRefView Current { get; private set; }

    public readonly ExtentInlineRefEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_rest.IsEmpty)
        {
            return false;
        }

        int size = new ExtentInlineRefView(_rest).EntrySize;
        Current = new ExtentInlineRefView(_rest[..size]);
        _rest = _rest[size..];
        return true;
    }
}

/// <summary>
/// <c>btrfs_extent_data_ref</c>: a data extent referenced by <c>count</c> file extent items of one
/// inode. Inline in an extent item, or keyed <c>(bytenr, EXTENT_DATA_REF, data-ref hash)</c> as an array.
/// <code>
///   off  size  field
/// 0x000     8  root u64                   fs tree id
/// 0x008     8  objectid u64               inode
/// 0x010     8  offset u64                 key.offset - extent offset
/// 0x018     4  count u32
/// 0x01C        (end)
/// </code>
/// </summary>
public static class ExtentDataRefLayout
{
    public const int Root = 0;
    public const int ObjectId = 8;
    public const int Offset = 16;
    public const int Count = 24;
    public const int Size = 28;
}

/// <summary>A read view of an extent data ref (<see cref="ExtentDataRefLayout"/>).</summary>
public readonly ref struct ExtentDataRefView
{
    private readonly ReadOnlySpan<byte> _b;

    public ExtentDataRefView(ReadOnlySpan<byte> bytes)
    {
        _b = bytes[..ExtentDataRefLayout.Size];
    }

    public ulong Root => BinaryPrimitives.ReadUInt64LittleEndian(_b[ExtentDataRefLayout.Root..]);

    public ulong ObjectId => BinaryPrimitives.ReadUInt64LittleEndian(_b[ExtentDataRefLayout.ObjectId..]);

    public ulong Offset => BinaryPrimitives.ReadUInt64LittleEndian(_b[ExtentDataRefLayout.Offset..]);

    public uint Count => BinaryPrimitives.ReadUInt32LittleEndian(_b[ExtentDataRefLayout.Count..]);
}

/// <summary>A write view of an extent data ref (<see cref="ExtentDataRefLayout"/>).</summary>
public readonly ref struct ExtentDataRefWriter
{
    private readonly Span<byte> _b;

    public ExtentDataRefWriter(Span<byte> bytes)
    {
        _b = bytes[..ExtentDataRefLayout.Size];
    }

    public ulong Root
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[ExtentDataRefLayout.Root..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[ExtentDataRefLayout.Root..], value);
    }

    public ulong ObjectId
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[ExtentDataRefLayout.ObjectId..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[ExtentDataRefLayout.ObjectId..], value);
    }

    public ulong Offset
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[ExtentDataRefLayout.Offset..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[ExtentDataRefLayout.Offset..], value);
    }

    public uint Count
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_b[ExtentDataRefLayout.Count..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_b[ExtentDataRefLayout.Count..], value);
    }
}

/// <summary>
/// <c>btrfs_shared_data_ref</c>: keyed <c>(bytenr, SHARED_DATA_REF, parent leaf)</c>.
/// <code>
///   off  size  field
/// 0x000     4  count u32
/// 0x004        (end)
/// </code>
/// </summary>
public static class SharedDataRefLayout
{
    public const int Count = 0;
    public const int Size = 4;
}

/// <summary>A read view of a shared data ref (<see cref="SharedDataRefLayout"/>).</summary>
public readonly ref struct SharedDataRefView
{
    private readonly ReadOnlySpan<byte> _b;

    public SharedDataRefView(ReadOnlySpan<byte> bytes)
    {
        _b = bytes[..SharedDataRefLayout.Size];
    }

    public uint Count => BinaryPrimitives.ReadUInt32LittleEndian(_b[SharedDataRefLayout.Count..]);
}

/// <summary>A write view of a shared data ref (<see cref="SharedDataRefLayout"/>).</summary>
public readonly ref struct SharedDataRefWriter
{
    private readonly Span<byte> _b;

    public SharedDataRefWriter(Span<byte> bytes)
    {
        _b = bytes[..SharedDataRefLayout.Size];
    }

    public uint Count
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_b[SharedDataRefLayout.Count..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_b[SharedDataRefLayout.Count..], value);
    }
}
