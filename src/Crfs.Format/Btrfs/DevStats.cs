// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace Crfs.Format.Btrfs;

/// <summary>
/// The device error counters, key <c>(DEV_STATS, PERSISTENT_ITEM, devid)</c> in the dev tree
/// (<c>btrfs_dev_stats_item</c>).
/// <code>
///   off  size  field
/// 0x000     8  write_errors u64
/// 0x008     8  read_errors u64
/// 0x010     8  flush_errors u64
/// 0x018     8  corruption_errors u64
/// 0x020     8  generation_errors u64
/// 0x028        (end)
/// </code>
/// </summary>
public static class DevStatsLayout
{
    public const int WriteErrors = 0;
    public const int ReadErrors = 8;
    public const int FlushErrors = 16;
    public const int CorruptionErrors = 24;
    public const int GenerationErrors = 32;
    public const int Size = 40;
}

/// <summary>A read view of a DEV_STATS item (<see cref="DevStatsLayout"/>).</summary>
public readonly ref struct DevStatsView
{
    private readonly ReadOnlySpan<byte> _b;

    public DevStatsView(ReadOnlySpan<byte> bytes)
    {
        _b = bytes[..DevStatsLayout.Size];
    }

    public ulong WriteErrors => BinaryPrimitives.ReadUInt64LittleEndian(_b[DevStatsLayout.WriteErrors..]);

    public ulong ReadErrors => BinaryPrimitives.ReadUInt64LittleEndian(_b[DevStatsLayout.ReadErrors..]);

    public ulong FlushErrors => BinaryPrimitives.ReadUInt64LittleEndian(_b[DevStatsLayout.FlushErrors..]);

    public ulong CorruptionErrors => BinaryPrimitives.ReadUInt64LittleEndian(_b[DevStatsLayout.CorruptionErrors..]);

    public ulong GenerationErrors => BinaryPrimitives.ReadUInt64LittleEndian(_b[DevStatsLayout.GenerationErrors..]);
}

/// <summary>A write view of a DEV_STATS item (<see cref="DevStatsLayout"/>).</summary>
public readonly ref struct DevStatsWriter
{
    private readonly Span<byte> _b;

    public DevStatsWriter(Span<byte> bytes)
    {
        _b = bytes[..DevStatsLayout.Size];
    }

    public ulong WriteErrors
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[DevStatsLayout.WriteErrors..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[DevStatsLayout.WriteErrors..], value);
    }

    public ulong ReadErrors
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[DevStatsLayout.ReadErrors..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[DevStatsLayout.ReadErrors..], value);
    }

    public ulong FlushErrors
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[DevStatsLayout.FlushErrors..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[DevStatsLayout.FlushErrors..], value);
    }

    public ulong CorruptionErrors
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[DevStatsLayout.CorruptionErrors..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[DevStatsLayout.CorruptionErrors..], value);
    }

    public ulong GenerationErrors
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[DevStatsLayout.GenerationErrors..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[DevStatsLayout.GenerationErrors..], value);
    }
}
