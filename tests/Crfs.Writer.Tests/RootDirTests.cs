// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Testing;
using Crfs.Volume.Mkfs;
using Crfs.Volume.Transactions;

namespace Crfs.Writer.Tests;

public sealed class RootDirTests
{
    [SkippableTheory]
    [InlineData(ChecksumType.Crc32c)]
    [InlineData(ChecksumType.Blake2b)]
    public void RootDirImport_KernelShowsTheSourceExactly(ChecksumType checksum)
    {
        Skip.IfNot(BtrfsCheck.Available && Capabilities.CanLoopMountBtrfs, "needs btrfs-progs and loop mounts");
        using var scratch = new ScratchBtrfs(1L << 30); // a source file system that holds large xattrs
        string source = scratch.NewPath("rootdir");
        Directory.CreateDirectory(source);
        SourceTree.Populate(source, new SourceTreeOptions { Seed = 7, WideDirectoryEntries = 1500, DeepDirectoryDepth = 20 });
        // readlink moves a symlink's atime under relatime; freeze atimes so both sides see the same.
        ProcessRunner.Run("mount", ["-o", "remount,noatime", scratch.Root], TimeSpan.FromMinutes(1)).EnsureSuccess();
        TreeManifest expected = TreeManifest.Capture(source);
        using TestImage image = TestImage.Formatted(512, checksum);
        using (VolumeWriter writer = VolumeWriter.Open(image.Path))
        {
            new RootDirImporter(writer).Import(source);
        }

        BtrfsCheck.AssertClean(image.Path);
        using LoopMount mount = LoopMount.Mount(image.Path, readOnly: true);
        TreeManifest.AssertSame(expected, TreeManifest.Capture(mount.MountPoint), ManifestFields.Settable | ManifestFields.Ctime);
    }
}
