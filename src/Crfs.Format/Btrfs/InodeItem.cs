// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace Crfs.Format.Btrfs;

/// <summary>
/// <c>btrfs_inode_item</c>: key <c>(ino, INODE_ITEM, 0)</c>; also embedded at the start of
/// every ROOT_ITEM.
/// <code>
///   off  size  field
/// 0x000     8  generation u64             transid that created the inode
/// 0x008     8  transid u64                transid of the last change
/// 0x010     8  size u64                   bytes; symlink target length
/// 0x018     8  nbytes u64
/// 0x020     8  block_group u64            unused hint
/// 0x028     4  nlink u32
/// 0x02C     4  uid u32
/// 0x030     4  gid u32
/// 0x034     4  mode u32
/// 0x038     8  rdev u64                   (major << 20) | minor
/// 0x040     8  flags u64
/// 0x048     8  sequence u64               i_version
/// 0x050    32  reserved u8[32]
/// 0x070    12  atime timespec
/// 0x07C    12  ctime timespec
/// 0x088    12  mtime timespec
/// 0x094    12  otime timespec             creation time
/// 0x0A0        (end)
/// </code>
/// </summary>
public static class InodeItemLayout
{
    public const int Generation = 0;
    public const int Transid = 8;
    public const int FileSize = 16;
    public const int Nbytes = 24;
    public const int BlockGroup = 32;
    public const int Nlink = 40;
    public const int Uid = 44;
    public const int Gid = 48;
    public const int Mode = 52;
    public const int Rdev = 56;
    public const int Flags = 64;
    public const int Sequence = 72;
    public const int Reserved = 80;
    public const int Atime = 112;
    public const int Ctime = 124;
    public const int Mtime = 136;
    public const int Otime = 148;
    public const int Size = 160;
}

/// <summary>A read view of an INODE_ITEM (<see cref="InodeItemLayout"/>).</summary>
public readonly ref struct InodeItemView
{
    private readonly ReadOnlySpan<byte> _b;

    public InodeItemView(ReadOnlySpan<byte> bytes)
    {
        _b = bytes[..InodeItemLayout.Size];
    }

    public ulong Generation => BinaryPrimitives.ReadUInt64LittleEndian(_b[InodeItemLayout.Generation..]);

    public ulong Transid => BinaryPrimitives.ReadUInt64LittleEndian(_b[InodeItemLayout.Transid..]);

    public ulong Size => BinaryPrimitives.ReadUInt64LittleEndian(_b[InodeItemLayout.FileSize..]);

    public ulong Nbytes => BinaryPrimitives.ReadUInt64LittleEndian(_b[InodeItemLayout.Nbytes..]);

    public ulong BlockGroup => BinaryPrimitives.ReadUInt64LittleEndian(_b[InodeItemLayout.BlockGroup..]);

    public uint Nlink => BinaryPrimitives.ReadUInt32LittleEndian(_b[InodeItemLayout.Nlink..]);

    public uint Uid => BinaryPrimitives.ReadUInt32LittleEndian(_b[InodeItemLayout.Uid..]);

    public uint Gid => BinaryPrimitives.ReadUInt32LittleEndian(_b[InodeItemLayout.Gid..]);

    public uint Mode => BinaryPrimitives.ReadUInt32LittleEndian(_b[InodeItemLayout.Mode..]);

    public ulong Rdev => BinaryPrimitives.ReadUInt64LittleEndian(_b[InodeItemLayout.Rdev..]);

    public InodeFlags Flags => (InodeFlags)BinaryPrimitives.ReadUInt64LittleEndian(_b[InodeItemLayout.Flags..]);

    public ulong Sequence => BinaryPrimitives.ReadUInt64LittleEndian(_b[InodeItemLayout.Sequence..]);

    public BtrfsTimespec Atime => TimespecLayout.Read(_b[InodeItemLayout.Atime..]);

    public BtrfsTimespec Ctime => TimespecLayout.Read(_b[InodeItemLayout.Ctime..]);

    public BtrfsTimespec Mtime => TimespecLayout.Read(_b[InodeItemLayout.Mtime..]);

    public BtrfsTimespec Otime => TimespecLayout.Read(_b[InodeItemLayout.Otime..]);

    /// <summary>Copies every field into a value that outlives the block.</summary>
    public InodeItem ToInodeItem() => new(
        Generation, Transid, Size, Nbytes, BlockGroup, Nlink, Uid, Gid, Mode, Rdev, Flags, Sequence,
        Atime, Ctime, Mtime, Otime);
}

