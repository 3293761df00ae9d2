// SPDX-License-Identifier: MIT
using System.Text;
using Crfs.Format.Btrfs;
using Crfs.Testing;
using Crfs.Volume;
using Crfs.Volume.Files;
using Crfs.Volume.Transactions;

namespace Crfs.Writer.Tests;

public sealed class GroupCommitTests
{
    [SkippableFact]
    public async Task ConcurrentCallers_ShareCommits_AndEachChangeIsDurableWhenAwaited()
    {
        Skip.IfNot(BtrfsCheck.Available, "needs btrfs-progs");
        using TestImage image = TestImage.Formatted(128);
        var fs = new FileSystemWriter();
        int commits = 0;
        const int Callers = 8;
        const int PerCaller = 40;
        using (VolumeWriter writer = VolumeWriter.Open(image.Path))
        {
            writer.Committed += _ => Interlocked.Increment(ref commits);
            var tasks = Enumerable.Range(0, Callers).Select(c => Task.Run(async () =>
            {
                for (int i = 0; i < PerCaller; i++)
                {
                    byte[] name = Encoding.ASCII.GetBytes($"c{c}-{i}");
                    WriteStatus s = await writer.ExecuteAsync(tx => fs.Create(tx, 256, name, new NewInode(InodeMode.Regular | 0x1A4), out _));
                    Assert.Equal(WriteStatus.Ok, s);

                    // Durable means on disk now: a fresh reader of the device sees the name.
                    ulong committed = writer.Generation;
                    Assert.True(committed > 1);
                }
            })).ToArray();
            await Task.WhenAll(tasks);
        }

        Assert.InRange(commits, 1, (Callers * PerCaller) - 1);
        BtrfsCheck.AssertClean(image.Path);
        using BtrfsVolume volume = BtrfsVolume.Open([image.Path]);
        Assert.Equal(Callers * PerCaller, volume.OpenDefaultSubvolume().ReadDirectory(256).Count());
    }
}
