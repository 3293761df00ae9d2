// SPDX-License-Identifier: MIT
using System.Runtime.InteropServices;
using Crfs.Volume.Compression;

namespace Crfs.Volume.Tests.Compression;

/// <summary>
/// Holds our LZO1X codec against liblzo2, the reference implementation by LZO's author (installed
/// with btrfs-progs), in both directions and on corrupted streams.
/// </summary>
public class LiblzoOracleTests
{
    private const string Library = "liblzo2.so.2";
    private const int LzoOk = 0;

    private static readonly Lazy<bool> s_available = new(() =>
    {
        if (!NativeLibrary.TryLoad(Library, out IntPtr handle))
        {
            return false;
        }

        NativeLibrary.Free(handle);
        return true;
    });

    [SkippableFact]
    public void Decompress_StreamsFromLiblzo_MatchTheInput()
    {
        Skip.IfNot(s_available.Value, $"{Library} is not installed");
        var workMemory = new byte[1 << 18];
        foreach (int length in new[] { 1, 3, 4, 100, 4096, 50000, 131072 })
        {
            foreach ((string name, byte[] data) in TestData.Corpus(length))
            {
                var compressed = new byte[Lzo1x.MaxCompressedLength(length)];
                nuint size = (nuint)compressed.Length;
                Assert.Equal(LzoOk, Native.lzo1x_1_compress(data, (nuint)length, compressed, ref size, workMemory));

                var output = new byte[length];
                int produced = Lzo1x.Decompress(compressed.AsSpan(0, (int)size), output);

                Assert.Equal(length, produced);
                Assert.True(data.AsSpan().SequenceEqual(output), $"{name} of {length} bytes compressed by liblzo2");
            }
        }
    }

    [SkippableFact]
    public void Compress_OurStreams_DecodeInLiblzo()
    {
        Skip.IfNot(s_available.Value, $"{Library} is not installed");
        foreach (int length in new[] { 0, 1, 3, 4, 239, 4096, 50000, 131072 })
        {
            foreach ((string name, byte[] data) in TestData.Corpus(length))
            {
                var compressed = new byte[Lzo1x.MaxCompressedLength(length)];
                int size = Lzo1x.Compress(data, compressed);

                var output = new byte[length + 1];
                nuint produced = (nuint)output.Length;
                int result = Native.lzo1x_decompress_safe(compressed, (nuint)size, output, ref produced, IntPtr.Zero);

                Assert.True(result == LzoOk, $"liblzo2 rejected our {name} stream of {length} bytes with {result}");
                Assert.Equal((nuint)length, produced);
                Assert.True(data.AsSpan().SequenceEqual(output.AsSpan(0, length)), $"{name} of {length} bytes");
            }
        }
    }

    [SkippableFact]
    public void Decompress_CorruptedStreams_AcceptsExactlyWhatLiblzoAccepts()
    {
        Skip.IfNot(s_available.Value, $"{Library} is not installed");
        var random = new Random(20);
        byte[][] samples = [.. TestData.Corpus(3000).Select(c => Compressed(c.Data))];
        var ours = new byte[4096];
        var theirs = new byte[4096];
        int agreedValid = 0;

        for (int iteration = 0; iteration < 5000; iteration++)
        {
            byte[] stream = Mutations.Mutate(samples[iteration % samples.Length], random);

            nuint theirLength = (nuint)theirs.Length;
            int theirResult = Native.lzo1x_decompress_safe(stream, (nuint)stream.Length, theirs, ref theirLength, IntPtr.Zero);
            int ourLength;
            try
            {
                ourLength = Lzo1x.Decompress(stream, ours);
            }
            catch (InvalidDataException e)
            {
                // The one known difference: like the kernel, we insist the end marker's length is 3.
                bool kernelOnlyRule = e.Message.Contains("end marker", StringComparison.Ordinal);
                Assert.True(theirResult != LzoOk || kernelOnlyRule, $"iteration {iteration}: liblzo2 accepted a stream we rejected: {e.Message}\n{Convert.ToHexString(stream)}");
                continue;
            }

            Assert.True(theirResult == LzoOk, $"iteration {iteration}: we accepted a stream liblzo2 rejected with {theirResult}\n{Convert.ToHexString(stream)}");
            Assert.Equal((int)theirLength, ourLength);
            Assert.True(ours.AsSpan(0, ourLength).SequenceEqual(theirs.AsSpan(0, ourLength)), $"iteration {iteration}: outputs differ");
            agreedValid++;
        }

        Assert.True(agreedValid > 0, "no mutated stream stayed valid; the comparison of accepted outputs never ran");
    }

    private static byte[] Compressed(byte[] data)
    {
        var compressed = new byte[Lzo1x.MaxCompressedLength(data.Length)];
        int size = Lzo1x.Compress(data, compressed);
        return compressed[..size];
    }

    private static class Native
    {
        [DllImport(Library)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int lzo1x_1_compress(byte[] source, nuint sourceLength, byte[] destination, ref nuint destinationLength, byte[] workMemory);

        [DllImport(Library)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        public static extern int lzo1x_decompress_safe(byte[] source, nuint sourceLength, byte[] destination, ref nuint destinationLength, IntPtr workMemory);
    }
}
