// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace Crfs.Format.Btrfs;

/// <summary>
/// <c>btrfs_file_extent_item</c>, key <c>(ino, EXTENT_DATA, file offset)</c>. An INLINE extent
/// ends at <see cref="FileExtentItemLayout.InlineDataStart"/> and carries the file data (compressed
/// when <c>compression</c> is not 0) up to the end of the item; REGULAR and PREALLOC extents have the
/// four fields after it and map file bytes <c>[key.offset, key.offset + num_bytes)</c> to bytes
/// <c>[offset, offset + num_bytes)</c> of the decompressed extent at <c>disk_bytenr</c>.
/// <code>
///   off  size  field
/// 0x000     8  generation u64             transid that wrote it
/// 0x008     8  ram_bytes u64              decompressed size of the whole extent
/// 0x010     1  compression u8
/// 0x011     1  encryption u8              0
/// 0x012     2  other_encoding u16         0
/// 0x014     1  type u8                    inline data starts here (0x15)
/// 0x015     8  disk_bytenr u64            logical address; 0 = explicit hole
/// 0x01D     8  disk_num_bytes u64         on-disk extent length
/// 0x025     8  offset u64                 into the decompressed extent
/// 0x02D     8  num_bytes u64              file bytes covered
/// 0x035        (end)
/// </code>
/// </summary>
public static class FileExtentItemLayout
{
    public const int Generation = 0;
    public const int RamBytes = 8;
    public const int Compression = 16;
    public const int Encryption = 17;
    public const int OtherEncoding = 18;
    public const int Type = 20;
    public const int DiskBytenr = 21;
    public const int DiskNumBytes = 29;
    public const int Offset = 37;
    public const int NumBytes = 45;
    public const int Size = 53;

    /// <summary>Where inline data begins, and the size of an inline extent's header.</summary>
    public const int InlineDataStart = DiskBytenr;
}

/// <summary>A read view of a file extent item (<see cref="FileExtentItemLayout"/>).</summary>
public readonly ref struct FileExtentItemView
{
    private readonly ReadOnlySpan<byte> _b;

    public FileExtentItemView(ReadOnlySpan<byte> bytes)
    {
        LayoutGuard.RequireLength(bytes, FileExtentItemLayout.InlineDataStart, "a file extent item");
        _b = bytes;
    }

    public ulong Generation => BinaryPrimitives.ReadUInt64LittleEndian(_b[FileExtentItemLayout.Generation..]);

    public ulong RamBytes => BinaryPrimitives.ReadUInt64LittleEndian(_b[FileExtentItemLayout.RamBytes..]);

    public CompressionType Compression => (CompressionType)_b[FileExtentItemLayout.Compression];

    public byte Encryption => _b[FileExtentItemLayout.Encryption];

    public ushort OtherEncoding => BinaryPrimitives.ReadUInt16LittleEndian(_b[FileExtentItemLayout.OtherEncoding..]);

    public FileExtentType Type => (FileExtentType)_b[FileExtentItemLayout.Type];

    public ulong DiskBytenr => BinaryPrimitives.ReadUInt64LittleEndian(_b[FileExtentItemLayout.DiskBytenr..]);

    public ulong DiskNumBytes => BinaryPrimitives.ReadUInt64LittleEndian(_b[FileExtentItemLayout.DiskNumBytes..]);

    public ulong Offset => BinaryPrimitives.ReadUInt64LittleEndian(_b[FileExtentItemLayout.Offset..]);

    public ulong NumBytes => BinaryPrimitives.ReadUInt64LittleEndian(_b[FileExtentItemLayout.NumBytes..]);

    public ReadOnlySpan<byte> InlineData => _b[FileExtentItemLayout.InlineDataStart..];
}

/// <summary>A write view of a file extent item (<see cref="FileExtentItemLayout"/>).</summary>
public readonly ref struct FileExtentItemWriter
{
    private readonly Span<byte> _b;

    public FileExtentItemWriter(Span<byte> bytes)
    {
        LayoutGuard.RequireLength(bytes, FileExtentItemLayout.InlineDataStart, "a file extent item");
        _b = bytes;
    }

    public ulong Generation
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[FileExtentItemLayout.Generation..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[FileExtentItemLayout.Generation..], value);
    }

    public ulong RamBytes
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[FileExtentItemLayout.RamBytes..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[FileExtentItemLayout.RamBytes..], value);
    }

    public CompressionType Compression
    {
        get => (CompressionType)_b[FileExtentItemLayout.Compression];
        set => _b[FileExtentItemLayout.Compression] = (byte)value;
    }

    public byte Encryption
    {
        get => _b[FileExtentItemLayout.Encryption];
        set => _b[FileExtentItemLayout.Encryption] = value;
    }

    public ushort OtherEncoding
    {
        get => BinaryPrimitives.ReadUInt16LittleEndian(_b[FileExtentItemLayout.OtherEncoding..]);
        set => BinaryPrimitives.WriteUInt16LittleEndian(_b[FileExtentItemLayout.OtherEncoding..], value);
    }

    public FileExtentType Type
    {
        get => (FileExtentType)_b[FileExtentItemLayout.Type];
        set => _b[FileExtentItemLayout.Type] = (byte)value;
    }

    public ulong DiskBytenr
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[FileExtentItemLayout.DiskBytenr..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[FileExtentItemLayout.DiskBytenr..], value);
    }

    public ulong DiskNumBytes
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[FileExtentItemLayout.DiskNumBytes..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[FileExtentItemLayout.DiskNumBytes..], value);
    }

    public ulong Offset
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[FileExtentItemLayout.Offset..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[FileExtentItemLayout.Offset..], value);
    }

    public ulong NumBytes
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[FileExtentItemLayout.NumBytes..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[FileExtentItemLayout.NumBytes..], value);
    }

    public Span<byte> InlineData => _b[FileExtentItemLayout.InlineDataStart..];
}
