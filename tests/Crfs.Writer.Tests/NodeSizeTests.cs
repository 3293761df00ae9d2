// SPDX-License-Identifier: MIT
using Crfs.Testing;
using Crfs.Volume.Files;
using Crfs.Volume.Transactions;

namespace Crfs.Writer.Tests;

public sealed class NodeSizeTests
{
    /// <summary>Small nodes make deep trees (many splits, merges and root changes); large nodes make wide ones.</summary>
    [SkippableTheory]
    [InlineData("4096")]
    [InlineData("65536")]
    public void WorkloadOnMkfsVolumeWithNodeSize_MatchesModel_AndPassesCheck(string nodeSize)
    {
        Skip.IfNot(BtrfsCheck.Available && Capabilities.CanLoopMountBtrfs, "needs btrfs-progs and loop mounts");
        using TestImage image = TestImage.MkfsBtrfs(512, "-n", nodeSize);
        FileModel model;
        using (VolumeWriter writer = VolumeWriter.Open(image.Path))
        {
            var fs = new FileSystemWriter { Clock = () => Workload.Time0 };
            writer.Execute(tx => fs.SetAttr(tx, 256, new SetAttributes { Atime = Workload.Time0, Mtime = Workload.Time0 }));
            model = new FileModel(Workload.Time0);
            var workload = new Workload(int.Parse(nodeSize, System.Globalization.CultureInfo.InvariantCulture), fs, model, maxWrite: 64 * 1024);
            int steps = nodeSize == "4096" ? 6000 : 2000;
            for (int i = 1; i <= steps; i++)
            {
                workload.Step(writer);
                if (i % 1000 == 0)
                {
                    writer.Commit();
                }
            }

            writer.Commit();
        }

        BtrfsCheck.AssertClean(image.Path);
        using (var volume = Crfs.Volume.BtrfsVolume.Open([image.Path]))
        {
            Assert.Equal(int.Parse(nodeSize, System.Globalization.CultureInfo.InvariantCulture), volume.NodeSize);
            Assert.True(volume.GetTree(5).RootLevel >= (nodeSize == "4096" ? 2 : 1), $"fs tree level {volume.GetTree(5).RootLevel}");
        }

        using var expected = new ExpectedTree(model);
        using LoopMount mount = LoopMount.Mount(image.Path, readOnly: true);
        TreeManifest.AssertSame(expected.Manifest, TreeManifest.Capture(mount.MountPoint), ManifestFields.Settable);
    }
}
