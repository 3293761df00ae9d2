// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace Crfs.Testing;

/// <summary>
/// SplitMix64: a tiny generator whose output depends only on the seed, on every runtime and
/// version (System.Random promises no such thing), so a seed names one exact source tree.
/// </summary>
public sealed class SeededRandom
{
    private static readonly string[] s_words =
    [
        "btrfs", "extent", "inode", "leaf", "node", "subvolume", "checksum", "chunk", "stripe", "generation",
        "the", "of", "and", "a", "to", "in", "is", "that", "it", "for", "on", "with", "as", "data", "tree",
        "copy", "write", "read", "lock", "cache", "server", "client", "kernel", "fuse", "item", "key",
    ];

    private ulong _state;

    public SeededRandom(ulong seed)
    {
        _state = seed;
    }

    /// <summary>A generator for one named purpose, independent of how much other purposes consumed.</summary>
    public static SeededRandom For(int seed, string purpose)
    {
        ulong h = 14695981039346656037UL;
        foreach (char c in purpose)
        {
            h = (h ^ c) * 1099511628211UL;
        }

        return new SeededRandom(h ^ (ulong)seed);
    }

    public ulong NextUInt64()
    {
        ulong z = _state += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>A value in <c>[0, bound)</c>.</summary>
    public int Next(int bound) => (int)(NextUInt64() % (ulong)bound);

    public int Next(int min, int maxExclusive) => min + Next(maxExclusive - min);

    /// <summary>Incompressible bytes.</summary>
    public void Fill(Span<byte> buffer)
    {
        while (buffer.Length >= 8)
        {
            BinaryPrimitives.WriteUInt64LittleEndian(buffer, NextUInt64());
            buffer = buffer[8..];
        }

        if (!buffer.IsEmpty)
        {
            Span<byte> last = stackalloc byte[8];
            BinaryPrimitives.WriteUInt64LittleEndian(last, NextUInt64());
            last[..buffer.Length].CopyTo(buffer);
        }
    }

    public byte[] Bytes(int length)
    {
        byte[] b = new byte[length];
        Fill(b);
        return b;
    }

    /// <summary>Compressible ASCII text: words and line breaks.</summary>
    public void FillText(Span<byte> buffer)
    {
        int i = 0;
        while (i < buffer.Length)
        {
            string word = s_words[Next(s_words.Length)];
            for (int j = 0; j < word.Length && i < buffer.Length; j++)
            {
                buffer[i++] = (byte)word[j];
            }

            if (i < buffer.Length)
            {
                buffer[i++] = Next(12) == 0 ? (byte)'\n' : (byte)' ';
            }
        }
    }

    public byte[] Text(int length)
    {
        byte[] b = new byte[length];
        FillText(b);
        return b;
    }

    /// <summary>Lower-case letters and digits.</summary>
    public string Identifier(int length)
    {
        const string Alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
        char[] c = new char[length];
        for (int i = 0; i < length; i++)
        {
            c[i] = Alphabet[Next(Alphabet.Length)];
        }

        return new string(c);
    }
}
