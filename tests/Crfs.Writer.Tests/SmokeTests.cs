// SPDX-License-Identifier: MIT
using System.Text;
using Crfs.Format.Btrfs;
using Crfs.Testing;
using Crfs.Volume.Files;
using Crfs.Volume.Transactions;

namespace Crfs.Writer.Tests;

public sealed class SmokeTests
{
    [SkippableFact]
    public void FilesWrittenByTheWriter_PassCheckAndMount()
    {
        Skip.IfNot(BtrfsCheck.Available && Capabilities.CanLoopMountBtrfs, "needs btrfs-progs and loop mounts");
        using TestImage image = TestImage.Formatted(256);
        var fs = new FileSystemWriter();
        using (VolumeWriter writer = VolumeWriter.Open(image.Path))
        {
            writer.Execute(tx =>
            {
                Assert.Equal(WriteStatus.Ok, fs.Create(tx, 256, "dir"u8, new NewInode(InodeMode.Directory | 0x1ED), out ulong dir));
                Assert.Equal(WriteStatus.Ok, fs.Create(tx, dir, "small"u8, new NewInode(InodeMode.Regular | 0x1A4, 1000, 1000), out ulong small));
                Assert.Equal(WriteStatus.Ok, fs.Write(tx, small, 0, Encoding.ASCII.GetBytes("hello world\n")));
                Assert.Equal(WriteStatus.Ok, fs.Create(tx, 256, "big"u8, new NewInode(InodeMode.Regular | 0x1A4), out ulong big));
                byte[] data = new byte[300_000];
                new Random(1).NextBytes(data);
                Assert.Equal(WriteStatus.Ok, fs.Write(tx, big, 0, data));
                Assert.Equal(WriteStatus.Ok, fs.Symlink(tx, dir, "link"u8, "../big"u8, new NewInode(0x1FF), out _));
                Assert.Equal(WriteStatus.Ok, fs.SetXattr(tx, big, "user.test"u8, "value"u8));
                return 0;
            });
            writer.Commit();
            writer.Execute(tx =>
            {
                Assert.Equal(WriteStatus.Ok, fs.Write(tx, 258 + 1, 4096 * 10 + 5, new byte[9000]));
                Assert.Equal(WriteStatus.Ok, fs.Link(tx, 259, 256, "big2"u8));
                return 0;
            });
            writer.Commit();
        }

        BtrfsCheck.AssertClean(image.Path);
        using LoopMount mount = LoopMount.Mount(image.Path, readOnly: true);
        Assert.Equal("hello world\n", File.ReadAllText(Path.Combine(mount.MountPoint, "dir/small")));
        Assert.Equal(300_000, new FileInfo(Path.Combine(mount.MountPoint, "big")).Length);
        Assert.Equal("../big", new FileInfo(Path.Combine(mount.MountPoint, "dir/link")).LinkTarget);
    }
}
