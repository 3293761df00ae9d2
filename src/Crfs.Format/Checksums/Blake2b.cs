// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Crfs.Format.Checksums;

/// <summary>
/// Unkeyed BLAKE2b (RFC 7693), for volumes made with <c>mkfs.btrfs --csum blake2</c>, which store
/// the 32-byte digest. Neither the BCL nor an approved package provides it, so it lives here.
/// </summary>
/// <remarks>
/// One-shot and allocation-free: the state, the working vector and the message words live on
/// the stack. The input is consumed in 128-byte blocks; the last block (possibly partial, or
/// the single all-zero block of an empty input) is zero-padded and compressed with the
/// finalisation flag, the byte counter carrying the true input length. The counter is 128 bits
/// in the RFC; its high word stays zero for anything a span can hold, so only the low word is
/// kept.
/// </remarks>
public static class Blake2b
{
    public const int MaxHashSize = 64;
    private const int BlockSize = 128;
    private const int Rounds = 12;

    private static ReadOnlySpan<ulong> Iv =>
    [
        0x6A09E667F3BCC908, 0xBB67AE8584CAA73B, 0x3C6EF372FE94F82B, 0xA54FF53A5F1D36F1,
        0x510E527FADE682D1, 0x9B05688C2B3E6C1F, 0x1F83D9ABFB41BD6B, 0x5BE0CD19137E2179,
    ];

    // Message word schedule; rounds 10 and 11 reuse rows 0 and 1.
    private static ReadOnlySpan<byte> Sigma =>
    [
        0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
        14, 10, 4, 8, 9, 15, 13, 6, 1, 12, 0, 2, 11, 7, 5, 3,
        11, 8, 12, 0, 5, 2, 15, 13, 10, 14, 3, 6, 7, 1, 9, 4,
        7, 9, 3, 1, 13, 12, 11, 14, 2, 6, 5, 10, 4, 0, 15, 8,
        9, 0, 5, 7, 2, 4, 10, 15, 14, 1, 11, 12, 6, 8, 3, 13,
        2, 12, 6, 10, 0, 11, 8, 3, 4, 13, 7, 5, 15, 14, 1, 9,
        12, 5, 1, 15, 14, 13, 4, 10, 0, 7, 6, 3, 9, 2, 8, 11,
        13, 11, 7, 14, 12, 1, 3, 9, 5, 0, 15, 4, 8, 6, 2, 10,
        6, 15, 14, 9, 11, 3, 0, 8, 12, 2, 13, 7, 1, 4, 10, 5,
        10, 2, 8, 4, 7, 6, 1, 5, 15, 11, 9, 14, 3, 12, 13, 0,
    ];

    /// <summary>
    /// Writes the BLAKE2b digest of <paramref name="data"/> whose length is
    /// <c>destination.Length</c> (1..64 bytes; btrfs uses 32). The digest length is a parameter of
    /// the hash, so a 32-byte digest is not a prefix of the 64-byte one.
    /// </summary>
    public static void Hash(ReadOnlySpan<byte> data, Span<byte> destination)
    {
        int outLength = destination.Length;
        if (outLength is < 1 or > MaxHashSize)
        {
            throw new ArgumentOutOfRangeException(nameof(destination), outLength, "BLAKE2b digest length must be 1..64 bytes");
        }

        Span<ulong> h = stackalloc ulong[8];
        Iv.CopyTo(h);
        h[0] ^= 0x01010000UL ^ (uint)outLength; // parameter block: fanout 1, depth 1, no key

        ulong counter = 0;
        while (data.Length > BlockSize)
        {
            counter += BlockSize;
            Compress(h, data[..BlockSize], counter, last: false);
            data = data[BlockSize..];
        }

        Span<byte> tail = stackalloc byte[BlockSize];
        tail.Clear();
        data.CopyTo(tail);
        counter += (ulong)data.Length;
        Compress(h, tail, counter, last: true);

        Span<byte> full = stackalloc byte[MaxHashSize];
        for (int i = 0; i < 8; i++)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(full[(i * 8)..], h[i]);
        }

        full[..outLength].CopyTo(destination);
    }

    private static void Compress(Span<ulong> h, ReadOnlySpan<byte> block, ulong counter, bool last)
    {
        Span<ulong> m = stackalloc ulong[16];
        for (int i = 0; i < 16; i++)
        {
            m[i] = BinaryPrimitives.ReadUInt64LittleEndian(block[(i * 8)..]);
        }

        // The working vector lives in locals so the JIT keeps it in registers; Mix is inlined.
        ReadOnlySpan<ulong> iv = Iv;
        ulong v0 = h[0], v1 = h[1], v2 = h[2], v3 = h[3], v4 = h[4], v5 = h[5], v6 = h[6], v7 = h[7];
        ulong v8 = iv[0], v9 = iv[1], v10 = iv[2], v11 = iv[3];
        ulong v12 = iv[4] ^ counter;
        ulong v13 = iv[5]; // ^ the counter's high word, always zero for inputs below 2^64 bytes
        ulong v14 = last ? ~iv[6] : iv[6];
        ulong v15 = iv[7];

        ReadOnlySpan<byte> sigma = Sigma;
        for (int r = 0; r < Rounds; r++)
        {
            ReadOnlySpan<byte> s = sigma.Slice(r % 10 * 16, 16);
            Mix(ref v0, ref v4, ref v8, ref v12, m[s[0]], m[s[1]]);
            Mix(ref v1, ref v5, ref v9, ref v13, m[s[2]], m[s[3]]);
            Mix(ref v2, ref v6, ref v10, ref v14, m[s[4]], m[s[5]]);
            Mix(ref v3, ref v7, ref v11, ref v15, m[s[6]], m[s[7]]);
            Mix(ref v0, ref v5, ref v10, ref v15, m[s[8]], m[s[9]]);
            Mix(ref v1, ref v6, ref v11, ref v12, m[s[10]], m[s[11]]);
            Mix(ref v2, ref v7, ref v8, ref v13, m[s[12]], m[s[13]]);
            Mix(ref v3, ref v4, ref v9, ref v14, m[s[14]], m[s[15]]);
        }

        h[0] ^= v0 ^ v8;
        h[1] ^= v1 ^ v9;
        h[2] ^= v2 ^ v10;
        h[3] ^= v3 ^ v11;
        h[4] ^= v4 ^ v12;
        h[5] ^= v5 ^ v13;
        h[6] ^= v6 ^ v14;
        h[7] ^= v7 ^ v15;
    }

    // The RFC's G function: mixes two message words into one column or diagonal of the state.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Mix(ref ulong a, ref ulong b, ref ulong c, ref ulong d, ulong x, ulong y)
    {
        a = a + b + x;
        d = BitOperations.RotateRight(d ^ a, 32);
        c += d;
        b = BitOperations.RotateRight(b ^ c, 24);
        a = a + b + y;
        d = BitOperations.RotateRight(d ^ a, 16);
        c += d;
        b = BitOperations.RotateRight(b ^ c, 63);
    }
}
