// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace Crfs.Format.Btrfs;

/// <summary>
/// <c>btrfs_super_block</c>, 4096 bytes, stored at each <see cref="SuperblockLayout.MirrorOffset"/>
/// that fits on the device. Each copy records its own offset in <c>bytenr</c> and so has its own
/// checksum. Bytes this code does not interpret (reserved, padding) must be carried forward unchanged
/// by a writer.
/// <code>
///   off  size  field
/// 0x000    32  csum u8[32]                checksum of bytes 0x20..0x1000
/// 0x020    16  fsid uuid
/// 0x030     8  bytenr u64                 physical offset of this copy
/// 0x038     8  flags u64
/// 0x040     8  magic u64                  "_BHRfS_M"
/// 0x048     8  generation u64
/// 0x050     8  root u64                   root tree root (logical)
/// 0x058     8  chunk_root u64
/// 0x060     8  log_root u64               0 unless an fsync log awaits replay
/// 0x068     8  log_root_transid u64       deprecated, 0
/// 0x070     8  total_bytes u64
/// 0x078     8  bytes_used u64
/// 0x080     8  root_dir_objectid u64      6
/// 0x088     8  num_devices u64
/// 0x090     4  sector_size u32
/// 0x094     4  node_size u32
/// 0x098     4  leaf_size u32              deprecated, = nodesize
/// 0x09C     4  stripe_size u32
/// 0x0A0     4  sys_chunk_array_size u32
/// 0x0A4     8  chunk_root_generation u64
/// 0x0AC     8  compat_flags u64
/// 0x0B4     8  compat_ro_flags u64
/// 0x0BC     8  incompat_flags u64
/// 0x0C4     2  csum_type u16
/// 0x0C6     1  root_level u8
/// 0x0C7     1  chunk_root_level u8
/// 0x0C8     1  log_root_level u8
/// 0x0C9    98  dev_item DevItem           this device
/// 0x12B   256  label u8[256]              NUL-padded
/// 0x22B     8  cache_generation u64       v1 space cache
/// 0x233     8  uuid_tree_generation u64
/// 0x23B    16  metadata_uuid uuid
/// 0x24B     8  nr_global_roots u64        extent-tree-v2
/// 0x253     8  remap_root u64             remap-tree (2026)
/// 0x25B     8  remap_root_generation u64
/// 0x263     1  remap_root_level u8
/// 0x264   199  reserved u8[199]
/// 0x32B  2048  sys_chunk_array u8[2048]   (key, chunk) pairs
/// 0xB2B   672  super_roots u8[672]        4 x RootBackup
/// 0xDCB   565  padding u8[565]
/// 0x1000        (end)
/// </code>
/// </summary>
public static class SuperblockLayout
{
    public const int Csum = 0;
    public const int Fsid = 32;
    public const int Bytenr = 48;
    public const int Flags = 56;
    public const int Magic = 64;
    public const int Generation = 72;
    public const int Root = 80;
    public const int ChunkRoot = 88;
    public const int LogRoot = 96;
    public const int LogRootTransid = 104;
    public const int TotalBytes = 112;
    public const int BytesUsed = 120;
    public const int RootDirObjectId = 128;
    public const int NumDevices = 136;
    public const int SectorSize = 144;
    public const int NodeSize = 148;
    public const int LeafSize = 152;
    public const int StripeSize = 156;
    public const int SysChunkArraySize = 160;
    public const int ChunkRootGeneration = 164;
    public const int CompatFlags = 172;
    public const int CompatRoFlags = 180;
    public const int IncompatFlags = 188;
    public const int CsumType = 196;
    public const int RootLevel = 198;
    public const int ChunkRootLevel = 199;
    public const int LogRootLevel = 200;
    public const int DevItem = 201;
    public const int Label = 299;
    public const int CacheGeneration = 555;
    public const int UuidTreeGeneration = 563;
    public const int MetadataUuid = 571;
    public const int NrGlobalRoots = 587;
    public const int RemapRoot = 595;
    public const int RemapRootGeneration = 603;
    public const int RemapRootLevel = 611;
    public const int Reserved = 612;
    public const int SysChunkArray = 811;
    public const int SuperRoots = 2859;
    public const int Padding = 3531;
    public const int Size = 4096;

