// SPDX-License-Identifier: MIT
using Crfs.Client.Cache;
using Crfs.Format.Btrfs;
using Crfs.Protocol.Messages;

namespace Crfs.Client.Tests;

public class ItemCacheTests
{
    private const ulong Tree = 5;

    private static BtrfsKey K(ulong id, ItemType type = ItemType.InodeItem, ulong offset = 0) => new(id, type, offset);

    [Fact]
    public void Fill_MarksSpanComplete_SoAMissingKeyIsACachedNegative()
    {
        var cache = new ItemCache();
        cache.Fill(Tree, K(256, 0), K(256, (ItemType)255, ulong.MaxValue), [new WireItem(K(256), new byte[] { 1 })], _ => false);

        Assert.Equal(CacheLookup.Present, cache.Lookup(Tree, K(256), out byte[]? value));
        Assert.Equal(new byte[] { 1 }, value);
        Assert.Equal(CacheLookup.Absent, cache.Lookup(Tree, K(256, ItemType.DirItem, 77), out _));
        Assert.Equal(CacheLookup.Unknown, cache.Lookup(Tree, K(257), out _));
    }

    [Fact]
    public void MarkComplete_AdjacentSpans_MergeIntoOne()
    {
        var cache = new ItemCache();
        cache.MarkComplete(Tree, K(10, 0), KeySteps.Last(10));
        cache.MarkComplete(Tree, K(11, 0), KeySteps.Last(11));

        Assert.True(cache.IsComplete(Tree, K(10, 0), KeySteps.Last(11)));
        Assert.True(cache.TryFindIncomplete(Tree, K(10, 0), KeySteps.Last(12), out BtrfsKey missing));
        Assert.Equal(K(12, 0), missing);
    }

    [Fact]
    public void Invalidate_CutsTheRangeOutOfACompleteSpan_AndDropsItsItems()
    {
        var cache = new ItemCache();
        cache.Fill(Tree, K(1000, 0), KeySteps.Last(3200), [new WireItem(K(1500), new byte[] { 1 }), new WireItem(K(2500), new byte[] { 2 })], _ => false);

        cache.Invalidate(KeyRange.ForInodeGroup(Tree, 2048));

        Assert.Equal(CacheLookup.Present, cache.Lookup(Tree, K(1500), out _));
        Assert.Equal(CacheLookup.Unknown, cache.Lookup(Tree, K(2500), out _));
        Assert.Equal(CacheLookup.Absent, cache.Lookup(Tree, K(1600), out _));
        Assert.Equal(CacheLookup.Absent, cache.Lookup(Tree, K(3100), out _));
        Assert.Equal(CacheLookup.Unknown, cache.Lookup(Tree, K(3000), out _));
        Assert.Equal(1, cache.Count);
    }

    [Fact]
    public void Fill_LeavesPinnedKeysAlone()
    {
        var cache = new ItemCache();
        cache.Put(Tree, K(5), new byte[] { 9 });
        cache.Fill(Tree, K(5, 0), KeySteps.Last(5), [new WireItem(K(5), new byte[] { 1 })], key => key == K(5));

        cache.Lookup(Tree, K(5), out byte[]? value);
        Assert.Equal(new byte[] { 9 }, value);
    }

    [Fact]
    public void DeleteRange_MakesTheSpanKnownEmpty()
    {
        var cache = new ItemCache();
        cache.Put(Tree, K(7, ItemType.XattrItem, 1), new byte[] { 1 });
        cache.DeleteRange(Tree, K(7, 0), KeySteps.Last(7));

        Assert.Equal(CacheLookup.Absent, cache.Lookup(Tree, K(7, ItemType.XattrItem, 1), out _));
        Assert.Equal(0, cache.Count);
    }

    [Fact]
    public void KeySteps_NextAndPreviousCrossTypeAndObjectidBoundaries()
    {
        Assert.True(KeySteps.TryNext(new BtrfsKey(1, (ItemType)255, ulong.MaxValue), out BtrfsKey next));
        Assert.Equal(new BtrfsKey(2, 0, 0), next);
        Assert.True(KeySteps.TryPrevious(new BtrfsKey(2, ItemType.InodeItem, 0), out BtrfsKey previous));
        Assert.Equal(new BtrfsKey(2, 0, ulong.MaxValue), previous);
        Assert.False(KeySteps.TryNext(BtrfsKey.Max, out _));
        Assert.False(KeySteps.TryPrevious(BtrfsKey.Min, out _));
    }
}
