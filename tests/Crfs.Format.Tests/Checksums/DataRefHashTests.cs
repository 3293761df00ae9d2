// SPDX-License-Identifier: MIT
using System.Globalization;
using System.Text.RegularExpressions;
using Crfs.Format.Checksums;
using Crfs.Testing;

namespace Crfs.Format.Tests.Checksums;

public partial class DataRefHashTests
{
    [Fact]
    public void Compute_CombinesWithShift31_SoBit31MixesBothHalves()
    {
        Span<byte> le = stackalloc byte[8];
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(le, 5);
        uint high = Crc32C.Update(~0u, le);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(le, 257);
        uint low = Crc32C.Update(~0u, le);
        System.Buffers.Binary.BinaryPrimitives.WriteUInt64LittleEndian(le, 0);
        low = Crc32C.Update(low, le);

        Assert.Equal(((ulong)high << 31) ^ low, DataRefHash.Compute(5, 257, 0));
    }

    [SkippableFact]
    public void Compute_KernelWrittenReflinks_MatchesEveryKeyedDataRef()
    {
        Skip.IfNot(Capabilities.CanLoopMountBtrfs, "needs root, mkfs.btrfs and loop-mountable btrfs");
        using var dir = new TempDirectory("crfs-dataref");
        string image = dir.Combine("dataref.img");
        BtrfsTool.Mkfs(image);
        // Enough references to one extent that they no longer fit inline in the EXTENT_ITEM.
        BtrfsTool.WithMount(image, dir.Combine("mnt"),
            "head -c 8192 /dev/urandom > $M/f && for i in $(seq 1 60); do cp --reflink=always $M/f $M/f$i; done");
        string dump = BtrfsTool.DumpTree(image, "extent");

        int keyed = 0;
        foreach ((_, ulong offset, string[] body) in BtrfsTool.Items(dump, "EXTENT_DATA_REF"))
        {
            Match m = BackrefLine().Match(string.Join('\n', body));
            Assert.True(m.Success, string.Join('\n', body));
            ulong root = m.Groups[1].Value == "FS_TREE" ? 5 : ulong.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
            ulong objectId = ulong.Parse(m.Groups[2].Value, CultureInfo.InvariantCulture);
            ulong fileOffset = ulong.Parse(m.Groups[3].Value, CultureInfo.InvariantCulture);
            Assert.True(offset == DataRefHash.Compute(root, objectId, fileOffset), $"EXTENT_DATA_REF offset {offset} for root {root} ino {objectId} offset {fileOffset}");
            keyed++;
        }

        Assert.True(keyed > 5, $"expected keyed EXTENT_DATA_REF items; found {keyed}");
    }

    [GeneratedRegex(@"extent data backref root (\S+) objectid (\d+) offset (\d+) count")]
    private static partial Regex BackrefLine();
}
