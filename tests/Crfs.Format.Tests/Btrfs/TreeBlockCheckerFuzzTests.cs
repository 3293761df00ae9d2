// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;

namespace Crfs.Format.Tests.Btrfs;

/// <summary>
/// Fuzz-style: real blocks with random bytes flipped (most of them resealed, so the deep checks
/// run) or truncated. The checker must answer every one with a fault or a pass, never another
/// exception; and a block it passes must be safe to read with every view, which is the promise
/// the rest of the reader relies on. Seeded, so a failure names a reproducible case.
/// </summary>
public class TreeBlockCheckerFuzzTests
{
    private const int IterationsPerBlock = 1500;

    private static readonly Lazy<RealImage> s_image = new(RealImage.Load);

    [SkippableFact]
    public void DamagedBlocksNeverThrowAndPassedBlocksAreSafeToRead()
    {
        Skip.IfNot(RealImage.CanBuild, "needs mkfs.btrfs and setfattr");
        RealImage img = s_image.Value;
        TreeBlockChecker checker = img.Checker;
        byte[][] originals = [img.FsLeaf, img.RootLeaf, img.ChunkLeaf, img.ExtentLeaf, img.CsumLeaf];
        int passed = 0;
        for (int b = 0; b < originals.Length; b++)
        {
            byte[] original = originals[b];
            ulong logical = new HeaderView(original).Bytenr;
            int headerEnd = HeaderLayout.Size + (new LeafView(original).NrItems * ItemHeaderLayout.Size);
            for (int iteration = 0; iteration < IterationsPerBlock; iteration++)
            {
                int seed = (b * 100_000) + iteration;
                var random = new Random(seed);
                byte[] block = (byte[])original.Clone();
                int flips = random.Next(1, 9);
                for (int f = 0; f < flips; f++)
                {
                    int at = random.Next(2) == 0 ? random.Next(HeaderLayout.Fsid, headerEnd) : random.Next(HeaderLayout.Fsid, block.Length);
                    block[at] ^= (byte)random.Next(1, 256);
                }

                if (random.Next(4) != 0)
                {
                    img.Reseal(block);
                }

                byte[] input = random.Next(20) == 0 ? block[..random.Next(block.Length)] : block;
                string? fault;
                try
                {
                    fault = checker.Validate(input, logical);
                    if (fault is null)
                    {
                        passed++;
                        ReadEverything(input);
                    }
                }
                catch (Exception e)
                {
                    throw new Xunit.Sdk.XunitException($"seed {seed}: {e.GetType().Name}: {e.Message}");
                }

                if (fault is not null)
                {
                    var thrown = Record.Exception(() => checker.Check(input, logical, 1, TreeBlockExpectation.None));
                    Assert.IsType<CorruptBlockException>(thrown);
                }
            }
        }

        // Some damage is harmless (a byte of a name, a timestamp): those blocks must have been read.
        Assert.True(passed > 0, "no damaged block passed, so the safe-to-read half of the test never ran");
    }

    // Reads every field of every item the way the reader and dump-tree do.
    private static void ReadEverything(byte[] block)
    {
        var header = new HeaderView(block);
        if (header.Level > 0)
        {
            var node = new NodeView(block);
            for (int i = 0; i < node.NrItems; i++)
            {
                _ = node.Key(i);
                _ = node.BlockPtr(i) + node.Generation(i);
            }

            return;
        }

        var leaf = new LeafView(block);
        for (int i = 0; i < leaf.NrItems; i++)
        {
            BtrfsKey key = leaf.Key(i);
            ReadOnlySpan<byte> data = leaf.ItemData(i);
            switch (key.Type)
            {
                case ItemType.InodeItem:
                    _ = new InodeItemView(data).ToInodeItem();
                    break;
                case ItemType.InodeRef:
                    foreach (InodeRefView r in new InodeRefEnumerator(data))
                    {
                        _ = r.Name.Length + (int)r.Index;
                    }

                    break;
                case ItemType.InodeExtref:
                    foreach (InodeExtrefView r in new InodeExtrefEnumerator(data))
                    {
                        _ = r.Name.Length + (int)r.ParentObjectId;
                    }

                    break;
                case ItemType.DirItem:
                case ItemType.DirIndex:
                case ItemType.XattrItem:
                    foreach (DirItemView e in new DirItemEnumerator(data))
                    {
                        _ = e.Location;
                        _ = e.Name.Length + e.Data.Length;
                    }

                    break;
                case ItemType.ExtentData:
                    var fe = new FileExtentItemView(data);
                    _ = fe.Type == FileExtentType.Inline ? fe.InlineData.Length : (long)(fe.DiskBytenr + fe.NumBytes);
                    break;
                case ItemType.RootItem:
                    var root = new RootItemView(data);
                    _ = root.Bytenr + root.Ctransid + (ulong)root.Uuid.Length + root.Inode.Size;
                    break;
                case ItemType.RootRef:
                case ItemType.RootBackref:
                    _ = new RootRefView(data).Name.Length;
                    break;
                case ItemType.ChunkItem:
                    var chunk = new ChunkItemView(data);
                    for (int s = 0; s < chunk.NumStripes; s++)
                    {
                        _ = chunk.Stripe(s).Offset;
                    }

                    break;
                case ItemType.DevItem:
                    _ = new DevItemView(data).Fsid.Length;
                    break;
                case ItemType.DevExtent:
                    _ = new DevExtentView(data).ChunkTreeUuid.Length;
                    break;
                case ItemType.BlockGroupItem:
                    _ = new BlockGroupItemView(data).Flags;
                    break;
                case ItemType.ExtentItem:
                case ItemType.MetadataItem:
                    var extent = new ExtentItemView(data);
                    bool info = (extent.Flags & ExtentFlags.TreeBlock) != 0 && key.Type == ItemType.ExtentItem;
                    foreach (ExtentInlineRefView r in extent.InlineRefs(info))
                    {
                        _ = r.Type == ItemType.ExtentDataRef ? r.DataRef.Count : r.Offset;
                    }

                    break;
                case ItemType.FreeSpaceInfo:
                    _ = new FreeSpaceInfoView(data).ExtentCount;
                    break;
                default:
                    break;
            }
        }
    }
}
