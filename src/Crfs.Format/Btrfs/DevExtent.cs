// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace Crfs.Format.Btrfs;

/// <summary>
/// <c>btrfs_dev_extent</c>, key <c>(devid, DEV_EXTENT, physical start)</c> in the dev tree: one
/// stripe of a chunk, seen from the device.
/// <code>
///   off  size  field
/// 0x000     8  chunk_tree u64             3
/// 0x008     8  chunk_objectid u64         256
/// 0x010     8  chunk_offset u64           logical start of the chunk
/// 0x018     8  length u64
/// 0x020    16  chunk_tree_uuid uuid
/// 0x030        (end)
/// </code>
/// </summary>
public static class DevExtentLayout
{
    public const int ChunkTree = 0;
    public const int ChunkObjectId = 8;
    public const int ChunkOffset = 16;
    public const int Length = 24;
    public const int ChunkTreeUuid = 32;
    public const int Size = 48;
}

/// <summary>A read view of a DEV_EXTENT (<see cref="DevExtentLayout"/>).</summary>
public readonly ref struct DevExtentView
{
    private readonly ReadOnlySpan<byte> _b;

    public DevExtentView(ReadOnlySpan<byte> bytes)
    {
        _b = bytes[..DevExtentLayout.Size];
    }

    public ulong ChunkTree => BinaryPrimitives.ReadUInt64LittleEndian(_b[DevExtentLayout.ChunkTree..]);

    public ulong ChunkObjectId => BinaryPrimitives.ReadUInt64LittleEndian(_b[DevExtentLayout.ChunkObjectId..]);

    public ulong ChunkOffset => BinaryPrimitives.ReadUInt64LittleEndian(_b[DevExtentLayout.ChunkOffset..]);

    public ulong Length => BinaryPrimitives.ReadUInt64LittleEndian(_b[DevExtentLayout.Length..]);

    public ReadOnlySpan<byte> ChunkTreeUuid => _b.Slice(DevExtentLayout.ChunkTreeUuid, 16);
}

/// <summary>A write view of a DEV_EXTENT (<see cref="DevExtentLayout"/>).</summary>
public readonly ref struct DevExtentWriter
{
    private readonly Span<byte> _b;

    public DevExtentWriter(Span<byte> bytes)
    {
        _b = bytes[..DevExtentLayout.Size];
    }

    public ulong ChunkTree
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[DevExtentLayout.ChunkTree..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[DevExtentLayout.ChunkTree..], value);
    }

    public ulong ChunkObjectId
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[DevExtentLayout.ChunkObjectId..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[DevExtentLayout.ChunkObjectId..], value);
    }

    public ulong ChunkOffset
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[DevExtentLayout.ChunkOffset..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[DevExtentLayout.ChunkOffset..], value);
    }

    public ulong Length
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[DevExtentLayout.Length..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[DevExtentLayout.Length..], value);
    }

    public Span<byte> ChunkTreeUuid => _b.Slice(DevExtentLayout.ChunkTreeUuid, 16);
}
