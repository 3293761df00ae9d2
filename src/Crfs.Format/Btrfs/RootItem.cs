// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace Crfs.Format.Btrfs;

/// <summary>
/// <c>btrfs_root_item</c>, key <c>(tree id, ROOT_ITEM, 0 or snapshot transid)</c> in the root tree:
/// where a tree's root node is. Items written by very old kernels stop after <c>level</c>
/// (<see cref="RootItemLayout.LegacySize"/> bytes); the view then reads the later fields as zero.
/// <code>
///   off  size  field
/// 0x000   160  inode InodeItem            embedded, mostly unused
/// 0x0A0     8  generation u64             root node header generation
/// 0x0A8     8  root_dirid u64             256 for fs trees
/// 0x0B0     8  bytenr u64                 root node (logical)
/// 0x0B8     8  byte_limit u64
/// 0x0C0     8  bytes_used u64
/// 0x0C8     8  last_snapshot u64
/// 0x0D0     8  flags u64
/// 0x0D8     4  refs u32
/// 0x0DC    17  drop_progress key
/// 0x0ED     1  drop_level u8
/// 0x0EE     1  level u8                   root node level; legacy items end here
/// 0x0EF     8  generation_v2 u64          = generation, else later fields are stale
/// 0x0F7    16  uuid uuid
/// 0x107    16  parent_uuid uuid
/// 0x117    16  received_uuid uuid
/// 0x127     8  ctransid u64
/// 0x12F     8  otransid u64
/// 0x137     8  stransid u64
/// 0x13F     8  rtransid u64
/// 0x147    12  ctime timespec
/// 0x153    12  otime timespec
/// 0x15F    12  stime timespec
/// 0x16B    12  rtime timespec
/// 0x177    64  reserved u8[64]
/// 0x1B7        (end)
/// </code>
/// </summary>
public static class RootItemLayout
{
    public const int Inode = 0;
    public const int Generation = 160;
    public const int RootDirId = 168;
    public const int Bytenr = 176;
    public const int ByteLimit = 184;
    public const int BytesUsed = 192;
    public const int LastSnapshot = 200;
    public const int Flags = 208;
    public const int Refs = 216;
    public const int DropProgress = 220;
    public const int DropLevel = 237;
    public const int Level = 238;
    public const int GenerationV2 = 239;
    public const int Uuid = 247;
    public const int ParentUuid = 263;
    public const int ReceivedUuid = 279;
    public const int Ctransid = 295;
    public const int Otransid = 303;
    public const int Stransid = 311;
    public const int Rtransid = 319;
    public const int Ctime = 327;
    public const int Otime = 339;
    public const int Stime = 351;
    public const int Rtime = 363;
    public const int Reserved = 375;
    public const int Size = 439;

    /// <summary>The size of a ROOT_ITEM written before <c>generation_v2</c> existed.</summary>
    public const int LegacySize = GenerationV2;
}

/// <summary>A read view of a ROOT_ITEM (<see cref="RootItemLayout"/>).</summary>
public readonly ref struct RootItemView
{
    private readonly ReadOnlySpan<byte> _b;

    public RootItemView(ReadOnlySpan<byte> bytes)
    {
        LayoutGuard.RequireLength(bytes, RootItemLayout.LegacySize, "a ROOT_ITEM");
        _b = bytes;
    }

    public InodeItemView Inode => new(_b.Slice(RootItemLayout.Inode, InodeItemLayout.Size));

    public ulong Generation => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootItemLayout.Generation..]);

    public ulong RootDirId => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootItemLayout.RootDirId..]);

    public ulong Bytenr => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootItemLayout.Bytenr..]);

    public ulong ByteLimit => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootItemLayout.ByteLimit..]);

    public ulong BytesUsed => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootItemLayout.BytesUsed..]);

    public ulong LastSnapshot => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootItemLayout.LastSnapshot..]);

    public RootItemFlags Flags => (RootItemFlags)BinaryPrimitives.ReadUInt64LittleEndian(_b[RootItemLayout.Flags..]);

    public uint Refs => BinaryPrimitives.ReadUInt32LittleEndian(_b[RootItemLayout.Refs..]);

    public BtrfsKey DropProgress => DiskKeyLayout.Read(_b[RootItemLayout.DropProgress..]);

    public byte DropLevel => _b[RootItemLayout.DropLevel];

    public byte Level => _b[RootItemLayout.Level];

    public ulong GenerationV2 => _b.Length < RootItemLayout.Size ? default : BinaryPrimitives.ReadUInt64LittleEndian(_b[RootItemLayout.GenerationV2..]);

    public ReadOnlySpan<byte> Uuid => _b.Length < RootItemLayout.Size ? default : _b.Slice(RootItemLayout.Uuid, 16);

    public ReadOnlySpan<byte> ParentUuid => _b.Length < RootItemLayout.Size ? default : _b.Slice(RootItemLayout.ParentUuid, 16);

    public ReadOnlySpan<byte> ReceivedUuid => _b.Length < RootItemLayout.Size ? default : _b.Slice(RootItemLayout.ReceivedUuid, 16);

    public ulong Ctransid => _b.Length < RootItemLayout.Size ? default : BinaryPrimitives.ReadUInt64LittleEndian(_b[RootItemLayout.Ctransid..]);

    public ulong Otransid => _b.Length < RootItemLayout.Size ? default : BinaryPrimitives.ReadUInt64LittleEndian(_b[RootItemLayout.Otransid..]);

    public ulong Stransid => _b.Length < RootItemLayout.Size ? default : BinaryPrimitives.ReadUInt64LittleEndian(_b[RootItemLayout.Stransid..]);

    public ulong Rtransid => _b.Length < RootItemLayout.Size ? default : BinaryPrimitives.ReadUInt64LittleEndian(_b[RootItemLayout.Rtransid..]);

    public BtrfsTimespec Ctime => _b.Length < RootItemLayout.Size ? default : TimespecLayout.Read(_b[RootItemLayout.Ctime..]);

    public BtrfsTimespec Otime => _b.Length < RootItemLayout.Size ? default : TimespecLayout.Read(_b[RootItemLayout.Otime..]);

    public BtrfsTimespec Stime => _b.Length < RootItemLayout.Size ? default : TimespecLayout.Read(_b[RootItemLayout.Stime..]);

    public BtrfsTimespec Rtime => _b.Length < RootItemLayout.Size ? default : TimespecLayout.Read(_b[RootItemLayout.Rtime..]);
}

