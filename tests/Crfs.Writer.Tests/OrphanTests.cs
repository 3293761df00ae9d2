// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Volume.Files;
using Crfs.Volume.Transactions;

namespace Crfs.Writer.Tests;

public sealed class OrphanTests
{
    [SkippableFact]
    public void UnlinkedButOpen_KeepsAnOrphan_ThatReleaseAndReclaimDelete()
    {
        Skip.IfNot(BtrfsCheck.Available, "needs btrfs-progs");
        using TestImage image = TestImage.Formatted(128);
        var fs = new FileSystemWriter();
        ulong first;
        ulong second;
        using (VolumeWriter writer = VolumeWriter.Open(image.Path))
        {
            first = CreateWithData(writer, fs, "first"u8.ToArray());
            second = CreateWithData(writer, fs, "second"u8.ToArray());
            writer.Commit();
            Assert.Equal(WriteStatus.Ok, writer.Execute(tx => fs.Unlink(tx, 256, "first"u8, stillOpen: true)));
            Assert.Equal(WriteStatus.Ok, writer.Execute(tx => fs.Unlink(tx, 256, "second"u8, stillOpen: true)));
            writer.Commit();
            Assert.True(writer.Execute(tx => tx.Contains(5, new BtrfsKey(ObjectIds.Orphan, ItemType.OrphanItem, first))));
            Assert.True(writer.Execute(tx => fs.TryGetInode(tx, first, out InodeItem i) && i.Nlink == 0));
        }

        BtrfsCheck.AssertClean(image.Path, "with two orphans:");
        using (VolumeWriter writer = VolumeWriter.Open(image.Path))
        {
            Assert.Equal(WriteStatus.Ok, writer.Execute(tx => fs.ReleaseOrphan(tx, first)));
            writer.Commit();
            Assert.False(writer.Execute(tx => fs.TryGetInode(tx, first, out _)));
        }

        BtrfsCheck.AssertClean(image.Path, "after releasing one:");
        using (VolumeWriter writer = VolumeWriter.Open(image.Path))
        {
            Assert.Equal(1, writer.Execute(tx => fs.ReclaimOrphans(tx)));
            writer.Commit();
            Assert.False(writer.Execute(tx => fs.TryGetInode(tx, second, out _)));
            Assert.False(writer.Execute(tx => tx.Contains(5, new BtrfsKey(ObjectIds.Orphan, ItemType.OrphanItem, second))));
        }

        BtrfsCheck.AssertClean(image.Path, "after reclaiming the other:");
    }

    private static ulong CreateWithData(VolumeWriter writer, FileSystemWriter fs, byte[] name) => writer.Execute(tx =>
    {
        Assert.Equal(WriteStatus.Ok, fs.Create(tx, 256, name, new NewInode(InodeMode.Regular | 0x1A4), out ulong ino));
        Assert.Equal(WriteStatus.Ok, fs.Write(tx, ino, 0, new byte[100_000]));
        return ino;
    });
}
