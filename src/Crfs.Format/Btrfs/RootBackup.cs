// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace Crfs.Format.Btrfs;

/// <summary>
/// <c>btrfs_root_backup</c>: one of the four backup-root slots at the end of the superblock.
/// Best effort only (the blocks may have been reused); meant for <c>-o usebackuproot</c> recovery.
/// <code>
///   off  size  field
/// 0x000     8  tree_root u64
/// 0x008     8  tree_root_gen u64
/// 0x010     8  chunk_root u64
/// 0x018     8  chunk_root_gen u64
/// 0x020     8  extent_root u64
/// 0x028     8  extent_root_gen u64
/// 0x030     8  fs_root u64
/// 0x038     8  fs_root_gen u64
/// 0x040     8  dev_root u64
/// 0x048     8  dev_root_gen u64
/// 0x050     8  csum_root u64
/// 0x058     8  csum_root_gen u64
/// 0x060     8  total_bytes u64
/// 0x068     8  bytes_used u64
/// 0x070     8  num_devices u64
/// 0x078    32  unused u8[32]
/// 0x098     1  tree_root_level u8
/// 0x099     1  chunk_root_level u8
/// 0x09A     1  extent_root_level u8
/// 0x09B     1  fs_root_level u8
/// 0x09C     1  dev_root_level u8
/// 0x09D     1  csum_root_level u8
/// 0x09E    10  unused_tail u8[10]
/// 0x0A8        (end)
/// </code>
/// </summary>
public static class RootBackupLayout
{
    public const int TreeRoot = 0;
    public const int TreeRootGen = 8;
    public const int ChunkRoot = 16;
    public const int ChunkRootGen = 24;
    public const int ExtentRoot = 32;
    public const int ExtentRootGen = 40;
    public const int FsRoot = 48;
    public const int FsRootGen = 56;
    public const int DevRoot = 64;
    public const int DevRootGen = 72;
    public const int CsumRoot = 80;
    public const int CsumRootGen = 88;
    public const int TotalBytes = 96;
    public const int BytesUsed = 104;
    public const int NumDevices = 112;
    public const int Unused = 120;
    public const int TreeRootLevel = 152;
    public const int ChunkRootLevel = 153;
    public const int ExtentRootLevel = 154;
    public const int FsRootLevel = 155;
    public const int DevRootLevel = 156;
    public const int CsumRootLevel = 157;
    public const int UnusedTail = 158;
    public const int Size = 168;
}

/// <summary>A read view of a superblock backup-root slot (<see cref="RootBackupLayout"/>).</summary>
public readonly ref struct RootBackupView
{
    private readonly ReadOnlySpan<byte> _b;

    public RootBackupView(ReadOnlySpan<byte> bytes)
    {
        _b = bytes[..RootBackupLayout.Size];
    }

    public ulong TreeRoot => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootBackupLayout.TreeRoot..]);

    public ulong TreeRootGen => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootBackupLayout.TreeRootGen..]);

    public ulong ChunkRoot => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootBackupLayout.ChunkRoot..]);

    public ulong ChunkRootGen => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootBackupLayout.ChunkRootGen..]);

    public ulong ExtentRoot => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootBackupLayout.ExtentRoot..]);

    public ulong ExtentRootGen => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootBackupLayout.ExtentRootGen..]);

    public ulong FsRoot => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootBackupLayout.FsRoot..]);

    public ulong FsRootGen => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootBackupLayout.FsRootGen..]);

    public ulong DevRoot => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootBackupLayout.DevRoot..]);

    public ulong DevRootGen => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootBackupLayout.DevRootGen..]);

    public ulong CsumRoot => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootBackupLayout.CsumRoot..]);

    public ulong CsumRootGen => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootBackupLayout.CsumRootGen..]);

    public ulong TotalBytes => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootBackupLayout.TotalBytes..]);

    public ulong BytesUsed => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootBackupLayout.BytesUsed..]);

    public ulong NumDevices => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootBackupLayout.NumDevices..]);

    public byte TreeRootLevel => _b[RootBackupLayout.TreeRootLevel];

    public byte ChunkRootLevel => _b[RootBackupLayout.ChunkRootLevel];

    public byte ExtentRootLevel => _b[RootBackupLayout.ExtentRootLevel];

    public byte FsRootLevel => _b[RootBackupLayout.FsRootLevel];

    public byte DevRootLevel => _b[RootBackupLayout.DevRootLevel];

    public byte CsumRootLevel => _b[RootBackupLayout.CsumRootLevel];
}

