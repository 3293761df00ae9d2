// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using ArmCrc32 = System.Runtime.Intrinsics.Arm.Crc32;
using X86Sse42 = System.Runtime.Intrinsics.X86.Sse42;

namespace Crfs.Format.Checksums;

/// <summary>
/// CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the function behind every btrfs
/// integrity check of the default checksum type and behind the key hashes of directory entries,
/// xattrs, extended inode refs and data back references.
/// </summary>
/// <remarks>
/// btrfs uses the CRC in two shapes, and confusing them is the classic bug. Checksums (csum_type
/// 0) are the standard CRC-32C: register seeded with all ones, result inverted
/// (<see cref="Compute"/>; "123456789" gives 0xE3069283). Key hashes use the kernel's
/// <c>crc32c(seed, data, len)</c>, which is the bare register update with a caller-chosen seed
/// and no final inversion (<see cref="Update"/>). Both are one primitive here.
/// <para>
/// The hot path is the checksum of every 4 KiB data sector and every 16 KiB tree block read or
/// written, so the update runs on the CPU's CRC32 instruction (SSE4.2 on x64, the CRC extension on
/// Arm64) eight bytes at a time. Machines without it use slicing-by-8 tables, which are also
/// exposed as <see cref="UpdatePortable"/> so tests can hold the two paths against each other
/// on the same machine.
/// </para>
/// </remarks>
public static class Crc32C
{
    private const uint Polynomial = 0x82F63B78;

    // s_table[k * 256 + b]: the register contribution of byte b followed by k zero bytes
    // (slicing-by-8). Row 0 is the classic byte-at-a-time table.
    private static readonly uint[] s_table = BuildTable();

    /// <summary>True when <see cref="Update"/> runs on a CRC32 instruction.</summary>
    public static bool IsHardwareAccelerated => X86Sse42.X64.IsSupported || ArmCrc32.Arm64.IsSupported;

    /// <summary>
    /// Feeds <paramref name="data"/> through the CRC register starting from <paramref name="crc"/>
    /// and returns the new register, with no inversion on either side: the kernel's
    /// <c>crc32c(seed, data, len)</c>. Chaining calls equals one call over the concatenation.
    /// </summary>
    public static uint Update(uint crc, ReadOnlySpan<byte> data)
    {
        if (X86Sse42.X64.IsSupported)
        {
            return UpdateX64(crc, data);
        }

        if (ArmCrc32.Arm64.IsSupported)
        {
            return UpdateArm64(crc, data);
        }

        return UpdatePortable(crc, data);
    }

    /// <summary>The standard CRC-32C of <paramref name="data"/>: <c>~Update(~0u, data)</c>.</summary>
    public static uint Compute(ReadOnlySpan<byte> data) => ~Update(~0u, data);

    /// <summary>
    /// The same function as <see cref="Update"/> computed from tables, whatever the CPU offers.
    /// Slower; public so the hardware and table paths can be compared in tests.
    /// </summary>
    public static uint UpdatePortable(uint crc, ReadOnlySpan<byte> data)
    {
        uint[] t = s_table;
        while (data.Length >= 8)
        {
            uint lo = BinaryPrimitives.ReadUInt32LittleEndian(data) ^ crc;
            uint hi = BinaryPrimitives.ReadUInt32LittleEndian(data[4..]);
            crc = t[(7 * 256) + (lo & 0xFF)]
                ^ t[(6 * 256) + ((lo >> 8) & 0xFF)]
                ^ t[(5 * 256) + ((lo >> 16) & 0xFF)]
                ^ t[(4 * 256) + (lo >> 24)]
                ^ t[(3 * 256) + (hi & 0xFF)]
                ^ t[(2 * 256) + ((hi >> 8) & 0xFF)]
                ^ t[(1 * 256) + ((hi >> 16) & 0xFF)]
                ^ t[hi >> 24];
            data = data[8..];
        }

        foreach (byte b in data)
        {
            crc = t[(crc ^ b) & 0xFF] ^ (crc >> 8);
        }

        return crc;
    }

    // The instruction paths read words in native order; both x64 and Arm64 run little-endian,
    // which is the order the reflected CRC consumes bytes in.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static uint UpdateX64(uint crc, ReadOnlySpan<byte> data)
    {
        ref byte p = ref MemoryMarshal.GetReference(data);
        nuint length = (uint)data.Length;
        nuint i = 0;
        ulong c = crc;
        for (; length - i >= 8; i += 8)
        {
            c = X86Sse42.X64.Crc32(c, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i)));
        }

        crc = (uint)c;
        if (length - i >= 4)
        {
            crc = X86Sse42.Crc32(crc, Unsafe.ReadUnaligned<uint>(ref Unsafe.Add(ref p, i)));
            i += 4;
        }

        for (; i < length; i++)
        {
            crc = X86Sse42.Crc32(crc, Unsafe.Add(ref p, i));
        }

        return crc;
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static uint UpdateArm64(uint crc, ReadOnlySpan<byte> data)
    {
        ref byte p = ref MemoryMarshal.GetReference(data);
        nuint length = (uint)data.Length;
        nuint i = 0;
        for (; length - i >= 8; i += 8)
        {
            crc = ArmCrc32.Arm64.ComputeCrc32C(crc, Unsafe.ReadUnaligned<ulong>(ref Unsafe.Add(ref p, i)));
        }

        for (; i < length; i++)
        {
            crc = ArmCrc32.ComputeCrc32C(crc, Unsafe.Add(ref p, i));
        }

        return crc;
    }

    private static uint[] BuildTable()
    {
        var t = new uint[8 * 256];
        for (uint b = 0; b < 256; b++)
        {
            uint c = b;
            for (int k = 0; k < 8; k++)
            {
                c = (c & 1) != 0 ? (c >> 1) ^ Polynomial : c >> 1;
            }

            t[b] = c;
        }

        for (int b = 0; b < 256; b++)
        {
            for (int k = 1; k < 8; k++)
            {
                uint prev = t[((k - 1) * 256) + b];
                t[(k * 256) + b] = t[prev & 0xFF] ^ (prev >> 8);
            }
        }

        return t;
    }
}
