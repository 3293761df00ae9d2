// SPDX-License-Identifier: MIT
namespace Crfs.Format.Btrfs;

/// <summary>The superblock's <c>csum_type</c>. On disk; frozen by the format stability tests.</summary>
public enum ChecksumType : ushort
{
    Crc32c = 0,
    XxHash64 = 1,
    Sha256 = 2,
    Blake2b = 3,
}

/// <summary>The <c>compression</c> byte of a file extent item. On disk; frozen.</summary>
public enum CompressionType : byte
{
    None = 0,
    Zlib = 1,
    Lzo = 2,
    Zstd = 3,
}
