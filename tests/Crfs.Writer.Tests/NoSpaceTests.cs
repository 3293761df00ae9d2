// SPDX-License-Identifier: MIT
using System.Text;
using Crfs.Format.Btrfs;
using Crfs.Testing;
using Crfs.Volume.Files;
using Crfs.Volume.Transactions;

namespace Crfs.Writer.Tests;

public sealed class NoSpaceTests
{
    [SkippableFact]
    public void FillingTheVolume_GivesNoSpace_AndDeletingMakesRoomAgain()
    {
        Skip.IfNot(BtrfsCheck.Available && Capabilities.CanLoopMountBtrfs, "needs btrfs-progs and loop mounts");
        using TestImage image = TestImage.Formatted(160);
        var fs = new FileSystemWriter();
        var files = new List<(string Name, ulong Ino)>();
        byte[] chunk = new byte[1 << 20];
        new Random(3).NextBytes(chunk);
        using (VolumeWriter writer = VolumeWriter.Open(image.Path))
        {
            WriteStatus last = WriteStatus.Ok;
            for (int i = 0; last == WriteStatus.Ok; i++)
            {
                string name = $"fill{i}";
                last = writer.Execute(tx =>
                {
                    WriteStatus s = fs.Create(tx, 256, Encoding.ASCII.GetBytes(name), new NewInode(InodeMode.Regular | 0x1A4), out ulong ino);
                    if (s == WriteStatus.Ok)
                    {
                        files.Add((name, ino));
                        s = fs.Write(tx, ino, 0, chunk);
                    }

                    return s;
                });
                if (i % 16 == 0)
                {
                    writer.Commit();
                }

                Assert.True(i < 1000, "the volume never filled up");
            }

            Assert.Equal(WriteStatus.NoSpace, last);
            Assert.True(files.Count > 100, $"only {files.Count} MiB fit: no data chunks were added");
            writer.Commit();

            // Every later write fails the same way and changes nothing.
            for (int i = 0; i < 5; i++)
            {
                ulong ino = files[i].Ino;
                Assert.Equal(WriteStatus.NoSpace, writer.Execute(tx => fs.Write(tx, ino, 1 << 20, chunk)));
            }

            writer.Commit();
            Assert.False(writer.IsReadOnly);
        }

        BtrfsCheck.AssertClean(image.Path, "when full:");
        using (VolumeWriter writer = VolumeWriter.Open(image.Path))
        {
            for (int i = 0; i < files.Count / 2; i++)
            {
                string name = files[i].Name;
                Assert.Equal(WriteStatus.Ok, writer.Execute(tx => fs.Unlink(tx, 256, Encoding.ASCII.GetBytes(name))));
            }

            writer.Commit();
            for (int i = 0; i < 10; i++)
            {
                ulong ino = files[^1].Ino;
                ulong offset = (ulong)i << 20;
                Assert.Equal(WriteStatus.Ok, writer.Execute(tx => fs.Write(tx, ino, offset, chunk)));
            }

            writer.Commit();
        }

        BtrfsCheck.AssertClean(image.Path, "after deleting and writing again:");
        using LoopMount mount = LoopMount.Mount(image.Path, readOnly: true);
        Assert.Equal(10L << 20, new FileInfo(Path.Combine(mount.MountPoint, files[^1].Name)).Length);
    }
}
