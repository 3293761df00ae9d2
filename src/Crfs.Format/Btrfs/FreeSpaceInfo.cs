// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace Crfs.Format.Btrfs;

/// <summary>
/// <c>btrfs_free_space_info</c>, key <c>(bg start, FREE_SPACE_INFO, bg length)</c> in the free space
/// tree. The group's free space follows as zero-sized FREE_SPACE_EXTENT items
/// <c>(start, FREE_SPACE_EXTENT, length)</c> or FREE_SPACE_BITMAP items <c>(start, FREE_SPACE_BITMAP,
/// length)</c> whose data has one bit per sector, LSB first, set when free.
/// <code>
///   off  size  field
/// 0x000     4  extent_count u32           free runs in the block group
/// 0x004     4  flags u32
/// 0x008        (end)
/// </code>
/// </summary>
public static class FreeSpaceInfoLayout
{
    public const int ExtentCount = 0;
    public const int Flags = 4;
    public const int Size = 8;
}

/// <summary>A read view of a FREE_SPACE_INFO (<see cref="FreeSpaceInfoLayout"/>).</summary>
public readonly ref struct FreeSpaceInfoView
{
    private readonly ReadOnlySpan<byte> _b;

    public FreeSpaceInfoView(ReadOnlySpan<byte> bytes)
    {
        _b = bytes[..FreeSpaceInfoLayout.Size];
    }

    public uint ExtentCount => BinaryPrimitives.ReadUInt32LittleEndian(_b[FreeSpaceInfoLayout.ExtentCount..]);

    public FreeSpaceInfoFlags Flags => (FreeSpaceInfoFlags)BinaryPrimitives.ReadUInt32LittleEndian(_b[FreeSpaceInfoLayout.Flags..]);
}

/// <summary>A write view of a FREE_SPACE_INFO (<see cref="FreeSpaceInfoLayout"/>).</summary>
public readonly ref struct FreeSpaceInfoWriter
{
    private readonly Span<byte> _b;

    public FreeSpaceInfoWriter(Span<byte> bytes)
    {
        _b = bytes[..FreeSpaceInfoLayout.Size];
    }

    public uint ExtentCount
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_b[FreeSpaceInfoLayout.ExtentCount..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_b[FreeSpaceInfoLayout.ExtentCount..], value);
    }

    public FreeSpaceInfoFlags Flags
    {
        get => (FreeSpaceInfoFlags)BinaryPrimitives.ReadUInt32LittleEndian(_b[FreeSpaceInfoLayout.Flags..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_b[FreeSpaceInfoLayout.Flags..], (uint)value);
    }
}
