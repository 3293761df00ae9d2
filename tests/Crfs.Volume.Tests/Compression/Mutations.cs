// SPDX-License-Identifier: MIT
namespace Crfs.Volume.Tests.Compression;

/// <summary>Seeded corruptions of valid compressed data, for the fuzz-style tests.</summary>
internal static class Mutations
{
    public static byte[] Mutate(byte[] valid, Random random)
    {
        byte[] data = (byte[])valid.Clone();
        switch (random.Next(7))
        {
            case 0: // a few bit flips
                for (int i = random.Next(1, 9); i > 0 && data.Length > 0; i--)
                {
                    data[random.Next(data.Length)] ^= (byte)(1 << random.Next(8));
                }

                return data;
            case 1: // truncation
                return data[..random.Next(data.Length + 1)];
            case 2: // a run of random bytes
                {
                    if (data.Length == 0)
                    {
                        return data;
                    }

                    int start = random.Next(data.Length);
                    random.NextBytes(data.AsSpan(start, Math.Min(random.Next(1, 64), data.Length - start)));
                    return data;
                }

            case 3: // a random 32-bit value somewhere (hits the btrfs LZO length fields often)
                if (data.Length >= 4)
                {
                    int at = random.Next(2) == 0 ? 4 * random.Next(Math.Min(4, data.Length / 4)) : random.Next(data.Length - 3);
                    BitConverter.TryWriteBytes(data.AsSpan(at), random.Next(3) == 0 ? random.Next(1 << 16) : random.Next());
                }

                return data;
            case 4: // bytes inserted or removed in the middle
                {
                    int at = random.Next(data.Length + 1);
                    if (random.Next(2) == 0 && at < data.Length)
                    {
                        return [.. data[..at], .. data[Math.Min(data.Length, at + random.Next(1, 9))..]];
                    }

                    var extra = new byte[random.Next(1, 9)];
                    random.NextBytes(extra);
                    return [.. data[..at], .. extra, .. data[at..]];
                }

            case 5: // garbage of a plausible size
                {
                    var garbage = new byte[random.Next(0, 2 * data.Length + 8)];
                    random.NextBytes(garbage);
                    return garbage;
                }

            default: // one byte set to an extreme
                if (data.Length > 0)
                {
                    data[random.Next(data.Length)] = random.Next(2) == 0 ? (byte)0 : (byte)0xFF;
                }

                return data;
        }
    }
}
