// SPDX-License-Identifier: MIT
using Crfs.Testing;

namespace Crfs.Differential.Tests;

/// <summary>
/// <c>crfs mkfs</c> as a user runs it, judged by the two oracles nobody here wrote: btrfs-progs'
/// <c>btrfs check</c> and the kernel. The writer's own tests call the formatter directly; these
/// cover the command line (argument parsing, sizing, the new-file rule) end to end.
/// </summary>
public sealed class MkfsCommandTests
{
    [SkippableFact]
    public void Mkfs_Rootdir_KernelMountShowsTheSourceTreeExactly()
    {
        ImageCatalog.SkipUnlessAvailable();
        using var work = new TempDirectory("crfs-mkfs-cli");

        // The source lives on a btrfs of its own (ext4 cannot hold the tree's xattrs), mounted
        // noatime: reading a symlink's target would otherwise move its atime between the
        // capture of the expected manifest and the import.
        string sourceImage = work.Combine("source.img");
        ProcessRunner.Run("truncate", ["-s", "2G", sourceImage], TimeSpan.FromMinutes(1)).EnsureSuccess();
        ProcessRunner.Run("mkfs.btrfs", ["-f", "-q", sourceImage], TimeSpan.FromMinutes(2)).EnsureSuccess();
        using LoopMount sourceMount = LoopMount.Mount(sourceImage, readOnly: false, options: "noatime");
        string source = Path.Combine(sourceMount.MountPoint, "source");
        Directory.CreateDirectory(source);
        SourceTree.Populate(source, new SourceTreeOptions
        {
            Seed = 11,
            WideDirectoryEntries = 500,
            DeepDirectoryDepth = 12,
            LargeFileMiB = 3,
        });
        SourceTree.StampTimes(source, 11);
        TreeManifest expected = TreeManifest.Capture(source);

        string image = work.Combine("vol.img");
        CliResult made = CrfsCli.RunOk("mkfs", image, "--size", "512M", "--checksum", "xxhash", "--rootdir", source);
        Assert.True(new FileInfo(image).Length == 512L << 20, made.Describe());

        ProcessResult check = ProcessRunner.Run("btrfs", ["check", "--readonly", image], TimeSpan.FromMinutes(5));
        Assert.True(check.ExitCode == 0, $"btrfs check failed:\n{check.StdOut}\n{check.StdErr}");

        using LoopMount mount = LoopMount.Mount(image, readOnly: true);
        TreeManifest actual = TreeManifest.Capture(mount.MountPoint);
        TreeManifest.AssertSame(expected, actual, ManifestFields.Settable, compareRoot: false, context: "crfs mkfs --rootdir");
    }

    [SkippableFact]
    public void Mkfs_NewFileWithoutSize_IsAUsageErrorAndCreatesNothing()
    {
        Skip.IfNot(File.Exists(CrfsCli.DllPath), $"crfs CLI not built at {CrfsCli.DllPath}");
        using var work = new TempDirectory("crfs-mkfs-cli");
        string image = work.Combine("absent.img");

        CliResult r = CrfsCli.Run("mkfs", image);

        Assert.Equal(2, r.ExitCode);
        Assert.Contains("--size", r.StdErr, StringComparison.Ordinal);
        Assert.False(File.Exists(image));
    }

    [SkippableFact]
    public void Mkfs_ExistingFile_KeepsItsSizeAndIsMountable()
    {
        ImageCatalog.SkipUnlessAvailable();
        using var work = new TempDirectory("crfs-mkfs-cli");
        string image = work.Combine("existing.img");
        ProcessRunner.Run("truncate", ["-s", "300M", image], TimeSpan.FromMinutes(1)).EnsureSuccess();

        CrfsCli.RunOk("mkfs", image, "--label", "cli-test");

        Assert.Equal(300L << 20, new FileInfo(image).Length);
        ProcessResult check = ProcessRunner.Run("btrfs", ["check", "--readonly", image], TimeSpan.FromMinutes(5));
        Assert.True(check.ExitCode == 0, $"btrfs check failed:\n{check.StdOut}\n{check.StdErr}");
        ProcessResult label = ProcessRunner.Run("btrfs", ["filesystem", "label", image], TimeSpan.FromMinutes(1)).EnsureSuccess();
        Assert.Equal("cli-test", label.StdOut.Trim());
        using LoopMount mount = LoopMount.Mount(image, readOnly: true);
        Assert.Empty(Directory.EnumerateFileSystemEntries(mount.MountPoint));
    }
}
