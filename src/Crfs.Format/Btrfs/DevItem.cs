// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace Crfs.Format.Btrfs;

/// <summary>
/// <c>btrfs_dev_item</c>: one device of the volume. Lives in the chunk tree under key
/// <c>(DEV_ITEMS, DEV_ITEM, devid)</c>; each device's superblock carries a copy of its own.
/// <code>
///   off  size  field
/// 0x000     8  devid u64                  equals the DEV_ITEM key offset
/// 0x008     8  total_bytes u64            device size
/// 0x010     8  bytes_used u64             sum of this device's DEV_EXTENT lengths
/// 0x018     4  io_align u32
/// 0x01C     4  io_width u32
/// 0x020     4  sector_size u32
/// 0x024     8  type u64
/// 0x02C     8  generation u64
/// 0x034     8  start_offset u64
/// 0x03C     4  dev_group u32
/// 0x040     1  seek_speed u8
/// 0x041     1  bandwidth u8
/// 0x042    16  uuid uuid                  device UUID (also in chunk stripes)
/// 0x052    16  fsid uuid                  fsid, or metadata_uuid with METADATA_UUID
/// 0x062        (end)
/// </code>
/// </summary>
public static class DevItemLayout
{
    public const int DevId = 0;
    public const int TotalBytes = 8;
    public const int BytesUsed = 16;
    public const int IoAlign = 24;
    public const int IoWidth = 28;
    public const int SectorSize = 32;
    public const int Type = 36;
    public const int Generation = 44;
    public const int StartOffset = 52;
    public const int DevGroup = 60;
    public const int SeekSpeed = 64;
    public const int Bandwidth = 65;
    public const int Uuid = 66;
    public const int Fsid = 82;
    public const int Size = 98;
}

/// <summary>A read view of a DEV_ITEM (<see cref="DevItemLayout"/>).</summary>
public readonly ref struct DevItemView
{
    private readonly ReadOnlySpan<byte> _b;

    public DevItemView(ReadOnlySpan<byte> bytes)
    {
        _b = bytes[..DevItemLayout.Size];
    }

    public ulong DevId => BinaryPrimitives.ReadUInt64LittleEndian(_b[DevItemLayout.DevId..]);

    public ulong TotalBytes => BinaryPrimitives.ReadUInt64LittleEndian(_b[DevItemLayout.TotalBytes..]);

    public ulong BytesUsed => BinaryPrimitives.ReadUInt64LittleEndian(_b[DevItemLayout.BytesUsed..]);

    public uint IoAlign => BinaryPrimitives.ReadUInt32LittleEndian(_b[DevItemLayout.IoAlign..]);

    public uint IoWidth => BinaryPrimitives.ReadUInt32LittleEndian(_b[DevItemLayout.IoWidth..]);

    public uint SectorSize => BinaryPrimitives.ReadUInt32LittleEndian(_b[DevItemLayout.SectorSize..]);

    public ulong Type => BinaryPrimitives.ReadUInt64LittleEndian(_b[DevItemLayout.Type..]);

    public ulong Generation => BinaryPrimitives.ReadUInt64LittleEndian(_b[DevItemLayout.Generation..]);

    public ulong StartOffset => BinaryPrimitives.ReadUInt64LittleEndian(_b[DevItemLayout.StartOffset..]);

    public uint DevGroup => BinaryPrimitives.ReadUInt32LittleEndian(_b[DevItemLayout.DevGroup..]);

    public byte SeekSpeed => _b[DevItemLayout.SeekSpeed];

    public byte Bandwidth => _b[DevItemLayout.Bandwidth];

    public ReadOnlySpan<byte> Uuid => _b.Slice(DevItemLayout.Uuid, 16);

    public ReadOnlySpan<byte> Fsid => _b.Slice(DevItemLayout.Fsid, 16);
}

/// <summary>A write view of a DEV_ITEM (<see cref="DevItemLayout"/>).</summary>
public readonly ref struct DevItemWriter
{
    private readonly Span<byte> _b;

    public DevItemWriter(Span<byte> bytes)
    {
        _b = bytes[..DevItemLayout.Size];
    }

    public ulong DevId
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[DevItemLayout.DevId..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[DevItemLayout.DevId..], value);
    }

    public ulong TotalBytes
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[DevItemLayout.TotalBytes..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[DevItemLayout.TotalBytes..], value);
    }

    public ulong BytesUsed
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[DevItemLayout.BytesUsed..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[DevItemLayout.BytesUsed..], value);
    }

    public uint IoAlign
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_b[DevItemLayout.IoAlign..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_b[DevItemLayout.IoAlign..], value);
    }

    public uint IoWidth
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_b[DevItemLayout.IoWidth..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_b[DevItemLayout.IoWidth..], value);
    }

    public uint SectorSize
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_b[DevItemLayout.SectorSize..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_b[DevItemLayout.SectorSize..], value);
    }

    public ulong Type
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[DevItemLayout.Type..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[DevItemLayout.Type..], value);
    }

    public ulong Generation
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[DevItemLayout.Generation..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[DevItemLayout.Generation..], value);
    }

    public ulong StartOffset
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[DevItemLayout.StartOffset..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[DevItemLayout.StartOffset..], value);
    }

    public uint DevGroup
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_b[DevItemLayout.DevGroup..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_b[DevItemLayout.DevGroup..], value);
    }

    public byte SeekSpeed
    {
        get => _b[DevItemLayout.SeekSpeed];
        set => _b[DevItemLayout.SeekSpeed] = value;
    }

    public byte Bandwidth
    {
        get => _b[DevItemLayout.Bandwidth];
        set => _b[DevItemLayout.Bandwidth] = value;
    }

    public Span<byte> Uuid => _b.Slice(DevItemLayout.Uuid, 16);

    public Span<byte> Fsid => _b.Slice(DevItemLayout.Fsid, 16);
}
