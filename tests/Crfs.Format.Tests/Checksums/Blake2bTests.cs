// SPDX-License-Identifier: MIT
using System.Text;
using Crfs.Format.Checksums;

namespace Crfs.Format.Tests.Checksums;

public class Blake2bTests
{
    [Fact]
    public void Hash_Rfc7693AppendixA_Abc512()
    {
        var digest = new byte[64];

        Blake2b.Hash("abc"u8, digest);

        Assert.Equal(
            "ba80a53f981c4d0d6a2797b69f12f6e94c212f14685ac4b74b12bb6fdbffa2d1" +
            "7d87c5392aab792dc252d5de4533cc9518d38aa8dbf1925ab92386edd4009923",
            Convert.ToHexStringLower(digest));
    }

    // Expected values from the BLAKE2 reference implementation (CPython's hashlib.blake2b,
    // digest_size=32) over bytes (i * 31 + 7) % 251; the lengths straddle the 128-byte block.
    public static TheoryData<int, string> Vectors256 => new()
    {
        { 0, "0e5751c026e543b2e8ab2eb06099daa1d1e5df47778f7787faab45cdf12fe3a8" },
        { 1, "873e4fe9e41e924911bba3ec53ff4782efc8c0f244fb75c879f8a4328d0142ca" },
        { 3, "c6e841ce4b815c8b14b50c3b354f69115702a4afd19fb1a6aa4dae0d86859bda" },
        { 64, "30b4191ffebb812cb71bd4671d340339236cbc5ba8d90a22ea9b791be0b7d616" },
        { 127, "d66e9ca56576d5ccc5e53da32ae13e7db10053cbc15167ed9f184c428b33d5d7" },
        { 128, "5d07dfefa67002e458f0d5856faf8765b2de72087583d5dd11eb94342fe2eab7" },
        { 129, "e739e6ebfc69fb174d9dab84945a95ff5c1cf7db7b5c4e2d7e2cc7b8fb3c76fa" },
        { 255, "2e458951739e05200dce1e1492caecdf7e779595eb0e46af4213f8131b716352" },
        { 256, "7391da947b2cf79d21dd77be3fc9da099e859b2d29bb58dbdb447a51d7c71565" },
        { 257, "01b9f0edcc6814d7304b7aeace593845e9a21cc2748785adfd283ac3cd7e7bc4" },
        { 1000, "a1442fdad4d4e5214e4086836e6accd66cc62d4cf3445dae60006ba025c070d7" },
        { 16352, "653becbe9327e93a9a2de113126b2f61d7ca963fe0e0fbdd870e69deca27a7ed" },
    };

    [Theory]
    [MemberData(nameof(Vectors256))]
    public void Hash_256BitDigest_MatchesReferenceImplementation(int length, string expected)
    {
        byte[] data = new byte[length];
        for (int i = 0; i < length; i++)
        {
            data[i] = (byte)(((i * 31) + 7) % 251);
        }

        var digest = new byte[32];
        Blake2b.Hash(data, digest);

        Assert.Equal(expected, Convert.ToHexStringLower(digest));
    }

    [Fact]
    public void Hash_DigestLengthIsAParameter_ShortDigestIsNotAPrefix()
    {
        var d20 = new byte[20];
        var d32 = new byte[32];

        Blake2b.Hash(Encoding.ASCII.GetBytes("abc"), d20);
        Blake2b.Hash(Encoding.ASCII.GetBytes("abc"), d32);

        Assert.Equal("384264f676f39536840523f284921cdc68b6846b", Convert.ToHexStringLower(d20));
        Assert.Equal("bddd813c634239723171ef3fee98579b94964e3bb1cb3e427262c8c068d52319", Convert.ToHexStringLower(d32));
    }

    [Theory]
    [InlineData(0)]
    [InlineData(65)]
    public void Hash_DigestLengthOutsideOneTo64_Throws(int length)
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => Blake2b.Hash("abc"u8, new byte[length]));
    }
}
