// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Volume.Compression;

namespace Crfs.Volume.Tests.Compression;

/// <summary>
/// Seeded corruption of valid extents: every decompressor must answer with output or with an
/// <see cref="InvalidDataException"/>, never another exception or a hang.
/// </summary>
public class DecompressorFuzzTests
{
    private const int Sector = 4096;
    private const int Iterations = 3000;

    [Theory]
    [InlineData(CompressionType.Zlib)]
    [InlineData(CompressionType.Lzo)]
    [InlineData(CompressionType.Zstd)]
    public void Decompress_CorruptedExtents_ThrowOnlyInvalidData(CompressionType type)
    {
        byte[][] samples =
        [
            .. new[] { 8192, 20000, 131072 }.SelectMany(TestData.Compressible).Select(c => Compressed(type, c.Data)),
        ];
        var random = new Random(60 + (int)type);
        var output = new byte[131072];
        int rejected = 0;

        for (int iteration = 0; iteration < Iterations; iteration++)
        {
            byte[] input = Mutations.Mutate(samples[iteration % samples.Length], random);
            int destination = random.Next(4) == 0 ? random.Next(output.Length) : output.Length;
            try
            {
                int produced = Decompressor.Decompress(type, input, output.AsSpan(0, destination), Sector);
                Assert.InRange(produced, 0, destination);
            }
            catch (InvalidDataException)
            {
                rejected++;
            }
            catch (Exception e)
            {
                Assert.Fail($"{type} iteration {iteration}: {e.GetType().Name} instead of InvalidDataException for input {Convert.ToHexString(input.AsSpan(0, Math.Min(64, input.Length)))}...: {e}");
            }
        }

        Assert.True(rejected > Iterations / 10, $"{type}: only {rejected} of {Iterations} corrupted inputs were rejected");
    }

    private static byte[] Compressed(CompressionType type, byte[] data)
    {
        var compressed = new byte[data.Length];
        Assert.True(Compressor.TryCompress(type, data, compressed, Sector, out int written));
        return compressed[..written];
    }
}
