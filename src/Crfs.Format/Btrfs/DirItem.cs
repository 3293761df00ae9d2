// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace Crfs.Format.Btrfs;

/// <summary>
/// One entry of <c>btrfs_dir_item</c>, followed by <c>name_len</c> name bytes and then
/// <c>data_len</c> data bytes. Used by DIR_ITEM <c>(dir, DIR_ITEM, name hash)</c> and XATTR_ITEM
/// <c>(ino, XATTR_ITEM, name hash)</c>, where names with equal hashes share one item, and by
/// DIR_INDEX <c>(dir, DIR_INDEX, index)</c>, which holds exactly one entry.
/// <code>
///   off  size  field
/// 0x000    17  location key               INODE_ITEM key, ROOT_ITEM key of a subvolume, or zero (xattr)
/// 0x011     8  transid u64                not meaningful: mkfs 6.2 --rootdir leaves garbage
/// 0x019     2  data_length u16            xattr value length
/// 0x01B     2  name_length u16
/// 0x01D     1  type u8
/// 0x01E        (end)
/// </code>
/// </summary>
public static class DirItemLayout
{
    public const int Location = 0;
    public const int Transid = 17;
    public const int DataLength = 25;
    public const int NameLength = 27;
    public const int Type = 29;
    public const int Size = 30;

    /// <summary>The longest file name (<c>BTRFS_NAME_LEN</c>); xattr names share the limit.</summary>
    public const int MaxNameLength = 255;

    public static int EntrySize(int nameLength, int dataLength) => Size + nameLength + dataLength;
}

/// <summary>A read view of a dir item entry (<see cref="DirItemLayout"/>).</summary>
public readonly ref struct DirItemView
{
    private readonly ReadOnlySpan<byte> _b;

    public DirItemView(ReadOnlySpan<byte> bytes)
    {
        LayoutGuard.RequireLength(bytes, DirItemLayout.Size, "a dir item entry");
        _b = bytes;
    }

    public BtrfsKey Location => DiskKeyLayout.Read(_b[DirItemLayout.Location..]);

    public ulong Transid => BinaryPrimitives.ReadUInt64LittleEndian(_b[DirItemLayout.Transid..]);

    public ushort DataLength => BinaryPrimitives.ReadUInt16LittleEndian(_b[DirItemLayout.DataLength..]);

    public ushort NameLength => BinaryPrimitives.ReadUInt16LittleEndian(_b[DirItemLayout.NameLength..]);

    public DirEntryType Type => (DirEntryType)_b[DirItemLayout.Type];

    public ReadOnlySpan<byte> Name => _b.Slice(DirItemLayout.Size, NameLength);

    /// <summary>The xattr value (empty for directory entries).</summary>
    public ReadOnlySpan<byte> Data => _b.Slice(DirItemLayout.Size + NameLength, DataLength);

    public int EntrySize => DirItemLayout.Size + NameLength + DataLength;
}

/// <summary>A write view of a dir item entry (<see cref="DirItemLayout"/>).</summary>
public readonly ref struct DirItemWriter
{
    private readonly Span<byte> _b;

    public DirItemWriter(Span<byte> bytes)
    {
        LayoutGuard.RequireLength(bytes, DirItemLayout.Size, "a dir item entry");
        _b = bytes;
    }

    public BtrfsKey Location
    {
        get => DiskKeyLayout.Read(_b[DirItemLayout.Location..]);
        set => DiskKeyLayout.Write(_b[DirItemLayout.Location..], value);
    }

    public ulong Transid
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[DirItemLayout.Transid..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[DirItemLayout.Transid..], value);
    }

    public ushort DataLength
    {
        get => BinaryPrimitives.ReadUInt16LittleEndian(_b[DirItemLayout.DataLength..]);
        set => BinaryPrimitives.WriteUInt16LittleEndian(_b[DirItemLayout.DataLength..], value);
    }

    public ushort NameLength
    {
        get => BinaryPrimitives.ReadUInt16LittleEndian(_b[DirItemLayout.NameLength..]);
        set => BinaryPrimitives.WriteUInt16LittleEndian(_b[DirItemLayout.NameLength..], value);
    }

    public DirEntryType Type
    {
        get => (DirEntryType)_b[DirItemLayout.Type];
        set => _b[DirItemLayout.Type] = (byte)value;
    }

    public Span<byte> Name => _b.Slice(DirItemLayout.Size, NameLength);

    public Span<byte> Data => _b.Slice(DirItemLayout.Size + NameLength, DataLength);
}

/// <summary>
/// Iterates the entries packed in one DIR_ITEM, DIR_INDEX or XATTR_ITEM item. The item must have passed
/// <see cref="TreeBlockChecker"/>, which proved that every entry lies inside it.
/// </summary>
public ref struct DirItemEnumerator
{
    private ReadOnlySpan<byte> _rest;

    public DirItemEnumerator(ReadOnlySpan<byte> item)
    {
        _rest = item;
        Current = default;
    }

    public DirItemView Current { get; private set; }

    public readonly DirItemEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_rest.IsEmpty)
        {
            return false;
        }

        int size = new DirItemView(_rest).EntrySize;
        Current = new DirItemView(_rest[..size]);
        _rest = _rest[size..];
        return true;
    }
}
