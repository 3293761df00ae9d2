// SPDX-License-Identifier: MIT
using Crfs.Testing;

namespace Crfs.Mount.Tests;

/// <summary>
/// What a CRFS client promises about durability, checked the hard way: the client is a separate
/// <c>crfs mount</c> process, files are written through the kernel, one durability step is taken
/// (fsync of the files, <c>crfs sync</c>, or <c>crfs umount</c>), and then the client is killed
/// with SIGKILL (or, after umount, has exited by itself). Its dead mount is detached, the server
/// stopped, and then two oracles CRFS did not write judge the volume: <c>btrfs check</c> must be
/// clean, and a kernel read-only loop mount must show exactly the files written — names, sizes,
/// bytes and modes.
/// </summary>
public sealed class DurabilityTests
{
    /// <summary>The files every test writes: a directory, small, empty, executable and multi-extent files.</summary>
    private static readonly ExpectedEntry[] s_written =
    [
        new("docs", Directory: true, Mode: 0b111_101_000, Bytes: []),
        new("docs/a.txt", Directory: false, Mode: 0b110_100_000, Bytes: "hello\n"u8.ToArray()),
        new("docs/big.bin", Directory: false, Mode: 0b110_100_100, Bytes: SeededBytes(300 * 1024 + 17, seed: 7)),
        new("run.sh", Directory: false, Mode: 0b111_101_101, Bytes: "#!/bin/sh\necho run\n"u8.ToArray()),
        new("empty", Directory: false, Mode: 0b110_000_000, Bytes: []),
    ];

    public enum Step
    {
        FsyncEachFile,
        CrfsSync,
        CrfsUmount,
    }

    [SkippableTheory]
    [InlineData(Step.FsyncEachFile)]
    [InlineData(Step.CrfsSync)]
    [InlineData(Step.CrfsUmount)]
    public async Task Durability_StepThenKill9_KernelShowsExactlyTheFilesWritten(Step step)
    {
        CommandsHarness.SkipUnlessCapable();
        await using CommandsHarness stage = await CommandsHarness.StartAsync();
        stage.StartForegroundClient();

        WriteAll(stage.MountPoint, s_written, fsyncEach: step == Step.FsyncEachFile);
        switch (step)
        {
            case Step.CrfsSync:
                CrfsCli.RunOk("sync", stage.MountPoint);
                break;
            case Step.CrfsUmount:
                CrfsCli.RunOk("umount", stage.MountPoint);
                Assert.True(stage.Client!.WaitForExit(TimeSpan.FromSeconds(30)), "crfs mount did not exit after crfs umount:\n" + stage.ClientLog);
                Assert.True(stage.Client.ExitCode == 0, $"crfs mount exited {stage.Client.ExitCode}:\n{stage.ClientLog}");
                Assert.Null(Mount.Control.MountTable.Find(stage.MountPoint));
                break;
        }

        stage.KillClient();
        stage.ForceUnmountLeftovers();
        await stage.StopServerAsync();

        AssertCheckClean(stage.Image);
        AssertKernelShows(stage.Image, s_written, optional: []);
    }

    [SkippableFact]
    public async Task Durability_WritesAfterTheLastSyncThenKill9_SyncedFilesSurviveAndVolumeIsConsistent()
    {
        CommandsHarness.SkipUnlessCapable();
        await using CommandsHarness stage = await CommandsHarness.StartAsync();
        stage.StartForegroundClient();

        WriteAll(stage.MountPoint, s_written, fsyncEach: false);
        CrfsCli.RunOk("sync", stage.MountPoint);
        ExpectedEntry[] late =
        [
            new("late.txt", Directory: false, Mode: 0b110_100_100, Bytes: "written after the sync\n"u8.ToArray()),
            new("docs/late.bin", Directory: false, Mode: 0b110_100_100, Bytes: SeededBytes(64 * 1024, seed: 9)),
        ];
        WriteAll(stage.MountPoint, late, fsyncEach: false);
        File.Delete(Path.Combine(stage.MountPoint, "docs", "a.txt"));

        stage.KillClient();
        stage.ForceUnmountLeftovers();
        await stage.StopServerAsync();

        // The unsynced changes (two files, one unlink) may be lost, all or in part, each commit
        // whole; what was synced must be there unless an unsynced commit replaced it.
        AssertCheckClean(stage.Image);
        AssertKernelShows(stage.Image, [.. s_written.Where(e => e.Path != "docs/a.txt")], optional: [.. late, s_written[1]]);
    }

