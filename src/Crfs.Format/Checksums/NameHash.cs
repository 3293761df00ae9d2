// SPDX-License-Identifier: MIT
namespace Crfs.Format.Checksums;

/// <summary>
/// The hashes btrfs puts in key offsets so that a name can be found by a point lookup: the
/// DIR_ITEM and XATTR_ITEM offset, and the INODE_EXTREF offset.
/// </summary>
/// <remarks>
/// Both are the raw CRC-32C register (<see cref="Crc32C.Update"/>: no final inversion) with a
/// fixed or key-derived seed, zero-extended to 64 bits; they are not checksums and must not be
/// computed with <see cref="Crc32C.Compute"/>. Distinct names may hash equally, so the items they
/// key can hold several entries and readers must compare the names themselves.
/// </remarks>
public static class NameHash
{
    private const uint DirItemSeed = ~1u;

    /// <summary>
    /// The key offset of a DIR_ITEM (and of an XATTR_ITEM, with the full xattr name):
    /// the kernel's <c>btrfs_name_hash</c>, <c>crc32c((u32)~1, name)</c>.
    /// </summary>
    public static ulong DirItem(ReadOnlySpan<byte> name) => Crc32C.Update(DirItemSeed, name);

    /// <summary>
    /// The key offset of an INODE_EXTREF: the kernel's <c>btrfs_extref_hash</c>, a CRC seeded with
    /// the low 32 bits of the parent directory's inode number (the kernel passes the u64 to a u32
    /// seed parameter, so the high bits are dropped).
    /// </summary>
    public static ulong InodeExtref(ulong parentIno, ReadOnlySpan<byte> name) => Crc32C.Update((uint)parentIno, name);
}
