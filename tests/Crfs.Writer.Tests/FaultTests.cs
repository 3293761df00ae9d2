// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Volume;
using Crfs.Volume.Files;
using Crfs.Volume.Transactions;

namespace Crfs.Writer.Tests;

public sealed class FaultTests
{
    [Fact]
    public void BrokenInvariantInAChange_MakesTheWriterReadOnly_AndLaterWritesNameTheFault()
    {
        using TestImage image = TestImage.Formatted(64);
        var fs = new FileSystemWriter();
        ulong generation;
        using (VolumeWriter writer = VolumeWriter.Open(image.Path))
        {
            generation = writer.Generation;
            writer.Execute(tx => fs.Create(tx, 256, "kept-out"u8, new NewInode(InodeMode.Regular | 0x1A4), out _));
            var missing = new BtrfsKey(12345, ItemType.InodeItem, 0);
            VolumeReadOnlyException first = Assert.Throws<VolumeReadOnlyException>(() => writer.Execute(tx =>
            {
                tx.Update(5, missing, new byte[InodeItemLayout.Size]); // no such item: a bug in the caller
                return 0;
            }));
            Assert.IsType<WriterFaultException>(first.InnerException);
            Assert.True(writer.IsReadOnly);

            VolumeReadOnlyException later = Assert.Throws<VolumeReadOnlyException>(() => writer.Execute(tx => fs.Create(tx, 256, "x"u8, new NewInode(InodeMode.Regular | 0x1A4), out _)));
            Assert.Contains("(12345 INODE_ITEM 0)", later.Message, StringComparison.Ordinal);
            Assert.Throws<VolumeReadOnlyException>(writer.Commit);
        }

        // Nothing of the poisoned transaction reached the disk.
        using BtrfsVolume volume = BtrfsVolume.Open([image.Path]);
        Assert.Equal(generation, volume.Generation);
        Assert.Empty(volume.OpenDefaultSubvolume().ReadDirectory(256));
    }
}
