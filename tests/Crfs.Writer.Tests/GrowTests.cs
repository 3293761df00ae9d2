// SPDX-License-Identifier: MIT
using System.Text;
using Crfs.Format.Btrfs;
using Crfs.Testing;
using Crfs.Volume;
using Crfs.Volume.Files;
using Crfs.Volume.Transactions;

namespace Crfs.Writer.Tests;

/// <summary>
/// A volume whose backing file is longer than the volume: the writer uses only the size the
/// volume records until <see cref="WriteTransaction.GrowDevice"/> takes in the rest, and what it
/// writes after growing passes <c>btrfs check</c> and mounts at the new size.
/// </summary>
public sealed class GrowTests
{
    private const long SmallMiB = 160;
    private const long BackingMiB = 1024;

    [SkippableFact]
    public void LongerBackingFile_IsNotUsed_UntilTheDeviceIsGrown()
    {
        Skip.IfNot(BtrfsCheck.Available, "needs btrfs-progs");
        using TestImage image = TestImage.MkfsBtrfs(SmallMiB);
        Extend(image.Path);

        int fitted = FillWithMiBFiles(image.Path, limit: 400);

        // Nothing lies beyond the recorded size, or btrfs check would report dev extents past the device end.
        Assert.True(fitted < SmallMiB, $"{fitted} MiB fitted into a {SmallMiB} MiB volume: the writer used the backing file's tail");
        BtrfsCheck.AssertClean(image.Path, "full, before growing:");
    }

    [SkippableFact]
    public void GrowDevice_RecordsTheNewSize_AndTheNewSpaceHoldsData()
    {
        Skip.IfNot(BtrfsCheck.Available && Capabilities.CanLoopMountBtrfs, "needs btrfs-progs and loop mounts");
        using TestImage image = TestImage.MkfsBtrfs(SmallMiB);
        Extend(image.Path);
        using (VolumeWriter writer = VolumeWriter.Open(image.Path))
        {
            Assert.Equal(WriteStatus.InvalidArgument, writer.Execute(tx => tx.GrowDevice((BackingMiB + 1) << 20)));
            Assert.Equal(WriteStatus.InvalidArgument, writer.Execute(tx => tx.GrowDevice((SmallMiB - 1) << 20)));
            Assert.Equal(WriteStatus.Ok, writer.Execute(tx => tx.GrowDevice(BackingMiB << 20)));
            writer.Commit();
            Assert.False(writer.IsReadOnly);
        }

        using (BtrfsVolume volume = BtrfsVolume.Open([image.Path]))
        {
            Assert.Equal((ulong)BackingMiB << 20, volume.Superblock.TotalBytes);
            Assert.Equal((ulong)BackingMiB << 20, volume.Superblock.DevItem.TotalBytes);
        }

        int fitted = FillWithMiBFiles(image.Path, limit: 400);
        Assert.Equal(400, fitted);
        BtrfsCheck.AssertClean(image.Path, "after growing and writing 400 MiB:");
        using LoopMount mount = LoopMount.Mount(image.Path, readOnly: true);
        Assert.Equal(1L << 20, new FileInfo(Path.Combine(mount.MountPoint, "f399")).Length);
        string df = ProcessRunner.Run("df", "-B1", "--output=size", mount.MountPoint).StdOut;
        Assert.True(long.Parse(df.Split('\n')[1].Trim(), System.Globalization.CultureInfo.InvariantCulture) > (SmallMiB << 20) * 4, df);
    }

    private static void Extend(string path)
    {
        using var f = new FileStream(path, FileMode.Open, FileAccess.ReadWrite);
        f.SetLength(BackingMiB << 20);
    }

    /// <summary>Writes 1 MiB files f0, f1, ... until NoSpace or <paramref name="limit"/>; returns how many fitted.</summary>
    private static int FillWithMiBFiles(string image, int limit)
    {
        var fs = new FileSystemWriter();
        byte[] chunk = new byte[1 << 20];
        new Random(7).NextBytes(chunk);
        using VolumeWriter writer = VolumeWriter.Open(image);
        int i = 0;
        for (; i < limit; i++)
        {
            byte[] name = Encoding.ASCII.GetBytes($"f{i}");
            WriteStatus status = writer.Execute(tx =>
            {
                WriteStatus s = fs.Create(tx, 256, name, new NewInode(InodeMode.Regular | 0x1A4), out ulong ino);
                return s == WriteStatus.Ok ? fs.Write(tx, ino, 0, chunk) : s;
            });
            if (status == WriteStatus.NoSpace)
            {
                break;
            }

            Assert.Equal(WriteStatus.Ok, status);
            if (i % 32 == 31)
            {
                writer.Commit();
            }
        }

        writer.Commit();
        return i;
    }
}
