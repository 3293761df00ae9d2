// SPDX-License-Identifier: MIT
using System.Text;
using Crfs.Format.Btrfs;
using Crfs.Testing;
using Crfs.Volume.Files;
using Crfs.Volume.Transactions;

namespace Crfs.Writer.Tests;

/// <summary>Volumes passing back and forth between the kernel and the writer.</summary>
public sealed class RoundTripTests
{
    private const ManifestFields Fields = ManifestFields.Settable & ~ManifestFields.Atime;

    [SkippableFact]
    public void KernelWrittenVolume_ModifiedByWriter_KernelSeesBoth()
    {
        Skip.IfNot(BtrfsCheck.Available && Capabilities.CanLoopMountBtrfs, "needs btrfs-progs and loop mounts");
        using TestImage image = TestImage.MkfsBtrfs(512);
        byte[] big = new byte[4 << 20];
        new Random(9).NextBytes(big);
        TreeManifest kernelSrc;
        using (LoopMount rw = LoopMount.Mount(image.Path, readOnly: false))
        {
            string src = Path.Combine(rw.MountPoint, "src");
            Directory.CreateDirectory(src);
            SourceTree.Populate(src, new SourceTreeOptions { Seed = 3, WideDirectoryEntries = 600, DeepDirectoryDepth = 10, LargeFileMiB = 3 });
            Directory.CreateDirectory(Path.Combine(rw.MountPoint, "k"));
            File.WriteAllBytes(Path.Combine(rw.MountPoint, "k", "big"), big);
            ProcessRunner.Run("sync", [], TimeSpan.FromMinutes(1));
            kernelSrc = TreeManifest.Capture(src);
        }

        BtrfsCheck.AssertClean(image.Path, "kernel-written:");
        FileModel model;
        using (VolumeWriter writer = VolumeWriter.Open(image.Path))
        {
            model = RunWorkload(writer, "w", seed: 21, steps: 600);

            // Overwrite part of a kernel-written file and cut it: bookends of a foreign extent.
            var fs = new FileSystemWriter();
            writer.Execute(tx =>
            {
                Assert.True(fs.TryLookup(tx, 256, "k"u8, out ulong k, out _));
                Assert.True(fs.TryLookup(tx, k, "big"u8, out ulong ino, out _));
                Assert.Equal(WriteStatus.Ok, fs.Write(tx, ino, 1_500_000, new byte[1 << 20]));
                Assert.Equal(WriteStatus.Ok, fs.Truncate(tx, ino, 3_000_005));
                return 0;
            });
            writer.Commit();
        }

        Array.Clear(big, 1_500_000, 1 << 20);
        BtrfsCheck.AssertClean(image.Path, "after the writer:");
        using var expected = new ExpectedTree(model);
        using LoopMount ro = LoopMount.Mount(image.Path, readOnly: true);
        TreeManifest.AssertSame(kernelSrc, TreeManifest.Capture(Path.Combine(ro.MountPoint, "src")), Fields);
        TreeManifest.AssertSame(expected.Manifest, TreeManifest.Capture(Path.Combine(ro.MountPoint, "w")), ManifestFields.Settable, compareRoot: false);
        Assert.True(File.ReadAllBytes(Path.Combine(ro.MountPoint, "k", "big")).AsSpan().SequenceEqual(big.AsSpan(0, 3_000_005)));
    }

    [SkippableFact]
    public void WriterMadeVolume_ModifiedByKernel_ThenWrittenByTheWriterAgain()
    {
        Skip.IfNot(BtrfsCheck.Available && Capabilities.CanLoopMountBtrfs, "needs btrfs-progs and loop mounts");
        using TestImage image = TestImage.Formatted(512);
        FileModel a;
        using (VolumeWriter writer = VolumeWriter.Open(image.Path))
        {
            a = RunWorkload(writer, "a", seed: 31, steps: 500);
        }

        using var expectedA = new ExpectedTree(a);
        TreeManifest afterKernelA;
        TreeManifest kern;
        using (LoopMount rw = LoopMount.Mount(image.Path, readOnly: false))
        {
            string dirA = Path.Combine(rw.MountPoint, "a");
            TreeManifest.AssertSame(expectedA.Manifest, TreeManifest.Capture(dirA), ManifestFields.Settable, compareRoot: false, context: "kernel reading the writer's files");

            // The kernel frees half of the writer's files and adds its own.
            foreach (string entry in Directory.EnumerateFileSystemEntries(dirA).Order(StringComparer.Ordinal).Where((_, i) => i % 2 == 0))
            {
                ProcessRunner.Run("rm", ["-rf", "--", entry], TimeSpan.FromMinutes(1)).EnsureSuccess();
            }

            string kernDir = Path.Combine(rw.MountPoint, "kern");
            Directory.CreateDirectory(kernDir);
            SourceTree.Populate(kernDir, new SourceTreeOptions { Seed = 4, WideDirectoryEntries = 300, DeepDirectoryDepth = 5, LargeFileMiB = 2 });
            ProcessRunner.Run("sync", [], TimeSpan.FromMinutes(1));
            afterKernelA = TreeManifest.Capture(dirA);
            kern = TreeManifest.Capture(kernDir);
        }

        BtrfsCheck.AssertClean(image.Path, "after the kernel:");
        FileModel b;
        using (VolumeWriter writer = VolumeWriter.Open(image.Path))
        {
            b = RunWorkload(writer, "b", seed: 41, steps: 500);
        }

        BtrfsCheck.AssertClean(image.Path, "after the writer again:");
        using var expectedB = new ExpectedTree(b);
        using LoopMount ro = LoopMount.Mount(image.Path, readOnly: true);
        TreeManifest.AssertSame(afterKernelA, TreeManifest.Capture(Path.Combine(ro.MountPoint, "a")), Fields);
        TreeManifest.AssertSame(kern, TreeManifest.Capture(Path.Combine(ro.MountPoint, "kern")), Fields);
        TreeManifest.AssertSame(expectedB.Manifest, TreeManifest.Capture(Path.Combine(ro.MountPoint, "b")), ManifestFields.Settable, compareRoot: false);
    }

    // A seeded workload inside a new top-level directory `name`, committed every 100 steps.
    private static FileModel RunWorkload(VolumeWriter writer, string name, int seed, int steps)
    {
        var fs = new FileSystemWriter { Clock = () => Workload.Time0 };
        ulong dir = writer.Execute(tx =>
        {
            Assert.Equal(WriteStatus.Ok, fs.Create(tx, 256, Encoding.UTF8.GetBytes(name), new NewInode(InodeMode.Directory | 0x1ED), out ulong ino));
            return ino;
        });
        var model = new FileModel(Workload.Time0, dir);
        var workload = new Workload(seed, fs, model, maxWrite: 128 * 1024);
        for (int i = 1; i <= steps; i++)
        {
            workload.Step(writer);
            if (i % 100 == 0)
            {
                writer.Commit();
            }
        }

        writer.Commit();
        return model;
    }
}