/// <summary>A write view of an INODE_ITEM (<see cref="InodeItemLayout"/>).</summary>
public readonly ref struct InodeItemWriter
{
    private readonly Span<byte> _b;

    public InodeItemWriter(Span<byte> bytes)
    {
        _b = bytes[..InodeItemLayout.Size];
    }

    public ulong Generation
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[InodeItemLayout.Generation..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[InodeItemLayout.Generation..], value);
    }

    public ulong Transid
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[InodeItemLayout.Transid..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[InodeItemLayout.Transid..], value);
    }

    public ulong Size
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[InodeItemLayout.FileSize..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[InodeItemLayout.FileSize..], value);
    }

    public ulong Nbytes
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[InodeItemLayout.Nbytes..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[InodeItemLayout.Nbytes..], value);
    }

    public ulong BlockGroup
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[InodeItemLayout.BlockGroup..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[InodeItemLayout.BlockGroup..], value);
    }

    public uint Nlink
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_b[InodeItemLayout.Nlink..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_b[InodeItemLayout.Nlink..], value);
    }

    public uint Uid
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_b[InodeItemLayout.Uid..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_b[InodeItemLayout.Uid..], value);
    }

    public uint Gid
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_b[InodeItemLayout.Gid..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_b[InodeItemLayout.Gid..], value);
    }

    public uint Mode
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_b[InodeItemLayout.Mode..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_b[InodeItemLayout.Mode..], value);
    }

    public ulong Rdev
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[InodeItemLayout.Rdev..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[InodeItemLayout.Rdev..], value);
    }

    public InodeFlags Flags
    {
        get => (InodeFlags)BinaryPrimitives.ReadUInt64LittleEndian(_b[InodeItemLayout.Flags..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[InodeItemLayout.Flags..], (ulong)value);
    }

    public ulong Sequence
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[InodeItemLayout.Sequence..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[InodeItemLayout.Sequence..], value);
    }

    public BtrfsTimespec Atime
    {
        get => TimespecLayout.Read(_b[InodeItemLayout.Atime..]);
        set => TimespecLayout.Write(_b[InodeItemLayout.Atime..], value);
    }

    public BtrfsTimespec Ctime
    {
        get => TimespecLayout.Read(_b[InodeItemLayout.Ctime..]);
        set => TimespecLayout.Write(_b[InodeItemLayout.Ctime..], value);
    }

    public BtrfsTimespec Mtime
    {
        get => TimespecLayout.Read(_b[InodeItemLayout.Mtime..]);
        set => TimespecLayout.Write(_b[InodeItemLayout.Mtime..], value);
    }

    public BtrfsTimespec Otime
    {
        get => TimespecLayout.Read(_b[InodeItemLayout.Otime..]);
        set => TimespecLayout.Write(_b[InodeItemLayout.Otime..], value);
    }

    /// <summary>Writes every field of <paramref name="item"/> (the reserved bytes are left as they are).</summary>
    public void Set(in InodeItem item)
    {
        Generation = item.Generation;
        Transid = item.Transid;
        Size = item.Size;
        Nbytes = item.Nbytes;
        BlockGroup = item.BlockGroup;
        Nlink = item.Nlink;
        Uid = item.Uid;
        Gid = item.Gid;
        Mode = item.Mode;
        Rdev = item.Rdev;
        Flags = item.Flags;
        Sequence = item.Sequence;
        Atime = item.Atime;
        Ctime = item.Ctime;
        Mtime = item.Mtime;
        Otime = item.Otime;
    }
}

/// <summary>
/// The decoded fields of an INODE_ITEM: a value the reader hands to its callers once the block
/// it came from may be gone from the cache.
/// </summary>
public readonly record struct InodeItem(
    ulong Generation,
    ulong Transid,
    ulong Size,
    ulong Nbytes,
    ulong BlockGroup,
    uint Nlink,
    uint Uid,
    uint Gid,
    uint Mode,
    ulong Rdev,
    InodeFlags Flags,
    ulong Sequence,
    BtrfsTimespec Atime,
    BtrfsTimespec Ctime,
    BtrfsTimespec Mtime,
    BtrfsTimespec Otime)
{
    /// <summary>The major device number from the kernel's <c>(major &lt;&lt; 20) | minor</c> encoding.</summary>
    public uint RdevMajor => (uint)(Rdev >> 20);

    public uint RdevMinor => (uint)(Rdev & 0xFFFFF);
}
