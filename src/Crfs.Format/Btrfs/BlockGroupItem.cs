// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace Crfs.Format.Btrfs;

/// <summary>
/// <c>btrfs_block_group_item</c>, key <c>(logical start, BLOCK_GROUP_ITEM, length)</c> in the extent
/// tree (or the block group tree with BLOCK_GROUP_TREE).
/// <code>
///   off  size  field
/// 0x000     8  used u64
/// 0x008     8  chunk_objectid u64         256
/// 0x010     8  flags u64
/// 0x018        (end)
/// </code>
/// </summary>
public static class BlockGroupItemLayout
{
    public const int Used = 0;
    public const int ChunkObjectId = 8;
    public const int Flags = 16;
    public const int Size = 24;
}

/// <summary>A read view of a BLOCK_GROUP_ITEM (<see cref="BlockGroupItemLayout"/>).</summary>
public readonly ref struct BlockGroupItemView
{
    private readonly ReadOnlySpan<byte> _b;

    public BlockGroupItemView(ReadOnlySpan<byte> bytes)
    {
        _b = bytes[..BlockGroupItemLayout.Size];
    }

    public ulong Used => BinaryPrimitives.ReadUInt64LittleEndian(_b[BlockGroupItemLayout.Used..]);

    public ulong ChunkObjectId => BinaryPrimitives.ReadUInt64LittleEndian(_b[BlockGroupItemLayout.ChunkObjectId..]);

    public BlockGroupFlags Flags => (BlockGroupFlags)BinaryPrimitives.ReadUInt64LittleEndian(_b[BlockGroupItemLayout.Flags..]);
}

/// <summary>A write view of a BLOCK_GROUP_ITEM (<see cref="BlockGroupItemLayout"/>).</summary>
public readonly ref struct BlockGroupItemWriter
{
    private readonly Span<byte> _b;

    public BlockGroupItemWriter(Span<byte> bytes)
    {
        _b = bytes[..BlockGroupItemLayout.Size];
    }

    public ulong Used
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[BlockGroupItemLayout.Used..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[BlockGroupItemLayout.Used..], value);
    }

    public ulong ChunkObjectId
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[BlockGroupItemLayout.ChunkObjectId..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[BlockGroupItemLayout.ChunkObjectId..], value);
    }

    public BlockGroupFlags Flags
    {
        get => (BlockGroupFlags)BinaryPrimitives.ReadUInt64LittleEndian(_b[BlockGroupItemLayout.Flags..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[BlockGroupItemLayout.Flags..], (ulong)value);
    }
}