    /// <summary>The magic number "_BHRfS_M" as a little-endian u64.</summary>
    public const ulong MagicValue = 0x4D5F53665248425F;

    /// <summary>The checksum covers the superblock from here to its end.</summary>
    public const int ChecksumStart = 0x20;

    public const int LabelSize = 256;
    public const int SysChunkArrayCapacity = 2048;
    public const int BackupRootCount = 4;

    /// <summary>Superblock copies btrfs knows (<c>BTRFS_SUPER_MIRROR_MAX</c>).</summary>
    public const int MirrorCount = 3;

    /// <summary>
    /// The physical offset of copy <paramref name="mirror"/>: 64 KiB for the primary, then
    /// <c>16 KiB &lt;&lt; (12 * mirror)</c> (64 MiB, 256 GiB). A copy exists only where it fits.
    /// </summary>
    public static ulong MirrorOffset(int mirror) => mirror == 0 ? 0x10000UL : 0x4000UL << (12 * mirror);
}

/// <summary>A read view of a superblock copy (<see cref="SuperblockLayout"/>).</summary>
public readonly ref struct SuperblockView
{
    private readonly ReadOnlySpan<byte> _b;

    public SuperblockView(ReadOnlySpan<byte> bytes)
    {
        _b = bytes[..SuperblockLayout.Size];
    }

    public ReadOnlySpan<byte> Csum => _b.Slice(SuperblockLayout.Csum, 32);

    public ReadOnlySpan<byte> Fsid => _b.Slice(SuperblockLayout.Fsid, 16);

    public ulong Bytenr => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.Bytenr..]);

    public SuperblockFlags Flags => (SuperblockFlags)BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.Flags..]);

    public ulong Magic => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.Magic..]);

    public ulong Generation => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.Generation..]);

    public ulong Root => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.Root..]);

    public ulong ChunkRoot => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.ChunkRoot..]);

    public ulong LogRoot => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.LogRoot..]);

    public ulong LogRootTransid => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.LogRootTransid..]);

    public ulong TotalBytes => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.TotalBytes..]);

    public ulong BytesUsed => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.BytesUsed..]);

    public ulong RootDirObjectId => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.RootDirObjectId..]);

    public ulong NumDevices => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.NumDevices..]);

    public uint SectorSize => BinaryPrimitives.ReadUInt32LittleEndian(_b[SuperblockLayout.SectorSize..]);

    public uint NodeSize => BinaryPrimitives.ReadUInt32LittleEndian(_b[SuperblockLayout.NodeSize..]);

    public uint LeafSize => BinaryPrimitives.ReadUInt32LittleEndian(_b[SuperblockLayout.LeafSize..]);

    public uint StripeSize => BinaryPrimitives.ReadUInt32LittleEndian(_b[SuperblockLayout.StripeSize..]);

    public uint SysChunkArraySize => BinaryPrimitives.ReadUInt32LittleEndian(_b[SuperblockLayout.SysChunkArraySize..]);

    public ulong ChunkRootGeneration => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.ChunkRootGeneration..]);

    public ulong CompatFlags => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.CompatFlags..]);

    public CompatRoFeatures CompatRoFlags => (CompatRoFeatures)BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.CompatRoFlags..]);

    public IncompatFeatures IncompatFlags => (IncompatFeatures)BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.IncompatFlags..]);

    public ChecksumType CsumType => (ChecksumType)BinaryPrimitives.ReadUInt16LittleEndian(_b[SuperblockLayout.CsumType..]);

    public byte RootLevel => _b[SuperblockLayout.RootLevel];

    public byte ChunkRootLevel => _b[SuperblockLayout.ChunkRootLevel];

    public byte LogRootLevel => _b[SuperblockLayout.LogRootLevel];

    public DevItemView DevItem => new(_b.Slice(SuperblockLayout.DevItem, DevItemLayout.Size));

    public ReadOnlySpan<byte> Label => _b.Slice(SuperblockLayout.Label, 256);

    public ulong CacheGeneration => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.CacheGeneration..]);

    public ulong UuidTreeGeneration => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.UuidTreeGeneration..]);

    public ReadOnlySpan<byte> MetadataUuid => _b.Slice(SuperblockLayout.MetadataUuid, 16);

    public ulong NrGlobalRoots => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.NrGlobalRoots..]);

    public ulong RemapRoot => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.RemapRoot..]);

    public ulong RemapRootGeneration => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.RemapRootGeneration..]);

    public byte RemapRootLevel => _b[SuperblockLayout.RemapRootLevel];

    public ReadOnlySpan<byte> SysChunkArray => _b.Slice(SuperblockLayout.SysChunkArray, 2048);

    public ReadOnlySpan<byte> SuperRoots => _b.Slice(SuperblockLayout.SuperRoots, 672);

    /// <summary>The whole 4096-byte copy.</summary>
    public ReadOnlySpan<byte> Bytes => _b;

    /// <summary>The bytes the checksum covers.</summary>
    public ReadOnlySpan<byte> ChecksummedBytes => _b[SuperblockLayout.ChecksumStart..];

    /// <summary>The fsid that tree block headers and DEV_ITEMs carry (metadata_uuid when that feature is on).</summary>
    public ReadOnlySpan<byte> MetadataFsid =>
        (IncompatFlags & IncompatFeatures.MetadataUuid) != 0 ? MetadataUuid : Fsid;

    /// <summary>The label up to its first NUL.</summary>
    public ReadOnlySpan<byte> LabelText
    {
        get
        {
            ReadOnlySpan<byte> label = Label;
            int nul = label.IndexOf((byte)0);
            return nul < 0 ? label : label[..nul];
        }
    }

    /// <summary>The used part of the system chunk array (trusted once the superblock was validated).</summary>
    public ReadOnlySpan<byte> SysChunkArrayUsed =>
        SysChunkArray[..(int)Math.Min(SysChunkArraySize, (uint)SuperblockLayout.SysChunkArrayCapacity)];

    public RootBackupView Backup(int slot) =>
        new(SuperRoots.Slice(slot * RootBackupLayout.Size, RootBackupLayout.Size));
}

