// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace Crfs.Format.Btrfs;

/// <summary>
/// <c>btrfs_disk_key</c>, 17 bytes, packed:
/// <code>
/// 0        8    9        17
/// +--------+----+--------+
/// |objectid|type| offset |
/// |  u64   | u8 |  u64   |
/// +--------+----+--------+
/// </code>
/// </summary>
public static class DiskKeyLayout
{
    public const int ObjectId = 0;
    public const int Type = 8;
    public const int Offset = 9;
    public const int Size = 17;

    public static BtrfsKey Read(ReadOnlySpan<byte> bytes) => new(
        BinaryPrimitives.ReadUInt64LittleEndian(bytes[ObjectId..]),
        (ItemType)bytes[Type],
        BinaryPrimitives.ReadUInt64LittleEndian(bytes[Offset..]));

    public static void Write(Span<byte> bytes, BtrfsKey key)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[ObjectId..], key.ObjectId);
        bytes[Type] = (byte)key.Type;
        BinaryPrimitives.WriteUInt64LittleEndian(bytes[Offset..], key.Offset);
    }
}

/// <summary>A read view of one on-disk key (<see cref="DiskKeyLayout"/>).</summary>
public readonly ref struct DiskKey
{
    private readonly ReadOnlySpan<byte> _b;

    public DiskKey(ReadOnlySpan<byte> bytes)
    {
        _b = bytes[..DiskKeyLayout.Size];
    }

    public ulong ObjectId => BinaryPrimitives.ReadUInt64LittleEndian(_b[DiskKeyLayout.ObjectId..]);

    public ItemType Type => (ItemType)_b[DiskKeyLayout.Type];

    public ulong Offset => BinaryPrimitives.ReadUInt64LittleEndian(_b[DiskKeyLayout.Offset..]);

    public BtrfsKey ToKey() => DiskKeyLayout.Read(_b);
}

/// <summary>
/// <c>btrfs_timespec</c>, 12 bytes: <c>sec</c> (s64 at 0) and <c>nsec</c> (u32 at 8).
/// </summary>
public static class TimespecLayout
{
    public const int Seconds = 0;
    public const int Nanoseconds = 8;
    public const int Size = 12;

    public static BtrfsTimespec Read(ReadOnlySpan<byte> bytes) => new(
        BinaryPrimitives.ReadInt64LittleEndian(bytes[Seconds..]),
        BinaryPrimitives.ReadUInt32LittleEndian(bytes[Nanoseconds..]));

    public static void Write(Span<byte> bytes, BtrfsTimespec value)
    {
        BinaryPrimitives.WriteInt64LittleEndian(bytes[Seconds..], value.Seconds);
        BinaryPrimitives.WriteUInt32LittleEndian(bytes[Nanoseconds..], value.Nanoseconds);
    }
}

/// <summary>A point in time as btrfs stores it: seconds since the epoch and nanoseconds.</summary>
public readonly record struct BtrfsTimespec(long Seconds, uint Nanoseconds)
{
    public override string ToString() => $"{Seconds}.{Nanoseconds}";
}

/// <summary>Formats the 16 raw bytes of a btrfs UUID (fsid, device, subvolume) as 8-4-4-4-12 hex.</summary>
public static class UuidFormat
{
    public const int Size = 16;

    public static string ToString(ReadOnlySpan<byte> uuid)
    {
        uuid = uuid[..Size];
        return string.Create(36, uuid.ToArray(), static (chars, bytes) =>
        {
            int c = 0;
            for (int i = 0; i < Size; i++)
            {
                if (i is 4 or 6 or 8 or 10)
                {
                    chars[c++] = '-';
                }

                chars[c++] = "0123456789abcdef"[bytes[i] >> 4];
                chars[c++] = "0123456789abcdef"[bytes[i] & 0xF];
            }
        });
    }
}