/// <summary>A write view of a ROOT_ITEM (<see cref="RootItemLayout"/>).</summary>
public readonly ref struct RootItemWriter
{
    private readonly Span<byte> _b;

    public RootItemWriter(Span<byte> bytes)
    {
        LayoutGuard.RequireLength(bytes, RootItemLayout.LegacySize, "a ROOT_ITEM");
        _b = bytes;
    }

    public InodeItemWriter Inode => new(_b.Slice(RootItemLayout.Inode, InodeItemLayout.Size));

    public ulong Generation
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootItemLayout.Generation..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[RootItemLayout.Generation..], value);
    }

    public ulong RootDirId
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootItemLayout.RootDirId..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[RootItemLayout.RootDirId..], value);
    }

    public ulong Bytenr
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootItemLayout.Bytenr..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[RootItemLayout.Bytenr..], value);
    }

    public ulong ByteLimit
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootItemLayout.ByteLimit..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[RootItemLayout.ByteLimit..], value);
    }

    public ulong BytesUsed
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootItemLayout.BytesUsed..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[RootItemLayout.BytesUsed..], value);
    }

    public ulong LastSnapshot
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootItemLayout.LastSnapshot..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[RootItemLayout.LastSnapshot..], value);
    }

    public RootItemFlags Flags
    {
        get => (RootItemFlags)BinaryPrimitives.ReadUInt64LittleEndian(_b[RootItemLayout.Flags..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[RootItemLayout.Flags..], (ulong)value);
    }

    public uint Refs
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_b[RootItemLayout.Refs..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_b[RootItemLayout.Refs..], value);
    }

    public BtrfsKey DropProgress
    {
        get => DiskKeyLayout.Read(_b[RootItemLayout.DropProgress..]);
        set => DiskKeyLayout.Write(_b[RootItemLayout.DropProgress..], value);
    }

    public byte DropLevel
    {
        get => _b[RootItemLayout.DropLevel];
        set => _b[RootItemLayout.DropLevel] = value;
    }

    public byte Level
    {
        get => _b[RootItemLayout.Level];
        set => _b[RootItemLayout.Level] = value;
    }

    public ulong GenerationV2
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootItemLayout.GenerationV2..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[RootItemLayout.GenerationV2..], value);
    }

    public Span<byte> Uuid => _b.Slice(RootItemLayout.Uuid, 16);

    public Span<byte> ParentUuid => _b.Slice(RootItemLayout.ParentUuid, 16);

    public Span<byte> ReceivedUuid => _b.Slice(RootItemLayout.ReceivedUuid, 16);

    public ulong Ctransid
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootItemLayout.Ctransid..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[RootItemLayout.Ctransid..], value);
    }

    public ulong Otransid
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootItemLayout.Otransid..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[RootItemLayout.Otransid..], value);
    }

    public ulong Stransid
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootItemLayout.Stransid..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[RootItemLayout.Stransid..], value);
    }

    public ulong Rtransid
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootItemLayout.Rtransid..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[RootItemLayout.Rtransid..], value);
    }

    public BtrfsTimespec Ctime
    {
        get => TimespecLayout.Read(_b[RootItemLayout.Ctime..]);
        set => TimespecLayout.Write(_b[RootItemLayout.Ctime..], value);
    }

    public BtrfsTimespec Otime
    {
        get => TimespecLayout.Read(_b[RootItemLayout.Otime..]);
        set => TimespecLayout.Write(_b[RootItemLayout.Otime..], value);
    }

    public BtrfsTimespec Stime
    {
        get => TimespecLayout.Read(_b[RootItemLayout.Stime..]);
        set => TimespecLayout.Write(_b[RootItemLayout.Stime..], value);
    }

    public BtrfsTimespec Rtime
    {
        get => TimespecLayout.Read(_b[RootItemLayout.Rtime..]);
        set => TimespecLayout.Write(_b[RootItemLayout.Rtime..], value);
    }
}