    private sealed record ExpectedEntry(string Path, bool Directory, int Mode, byte[] Bytes);

    private static void WriteAll(string root, IEnumerable<ExpectedEntry> entries, bool fsyncEach)
    {
        foreach (ExpectedEntry e in entries)
        {
            string path = Path.Combine(root, e.Path);
            if (e.Directory)
            {
                Directory.CreateDirectory(path);
                File.SetUnixFileMode(path, (UnixFileMode)e.Mode);
                continue;
            }

            using var file = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
            file.Write(e.Bytes);
            File.SetUnixFileMode(file.SafeFileHandle, (UnixFileMode)e.Mode);
            if (fsyncEach)
            {
                file.Flush(flushToDisk: true);
            }
        }
    }

    private static void AssertCheckClean(string image)
    {
        ProcessResult check = ProcessRunner.Run("btrfs", ["check", "--readonly", "--force", image], TimeSpan.FromMinutes(2));
        string all = check.StdOut + check.StdErr;
        Assert.True(check.ExitCode == 0 && !all.Contains("ERROR", StringComparison.Ordinal), $"btrfs check exit {check.ExitCode}:\n{all}");
    }

    /// <summary>
    /// The kernel's view must hold every entry of <paramref name="required"/> exactly, may hold
    /// entries of <paramref name="optional"/> (exactly as written), and nothing else.
    /// </summary>
    private static void AssertKernelShows(string image, ExpectedEntry[] required, ExpectedEntry[] optional)
    {
        using LoopMount kernel = LoopMount.Mount(image, readOnly: true);
        string root = kernel.MountPoint;
        var present = Directory.EnumerateFileSystemEntries(root, "*", SearchOption.AllDirectories)
            .Select(p => Path.GetRelativePath(root, p))
            .ToHashSet(StringComparer.Ordinal);
        foreach (ExpectedEntry e in required)
        {
            Assert.True(present.Contains(e.Path), $"'{e.Path}' is missing; the kernel shows: {string.Join(", ", present.Order(StringComparer.Ordinal))}");
            AssertSame(root, e);
        }

        foreach (ExpectedEntry e in optional.Where(e => present.Contains(e.Path)))
        {
            AssertSame(root, e);
        }

        var allowed = required.Concat(optional).Select(e => e.Path).ToHashSet(StringComparer.Ordinal);
        string[] unexpected = [.. present.Where(p => !allowed.Contains(p)).Order(StringComparer.Ordinal)];
        Assert.True(unexpected.Length == 0, $"the kernel shows entries nobody wrote: {string.Join(", ", unexpected)}");
    }

    private static void AssertSame(string root, ExpectedEntry e)
    {
        string path = Path.Combine(root, e.Path);
        Assert.Equal(e.Directory, Directory.Exists(path));
        Assert.True((int)File.GetUnixFileMode(path) == e.Mode, $"'{e.Path}' has mode {Convert.ToString((int)File.GetUnixFileMode(path), 8)}, expected {Convert.ToString(e.Mode, 8)}");
        if (!e.Directory)
        {
            byte[] actual = File.ReadAllBytes(path);
            Assert.True(actual.Length == e.Bytes.Length, $"'{e.Path}' has {actual.Length} bytes, expected {e.Bytes.Length}");
            Assert.True(actual.AsSpan().SequenceEqual(e.Bytes), $"'{e.Path}' has other bytes than were written");
        }
    }

    private static byte[] SeededBytes(int length, int seed)
    {
        byte[] bytes = new byte[length];
        new Random(seed).NextBytes(bytes);
        return bytes;
    }
}
