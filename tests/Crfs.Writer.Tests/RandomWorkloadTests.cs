// SPDX-License-Identifier: MIT
using Crfs.Testing;
using Crfs.Volume.Files;
using Crfs.Volume.Transactions;

namespace Crfs.Writer.Tests;

public sealed class RandomWorkloadTests
{
    private static int Scale => Environment.GetEnvironmentVariable("CRFS_STRESS") == "1" ? 10 : 1;

    [SkippableTheory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void SeededWorkload_MatchesModel_AndPassesCheck(int seed)
    {
        Skip.IfNot(BtrfsCheck.Available && Capabilities.CanLoopMountBtrfs, "needs btrfs-progs and loop mounts");
        using TestImage image = TestImage.Formatted(512);
        var model = new FileModel(Workload.Time0);
        var fs = new FileSystemWriter { Clock = () => Workload.Time0 };
        using (VolumeWriter writer = VolumeWriter.Open(image.Path))
        {
            writer.Execute(tx => fs.SetAttr(tx, 256, new SetAttributes { Atime = Workload.Time0, Mtime = Workload.Time0 }));
            var workload = new Workload(seed, fs, model);
            int operations = 4000 * Scale;
            for (int i = 1; i <= operations; i++)
            {
                workload.Step(writer);
                if (i % 500 == 0)
                {
                    writer.Commit();
                }

                if (i == 1000)
                {
                    BtrfsCheck.AssertClean(image.Path, $"after {i} operations:");
                }
            }

            writer.Commit();
        }

        BtrfsCheck.AssertClean(image.Path, "at the end:");
        using (var volume = Crfs.Volume.BtrfsVolume.Open([image.Path]))
        {
            // The workload must have grown real trees: node splits in the fs tree, several extent leaves.
            Assert.True(volume.GetTree(5).RootLevel >= 1, "the fs tree never grew past one leaf");
            Assert.True(volume.GetTree(2).RootLevel >= 1, "the extent tree never grew past one leaf");
        }

        using var expected = new ExpectedTree(model);
        using LoopMount mount = LoopMount.Mount(image.Path, readOnly: true);
        TreeManifest.AssertSame(expected.Manifest, TreeManifest.Capture(mount.MountPoint), ManifestFields.Settable);
    }
}
