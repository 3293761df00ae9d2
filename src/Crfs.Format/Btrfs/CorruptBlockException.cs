// SPDX-License-Identifier: MIT
namespace Crfs.Format.Btrfs;

/// <summary>
/// A tree block failed validation. The message is one greppable line naming the logical address,
/// the mirror the bytes came from, and exactly what was wrong, e.g.
/// <c>corrupt tree block 30441472 (mirror 1): checksum mismatch: stored 0x... computed 0x...</c>.
/// When every copy was bad, <see cref="Mirror"/> is 0 and the fault lists each copy's fault.
/// </summary>
/// <remarks>
/// It is an <see cref="IOException"/> (the kernel answers a corrupt block with EIO) because
/// <see cref="InvalidDataException"/>, the more natural base, is sealed.
/// </remarks>
public sealed class CorruptBlockException : IOException
{
    public CorruptBlockException(ulong logical, int mirror, string fault)
        : base(mirror > 0 ? $"corrupt tree block {logical} (mirror {mirror}): {fault}" : $"corrupt tree block {logical}: {fault}")
    {
        Logical = logical;
        Mirror = mirror;
        Fault = fault;
    }

    /// <summary>The block's logical address (bytenr).</summary>
    public ulong Logical { get; }

    /// <summary>The 1-based copy the bytes came from; 0 when the fault covers all copies.</summary>
    public int Mirror { get; }

    public string Fault { get; }
}
