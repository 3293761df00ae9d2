// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;

namespace Crfs.Volume.Mkfs;

/// <summary>What <see cref="VolumeFormatter"/> makes: mkfs.btrfs 6.2's defaults unless set.</summary>
public sealed record MkfsOptions
{
    public ChecksumType ChecksumType { get; init; } = ChecksumType.Crc32c;

    /// <summary>Up to 255 bytes.</summary>
    public byte[] Label { get; init; } = [];

    public int NodeSize { get; init; } = 16384;

    public int SectorSize { get; init; } = 4096;

    /// <summary>The filesystem UUID; random when null.</summary>
    public Guid? Fsid { get; init; }

    /// <summary>Timestamps of the root directories; now when null.</summary>
    public BtrfsTimespec? Time { get; init; }
}
