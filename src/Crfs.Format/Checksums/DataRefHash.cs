// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace Crfs.Format.Checksums;

/// <summary>
/// The hash that orders data back references: the key offset of a keyed EXTENT_DATA_REF item in
/// the extent tree, and the sort key of inline EXTENT_DATA_REF entries inside an extent item
/// (the kernel's <c>hash_extent_data_ref</c>).
/// </summary>
/// <remarks>
/// Two raw CRC-32C registers (<see cref="Crc32C.Update"/>), each seeded with all ones: one over
/// the little-endian root id, one chained over the little-endian inode number and file offset.
/// They combine as <c>(high &lt;&lt; 31) ^ low</c>; the shift is 31, not 32, so bit 31 of the
/// result mixes both halves.
/// </remarks>
public static class DataRefHash
{
    public static ulong Compute(ulong root, ulong objectId, ulong offset)
    {
        Span<byte> le = stackalloc byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(le, root);
        uint high = Crc32C.Update(~0u, le);
        BinaryPrimitives.WriteUInt64LittleEndian(le, objectId);
        uint low = Crc32C.Update(~0u, le);
        BinaryPrimitives.WriteUInt64LittleEndian(le, offset);
        low = Crc32C.Update(low, le);
        return ((ulong)high << 31) ^ low;
    }
}
