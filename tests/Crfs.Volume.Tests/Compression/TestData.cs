// SPDX-License-Identifier: MIT
using System.Text;

namespace Crfs.Volume.Tests.Compression;

/// <summary>Deterministic inputs with different compressibility, shared by the codec tests.</summary>
internal static class TestData
{
    private static readonly string[] s_words =
    [
        "btrfs", "extent", "inode", "compression", "sector", "checksum", "tree", "leaf", "node", "chunk",
        "the", "a", "of", "and", "to", "in", "is", "that", "for", "it", "lock", "revoke", "client", "server",
    ];

    /// <summary>Random words: compresses to roughly a third with every codec.</summary>
    public static byte[] Words(int length, int seed)
    {
        var random = new Random(seed);
        var text = new StringBuilder(length + 16);
        while (text.Length < length)
        {
            text.Append(s_words[random.Next(s_words.Length)]).Append(random.Next(8) == 0 ? '\n' : ' ');
        }

        return Encoding.ASCII.GetBytes(text.ToString(0, length));
    }

    public static byte[] Random(int length, int seed)
    {
        var data = new byte[length];
        new Random(seed).NextBytes(data);
        return data;
    }

    /// <summary>A slowly changing periodic pattern: long matches at every distance class.</summary>
    public static byte[] Pattern(int length) => Enumerable.Range(0, length).Select(i => (byte)(((i * 7) + (i >> 9)) % 256)).ToArray();

    public static IEnumerable<(string Name, byte[] Data)> Corpus(int length)
    {
        yield return ("zeros", new byte[length]);
        yield return ("words", Words(length, seed: length));
        yield return ("pattern", Pattern(length));
        yield return ("random", Random(length, seed: length + 1));
        byte[] mixed = Words(length, seed: 7);
        Random(length / 3, seed: 8).CopyTo(mixed, length / 3);
        yield return ("mixed", mixed);
    }

    /// <summary>The corpus minus what cannot save a sector: random data, and the part-random mix when small.</summary>
    public static IEnumerable<(string Name, byte[] Data)> Compressible(int length) =>
        Corpus(length).Where(c => c.Name != "random" && (c.Name != "mixed" || length >= 32768));
}