/// <summary>A write view of a superblock backup-root slot (<see cref="RootBackupLayout"/>).</summary>
public readonly ref struct RootBackupWriter
{
    private readonly Span<byte> _b;

    public RootBackupWriter(Span<byte> bytes)
    {
        _b = bytes[..RootBackupLayout.Size];
    }

    public ulong TreeRoot
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootBackupLayout.TreeRoot..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[RootBackupLayout.TreeRoot..], value);
    }

    public ulong TreeRootGen
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootBackupLayout.TreeRootGen..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[RootBackupLayout.TreeRootGen..], value);
    }

    public ulong ChunkRoot
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootBackupLayout.ChunkRoot..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[RootBackupLayout.ChunkRoot..], value);
    }

    public ulong ChunkRootGen
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootBackupLayout.ChunkRootGen..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[RootBackupLayout.ChunkRootGen..], value);
    }

    public ulong ExtentRoot
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootBackupLayout.ExtentRoot..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[RootBackupLayout.ExtentRoot..], value);
    }

    public ulong ExtentRootGen
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootBackupLayout.ExtentRootGen..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[RootBackupLayout.ExtentRootGen..], value);
    }

    public ulong FsRoot
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootBackupLayout.FsRoot..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[RootBackupLayout.FsRoot..], value);
    }

    public ulong FsRootGen
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootBackupLayout.FsRootGen..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[RootBackupLayout.FsRootGen..], value);
    }

    public ulong DevRoot
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootBackupLayout.DevRoot..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[RootBackupLayout.DevRoot..], value);
    }

    public ulong DevRootGen
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootBackupLayout.DevRootGen..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[RootBackupLayout.DevRootGen..], value);
    }

    public ulong CsumRoot
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootBackupLayout.CsumRoot..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[RootBackupLayout.CsumRoot..], value);
    }

    public ulong CsumRootGen
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootBackupLayout.CsumRootGen..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[RootBackupLayout.CsumRootGen..], value);
    }

    public ulong TotalBytes
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootBackupLayout.TotalBytes..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[RootBackupLayout.TotalBytes..], value);
    }

    public ulong BytesUsed
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootBackupLayout.BytesUsed..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[RootBackupLayout.BytesUsed..], value);
    }

    public ulong NumDevices
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootBackupLayout.NumDevices..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[RootBackupLayout.NumDevices..], value);
    }

    public byte TreeRootLevel
    {
        get => _b[RootBackupLayout.TreeRootLevel];
        set => _b[RootBackupLayout.TreeRootLevel] = value;
    }

    public byte ChunkRootLevel
    {
        get => _b[RootBackupLayout.ChunkRootLevel];
        set => _b[RootBackupLayout.ChunkRootLevel] = value;
    }

    public byte ExtentRootLevel
    {
        get => _b[RootBackupLayout.ExtentRootLevel];
        set => _b[RootBackupLayout.ExtentRootLevel] = value;
    }

    public byte FsRootLevel
    {
        get => _b[RootBackupLayout.FsRootLevel];
        set => _b[RootBackupLayout.FsRootLevel] = value;
    }

    public byte DevRootLevel
    {
        get => _b[RootBackupLayout.DevRootLevel];
        set => _b[RootBackupLayout.DevRootLevel] = value;
    }

    public byte CsumRootLevel
    {
        get => _b[RootBackupLayout.CsumRootLevel];
        set => _b[RootBackupLayout.CsumRootLevel] = value;
    }
}
