// SPDX-License-Identifier: MIT
using Crfs.Client.Coherence;
using Crfs.Format.Btrfs;
using Crfs.Protocol.Messages;
using Crfs.Server.Locks;

namespace Crfs.Coherence.Tests;

/// <summary>The client builds lock ranges, the server vets them; the two must agree.</summary>
public sealed class LockRangesTests
{
    [Fact]
    public void ClientRanges_AreAcceptedByTheServerAsTheirKind()
    {
        Assert.Equal(LockRangeKind.InodeGroup, LockRangeRules.Classify(LockRanges.InodeGroup(5, 256)));
        Assert.Equal(LockRangeKind.InodeGroup, LockRangeRules.Classify(LockRanges.InodeGroup(257, 5_000_000)));
        Assert.Equal(LockRangeKind.Orphans, LockRangeRules.Classify(LockRanges.Orphans(5)));
        Assert.Equal(LockRangeKind.Rename, LockRangeRules.Classify(LockRanges.Rename(5)));
        Assert.Equal(LockRangeRules.OrphanObjectId, LockRanges.OrphanObjectId);
        Assert.Equal(LockRangeRules.SyntheticTreeId, LockRanges.SyntheticTreeId);
    }

    [Fact]
    public void ArbitraryRanges_AreRefused()
    {
        KeyRange group = LockRanges.InodeGroup(5, 256);
        KeyRange[] bad =
        [
            new(5, BtrfsKey.Min, BtrfsKey.Max),
            group with { Start = new BtrfsKey(1, 0, 0) },
            group with { End = new BtrfsKey(1023, ItemType.DirIndex, ulong.MaxValue) },
            group with { TreeId = 2 },
            LockRanges.InodeGroup(5, ulong.MaxValue - 300),
            LockRanges.Rename(7),
            LockRanges.Rename(5) with { End = new BtrfsKey(5, 0, 1) },
            LockRanges.Orphans(5) with { End = new BtrfsKey(LockRanges.OrphanObjectId, ItemType.OrphanItem, 7) },
        ];
        foreach (KeyRange range in bad)
        {
            Assert.Equal(LockRangeKind.Invalid, LockRangeRules.Classify(range));
            Assert.False(LockRangeRules.Allows(range, LockMode.Read), range.ToString());
        }
    }

    [Fact]
    public void WriteOnly_IsAllowedOnlyOnTheOrphanRange()
    {
        Assert.True(LockRangeRules.Allows(LockRanges.Orphans(5), LockMode.WriteOnly));
        Assert.False(LockRangeRules.Allows(LockRanges.InodeGroup(5, 256), LockMode.WriteOnly));
        Assert.False(LockRangeRules.Allows(LockRanges.Rename(5), LockMode.WriteOnly));
        Assert.True(LockRangeRules.Allows(LockRanges.InodeGroup(5, 256), LockMode.Write));
        Assert.False(LockRangeRules.Allows(LockRanges.InodeGroup(5, 256), (LockMode)9));
    }

    [Fact]
    public void LockOrder_PutsRenameFirstThenGroupsByNumberThenOrphans_AndMatchesTheServer()
    {
        KeyRange[] expected =
        [
            LockRanges.Rename(5),
            LockRanges.InodeGroup(5, 256),
            LockRanges.InodeGroup(5, 1024),
            LockRanges.InodeGroup(5, 900_000),
            LockRanges.Orphans(5),
            LockRanges.InodeGroup(256, 256),
        ];
        KeyRange[] shuffled = [expected[3], expected[5], expected[0], expected[4], expected[2], expected[1]];
        Assert.Equal(expected, shuffled.Order(LockOrder.Instance));
        foreach (KeyRange a in expected)
        {
            foreach (KeyRange b in expected)
            {
                Assert.Equal(Math.Sign(LockOrder.Instance.Compare(a, b)), Math.Sign(LockRangeRules.CompareOrder(a, b)));
            }
        }
    }

    [Fact]
    public void Normalize_MergesReadAndWriteSortsAndRefusesWriteOnlyMixes()
    {
        KeyRange g0 = LockRanges.InodeGroup(5, 256);
        KeyRange g1 = LockRanges.InodeGroup(5, 2048);
        KeyRange rename = LockRanges.Rename(5);
        IReadOnlyList<LockNeed> merged = LockClient.Normalize(
            [new(g1, LockMode.Read), new(g0, LockMode.Read), new(g1, LockMode.Write), new(rename, LockMode.Write), new(g0, LockMode.Read)]);
        Assert.Equal([new LockNeed(rename, LockMode.Write), new LockNeed(g0, LockMode.Read), new LockNeed(g1, LockMode.Write)], merged);

        KeyRange orphans = LockRanges.Orphans(5);
        Assert.Throws<ArgumentException>(() => LockClient.Normalize([new(orphans, LockMode.WriteOnly), new(orphans, LockMode.Read)]));
        Assert.Throws<ArgumentException>(() => LockClient.Normalize([new(g0, LockMode.Null)]));
    }
}
