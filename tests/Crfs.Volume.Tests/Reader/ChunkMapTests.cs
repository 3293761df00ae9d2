// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Volume.Chunks;

namespace Crfs.Volume.Tests.Reader;

public class ChunkMapTests
{
    private const ulong Stripe = 65536;

    [Fact]
    public void SingleAndDupMapEveryCopyLinearlyToTheChunkEnd()
    {
        var dup = new Chunk(30 << 20, 32 << 20, BlockGroupFlags.Metadata | BlockGroupFlags.Dup, Stripe, 1, [new(1, 38 << 20), new(1, 72 << 20)]);
        Span<PhysicalLocation> copies = stackalloc PhysicalLocation[ChunkMap.MaxCopies];
        ulong contiguous = dup.Map((30 << 20) + 12345, copies);
        Assert.Equal(2, dup.CopyCount);
        Assert.Equal(new PhysicalLocation(1, (38 << 20) + 12345), copies[0]);
        Assert.Equal(new PhysicalLocation(1, (72 << 20) + 12345), copies[1]);
        Assert.Equal((32UL << 20) - 12345, contiguous);

        var single = new Chunk(13 << 20, 8 << 20, BlockGroupFlags.Data, Stripe, 1, [new(1, 13 << 20)]);
        Assert.Equal(1, single.CopyCount);
        Assert.Equal(8UL << 20, single.Map(13 << 20, copies));
        Assert.Equal(new PhysicalLocation(1, 13 << 20), copies[0]);
    }

    [Fact]
    public void Raid1AcrossDevicesKeepsOneCopyPerDevice()
    {
        var raid1 = new Chunk(1 << 30, 1 << 30, BlockGroupFlags.Data | BlockGroupFlags.Raid1, Stripe, 1, [new(1, 100 << 20), new(2, 200 << 20)]);
        Span<PhysicalLocation> copies = stackalloc PhysicalLocation[ChunkMap.MaxCopies];
        raid1.Map((1UL << 30) + 5, copies);
        Assert.Equal([new PhysicalLocation(1, (100 << 20) + 5), new PhysicalLocation(2, (200 << 20) + 5)], copies[..2].ToArray());
    }

    [Fact]
    public void Raid0StripesRoundRobinAndStopAtTheStripeEnd()
    {
        var raid0 = new Chunk(0, 6 * Stripe, BlockGroupFlags.Data | BlockGroupFlags.Raid0, Stripe, 1, [new(1, 1000 * Stripe), new(2, 2000 * Stripe), new(3, 3000 * Stripe)]);
        Span<PhysicalLocation> copies = stackalloc PhysicalLocation[ChunkMap.MaxCopies];
        Assert.Equal(Stripe - 10, raid0.Map(10, copies));
        Assert.Equal(new PhysicalLocation(1, (1000 * Stripe) + 10), copies[0]);
        raid0.Map((4 * Stripe) + 7, copies); // stripe 4 = device index 1, second row
        Assert.Equal(new PhysicalLocation(2, (2001 * Stripe) + 7), copies[0]);
        Assert.Equal(1, raid0.CopyCount);
    }

    [Fact]
    public void Raid10MirrorsPairsOfStripes()
    {
        var raid10 = new Chunk(0, 8 * Stripe, BlockGroupFlags.Data | BlockGroupFlags.Raid10, Stripe, 2,
            [new(1, 0), new(2, 0), new(3, 0), new(4, 0)]);
        Span<PhysicalLocation> copies = stackalloc PhysicalLocation[ChunkMap.MaxCopies];
        raid10.Map((3 * Stripe) + 1, copies); // stripe 3: pair 1 (devices 3 and 4), row 1
        Assert.Equal(2, raid10.CopyCount);
        Assert.Equal(new PhysicalLocation(3, Stripe + 1), copies[0]);
        Assert.Equal(new PhysicalLocation(4, Stripe + 1), copies[1]);
    }

    [Fact]
    public void Raid5IsRefusedAsUnsupported()
    {
        var raid5 = new Chunk(0, 4 * Stripe, BlockGroupFlags.Data | BlockGroupFlags.Raid5, Stripe, 1, [new(1, 0), new(2, 0), new(3, 0)]);
        var e = Assert.Throws<UnsupportedVolumeException>(() => raid5.Map(0, new PhysicalLocation[4]));
        Assert.Contains("RAID5", e.Message);
    }

    [Fact]
    public void FindLocatesChunksAndTheSystemArrayEntryIsReplacedByTheTreeEntry()
    {
        var map = new ChunkMap();
        map.Add(new Chunk(22 << 20, 8 << 20, BlockGroupFlags.System | BlockGroupFlags.Dup, Stripe, 1, [new(1, 1), new(1, 2)]));
        map.Add(new Chunk(13 << 20, 8 << 20, BlockGroupFlags.Data, Stripe, 1, [new(1, 13 << 20)]));
        map.Add(new Chunk(22 << 20, 8 << 20, BlockGroupFlags.System | BlockGroupFlags.Dup, Stripe, 1, [new(1, 22 << 20), new(1, 30 << 20)]));
        Assert.Equal(2, map.Chunks.Count);
        Assert.Equal(13UL << 20, map.Find(13 << 20)!.Start);
        Assert.Equal(22UL << 20, map.Find((30 << 20) - 1)!.Start);
        Assert.Equal(22UL << 20, map.Find((22 << 20) + 5)!.Stripes[0].Offset);
        Assert.Null(map.Find(30 << 20));
        Assert.Null(map.Find(0));
    }

    [Fact]
    public void OverlappingChunksAreRejected()
    {
        var map = new ChunkMap();
        map.Add(new Chunk(0, 8 << 20, BlockGroupFlags.Data, Stripe, 1, [new(1, 0)]));
        var e = Assert.Throws<InvalidDataException>(() => map.Add(new Chunk(4 << 20, 8 << 20, BlockGroupFlags.Data, Stripe, 1, [new(1, 0)])));
        Assert.Equal("chunk [4194304, 12582912) overlaps chunk [0, 8388608)", e.Message);
    }
}