/// <summary>A write view of a superblock copy (<see cref="SuperblockLayout"/>).</summary>
public readonly ref struct SuperblockWriter
{
    private readonly Span<byte> _b;

    public SuperblockWriter(Span<byte> bytes)
    {
        _b = bytes[..SuperblockLayout.Size];
    }

    public Span<byte> Csum => _b.Slice(SuperblockLayout.Csum, 32);

    public Span<byte> Fsid => _b.Slice(SuperblockLayout.Fsid, 16);

    public ulong Bytenr
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.Bytenr..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[SuperblockLayout.Bytenr..], value);
    }

    public SuperblockFlags Flags
    {
        get => (SuperblockFlags)BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.Flags..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[SuperblockLayout.Flags..], (ulong)value);
    }

    public ulong Magic
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.Magic..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[SuperblockLayout.Magic..], value);
    }

    public ulong Generation
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.Generation..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[SuperblockLayout.Generation..], value);
    }

    public ulong Root
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.Root..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[SuperblockLayout.Root..], value);
    }

    public ulong ChunkRoot
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.ChunkRoot..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[SuperblockLayout.ChunkRoot..], value);
    }

    public ulong LogRoot
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.LogRoot..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[SuperblockLayout.LogRoot..], value);
    }

    public ulong LogRootTransid
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.LogRootTransid..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[SuperblockLayout.LogRootTransid..], value);
    }

    public ulong TotalBytes
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.TotalBytes..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[SuperblockLayout.TotalBytes..], value);
    }

    public ulong BytesUsed
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.BytesUsed..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[SuperblockLayout.BytesUsed..], value);
    }

    public ulong RootDirObjectId
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.RootDirObjectId..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[SuperblockLayout.RootDirObjectId..], value);
    }

    public ulong NumDevices
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.NumDevices..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[SuperblockLayout.NumDevices..], value);
    }

    public uint SectorSize
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_b[SuperblockLayout.SectorSize..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_b[SuperblockLayout.SectorSize..], value);
    }

    public uint NodeSize
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_b[SuperblockLayout.NodeSize..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_b[SuperblockLayout.NodeSize..], value);
    }

    public uint LeafSize
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_b[SuperblockLayout.LeafSize..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_b[SuperblockLayout.LeafSize..], value);
    }

    public uint StripeSize
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_b[SuperblockLayout.StripeSize..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_b[SuperblockLayout.StripeSize..], value);
    }

    public uint SysChunkArraySize
    {
        get => BinaryPrimitives.ReadUInt32LittleEndian(_b[SuperblockLayout.SysChunkArraySize..]);
        set => BinaryPrimitives.WriteUInt32LittleEndian(_b[SuperblockLayout.SysChunkArraySize..], value);
    }

    public ulong ChunkRootGeneration
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.ChunkRootGeneration..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[SuperblockLayout.ChunkRootGeneration..], value);
    }

    public ulong CompatFlags
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.CompatFlags..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[SuperblockLayout.CompatFlags..], value);
    }

    public CompatRoFeatures CompatRoFlags
    {
        get => (CompatRoFeatures)BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.CompatRoFlags..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[SuperblockLayout.CompatRoFlags..], (ulong)value);
    }

    public IncompatFeatures IncompatFlags
    {
        get => (IncompatFeatures)BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.IncompatFlags..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[SuperblockLayout.IncompatFlags..], (ulong)value);
    }

    public ChecksumType CsumType
    {
        get => (ChecksumType)BinaryPrimitives.ReadUInt16LittleEndian(_b[SuperblockLayout.CsumType..]);
        set => BinaryPrimitives.WriteUInt16LittleEndian(_b[SuperblockLayout.CsumType..], (ushort)value);
    }

    public byte RootLevel
    {
        get => _b[SuperblockLayout.RootLevel];
        set => _b[SuperblockLayout.RootLevel] = value;
    }

    public byte ChunkRootLevel
    {
        get => _b[SuperblockLayout.ChunkRootLevel];
        set => _b[SuperblockLayout.ChunkRootLevel] = value;
    }

    public byte LogRootLevel
    {
        get => _b[SuperblockLayout.LogRootLevel];
        set => _b[SuperblockLayout.LogRootLevel] = value;
    }

    public DevItemWriter DevItem => new(_b.Slice(SuperblockLayout.DevItem, DevItemLayout.Size));

    public Span<byte> Label => _b.Slice(SuperblockLayout.Label, 256);

    public ulong CacheGeneration
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.CacheGeneration..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[SuperblockLayout.CacheGeneration..], value);
    }

    public ulong UuidTreeGeneration
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.UuidTreeGeneration..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[SuperblockLayout.UuidTreeGeneration..], value);
    }

    public Span<byte> MetadataUuid => _b.Slice(SuperblockLayout.MetadataUuid, 16);

    public ulong NrGlobalRoots
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.NrGlobalRoots..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[SuperblockLayout.NrGlobalRoots..], value);
    }

    public ulong RemapRoot
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.RemapRoot..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[SuperblockLayout.RemapRoot..], value);
    }

    public ulong RemapRootGeneration
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[SuperblockLayout.RemapRootGeneration..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[SuperblockLayout.RemapRootGeneration..], value);
    }

    public byte RemapRootLevel
    {
        get => _b[SuperblockLayout.RemapRootLevel];
        set => _b[SuperblockLayout.RemapRootLevel] = value;
    }

    public Span<byte> SysChunkArray => _b.Slice(SuperblockLayout.SysChunkArray, 2048);

    public Span<byte> SuperRoots => _b.Slice(SuperblockLayout.SuperRoots, 672);

    public Span<byte> Bytes => _b;

    public RootBackupWriter Backup(int slot) =>
        new(SuperRoots.Slice(slot * RootBackupLayout.Size, RootBackupLayout.Size));
}
