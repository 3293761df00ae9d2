// SPDX-License-Identifier: MIT
using Crfs.Client.Cache;
using Crfs.Format.Btrfs;
using Crfs.Protocol.Messages;

namespace Crfs.Client.Tests;

public class OpenTransactionTests
{
    private const ulong Tree = 5;

    private static BtrfsKey K(ulong id, ItemType type = ItemType.InodeItem, ulong offset = 0) => new(id, type, offset);

    private static void AssertCommitShape(IReadOnlyList<ItemOperation> ops)
    {
        for (int i = 1; i < ops.Count; i++)
        {
            Assert.True(ops[i].Key > ops[i - 1].EndKey, $"op {i} ({ops[i]}) does not start after op {i - 1} ({ops[i - 1]})");
        }
    }

    [Fact]
    public void Put_InsideAPendingDeleteRange_SplitsTheRangeAroundTheKey()
    {
        var tx = new OpenTransaction();
        tx.DeleteRange(Tree, K(5, 0), KeySteps.Last(5));
        tx.Put(Tree, K(5, ItemType.InodeItem, 0), new byte[] { 1 });

        IReadOnlyList<ItemOperation> ops = tx.ItemsFor(Tree);
        Assert.Equal(3, ops.Count);
        Assert.Equal(ItemOperation.DeleteRange(K(5, 0, 0), new BtrfsKey(5, 0, ulong.MaxValue)), ops[0]);
        Assert.Equal(ItemOperationKind.Put, ops[1].Kind);
        Assert.Equal(ItemOperation.DeleteRange(K(5, ItemType.InodeItem, 1), KeySteps.Last(5)), ops[2]);
        AssertCommitShape(ops);
    }

    [Fact]
    public void DeleteRange_AbsorbsEarlierPointOperationsInside()
    {
        var tx = new OpenTransaction();
        tx.Put(Tree, K(6, ItemType.XattrItem, 3), new byte[] { 1 });
        tx.Delete(Tree, K(6, ItemType.DirItem, 9));
        tx.Put(Tree, K(7), new byte[] { 2 });
        tx.DeleteRange(Tree, K(6, 0), KeySteps.Last(6));

        IReadOnlyList<ItemOperation> ops = tx.ItemsFor(Tree);
        Assert.Equal(2, ops.Count);
        Assert.Equal(ItemOperationKind.DeleteRange, ops[0].Kind);
        Assert.Equal(K(7), ops[1].Key);
        AssertCommitShape(ops);
    }

    [Fact]
    public void LaterOperationOnAKey_ReplacesTheEarlierOne()
    {
        var tx = new OpenTransaction();
        tx.Delete(Tree, K(8));
        tx.Put(Tree, K(8), new byte[] { 3 });

        ItemOperation op = Assert.Single(tx.ItemsFor(Tree));
        Assert.Equal(ItemOperationKind.Put, op.Kind);
        Assert.True(tx.Touches(Tree, K(8)));
        Assert.False(tx.Touches(Tree, K(9)));
    }

    [Fact]
    public void DataOverlay_ReplaysWritesTruncatesAndPunchesInOrder()
    {
        byte[] buffer = [1, 1, 1, 1, 1, 1, 1, 1];
        DataOverlay.Apply(buffer, 0, [
            DataOperation.Write(1, 2, new byte[] { 9, 9 }),
            DataOperation.Truncate(1, 6),
            DataOperation.Write(1, 7, new byte[] { 5 }),
            DataOperation.Punch(1, 0, 1),
        ]);

        Assert.Equal(new byte[] { 0, 1, 9, 9, 1, 1, 0, 5 }, buffer);
    }
}
