// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace Crfs.Format.Btrfs;

/// <summary>
/// <c>btrfs_chunk</c>, followed by <c>num_stripes</c> <see cref="StripeLayout"/> entries: maps the
/// logical range <c>[key.offset, key.offset + length)</c> to device ranges. Key
/// <c>(FIRST_CHUNK_TREE, CHUNK_ITEM, logical start)</c> in the chunk tree and in the superblock's
/// system chunk array.
/// <code>
///   off  size  field
/// 0x000     8  length u64
/// 0x008     8  owner u64                  2 (extent tree)
/// 0x010     8  stripe_length u64          64 KiB
/// 0x018     8  type u64
/// 0x020     4  io_align u32
/// 0x024     4  io_width u32
/// 0x028     4  sector_size u32
/// 0x02C     2  num_stripes u16
/// 0x02E     2  sub_stripes u16            RAID10: 2, else 1
/// 0x030        (end)
/// </code>
/// </summary>
public static class ChunkItemLayout
{
    public const int Length = 0;
    public const int Owner = 8;
    public const int StripeLength = 16;
    public const int Type = 24;
    public const int IoAlign = 32;
    public const int IoWidth = 36;
    public const int SectorSize = 40;
    public const int NumStripes = 44;
    public const int SubStripes = 46;
    public const int Size = 48;

    /// <summary>The only stripe length btrfs uses (<c>BTRFS_STRIPE_LEN</c>).</summary>
    public const ulong StandardStripeLength = 64 * 1024;

    public static int ItemSize(int numStripes) => Size + (numStripes * StripeLayout.Size);
}

/// <summary>A read view of a CHUNK_ITEM (<see cref="ChunkItemLayout"/>).</summary>
public readonly ref struct ChunkItemView
{
    private readonly ReadOnlySpan<byte> _b;

    public ChunkItemView(ReadOnlySpan<byte> bytes)
    {
        LayoutGuard.RequireLength(bytes, ChunkItemLayout.Size, "a CHUNK_ITEM");
        _b = bytes;
    }

    public ulong Length => BinaryPrimitives.ReadUInt64LittleEndian(_b[ChunkItemLayout.Length..]);

    public ulong Owner => BinaryPrimitives.ReadUInt64LittleEndian(_b[ChunkItemLayout.Owner..]);

    public ulong StripeLength => BinaryPrimitives.ReadUInt64LittleEndian(_b[ChunkItemLayout.StripeLength..]);

    public BlockGroupFlags Type => (BlockGroupFlags)BinaryPrimitives.ReadUInt64LittleEndian(_b[ChunkItemLayout.Type..]);

    public uint IoAlign => BinaryPrimitives.ReadUInt32LittleEndian(_b[ChunkItemLayout.IoAlign..]);

    public uint IoWidth => BinaryPrimitives.ReadUInt32LittleEndian(_b[ChunkItemLayout.IoWidth..]);

    public uint SectorSize => BinaryPrimitives.ReadUInt32LittleEndian(_b[ChunkItemLayout.SectorSize..]);

    public ushort NumStripes => BinaryPrimitives.ReadUInt16LittleEndian(_b[ChunkItemLayout.NumStripes..]);

    public ushort SubStripes => BinaryPrimitives.ReadUInt16LittleEndian(_b[ChunkItemLayout.SubStripes..]);

    public StripeView Stripe(int index) => new(_b.Slice(ChunkItemLayout.Size + (index * StripeLayout.Size), StripeLayout.Size));
}

/// <summary>A write view of a CHUNK_ITEM (<see cref="ChunkItemLayout"/>).</summary>
public readonly ref struct ChunkItemWriter
{
    private readonly Span<byte> _b;

    public ChunkItemWriter(Span<byte> bytes)
    {
        LayoutGuard.RequireLength(bytes, ChunkItemLayout.Size, "a CHUNK_ITEM");
        _b = bytes;
    }

    public ulong Length
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[ChunkItemLayout.Length..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[ChunkItemLayout.Length..], value);
    }

    public ulong Owner
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[ChunkItemLayout.Owner..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[ChunkItemLayout.Owner..], value);
    }

    public ulong StripeLength
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[ChunkItemLayout.StripeLength..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[ChunkItemLayout.StripeLength..], value);
    }

    public BlockGroupFlags Type
    {
        get => (BlockGroupFlags)BinaryPrimitives.ReadUInt64LittleEndian(_b[ChunkItemLayout.Type..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[ChunkItemLayout.Type..], (ulong)value);
    }

    public uint IoAlign
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_b[ChunkItemLayout.IoAlign..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_b[ChunkItemLayout.IoAlign..], value);
    }

    public uint IoWidth
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_b[ChunkItemLayout.IoWidth..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_b[ChunkItemLayout.IoWidth..], value);
    }

    public uint SectorSize
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_b[ChunkItemLayout.SectorSize..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_b[ChunkItemLayout.SectorSize..], value);
    }

    public ushort NumStripes
    {
        get => BinaryPrimitives.ReadUInt16LittleEndian(_b[ChunkItemLayout.NumStripes..]);
        set => BinaryPrimitives.WriteUInt16LittleEndian(_b[ChunkItemLayout.NumStripes..], value);
    }

    public ushort SubStripes
    {
        get => BinaryPrimitives.ReadUInt16LittleEndian(_b[ChunkItemLayout.SubStripes..]);
        set => BinaryPrimitives.WriteUInt16LittleEndian(_b[ChunkItemLayout.SubStripes..], value);
    }

    public StripeWriter Stripe(int index) => new(_b.Slice(ChunkItemLayout.Size + (index * StripeLayout.Size), StripeLayout.Size));
}

/// <summary>
/// <c>btrfs_stripe</c>: where one copy (or one stripe) of a chunk lives.
/// <code>
///   off  size  field
/// 0x000     8  devid u64
/// 0x008     8  offset u64                 physical byte offset on that device
/// 0x010    16  dev_uuid uuid
/// 0x020        (end)
/// </code>
/// </summary>
public static class StripeLayout
{
    public const int DevId = 0;
    public const int Offset = 8;
    public const int DevUuid = 16;
    public const int Size = 32;
}

/// <summary>A read view of a chunk stripe (<see cref="StripeLayout"/>).</summary>
public readonly ref struct StripeView
{
    private readonly ReadOnlySpan<byte> _b;

    public StripeView(ReadOnlySpan<byte> bytes)
    {
        _b = bytes[..StripeLayout.Size];
    }

    public ulong DevId => BinaryPrimitives.ReadUInt64LittleEndian(_b[StripeLayout.DevId..]);

    public ulong Offset => BinaryPrimitives.ReadUInt64LittleEndian(_b[StripeLayout.Offset..]);

    public ReadOnlySpan<byte> DevUuid => _b.Slice(StripeLayout.DevUuid, 16);
}

/// <summary>A write view of a chunk stripe (<see cref="StripeLayout"/>).</summary>
public readonly ref struct StripeWriter
{
    private readonly Span<byte> _b;

    public StripeWriter(Span<byte> bytes)
    {
        _b = bytes[..StripeLayout.Size];
    }

    public ulong DevId
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[StripeLayout.DevId..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[StripeLayout.DevId..], value);
    }

    public ulong Offset
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[StripeLayout.Offset..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[StripeLayout.Offset..], value);
    }

    public Span<byte> DevUuid => _b.Slice(StripeLayout.DevUuid, 16);
}
