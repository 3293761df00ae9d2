// SPDX-License-Identifier: MIT
using System.Net;
using System.Security.Cryptography;
using Crfs.Protocol.Transports;
using Crfs.Server;
using Crfs.Testing;

namespace Crfs.Mount.Tests;

/// <summary>
/// The first end-to-end path: a kernel-formatted volume served by <see cref="CrfsServer"/> over TCP
/// loopback, mounted through <see cref="FuseBridge"/>, used by ordinary tools in another process
/// (so every request really crosses the kernel), unmounted with its final commit, then checked by
/// btrfs-progs and read back by the kernel's own btrfs.
/// </summary>
public sealed class CrfsMountTests
{
    private const string Workload = """
        set -euo pipefail
        cd "$1"
        mkdir docs
        echo hello > docs/a.txt
        printf 'second file\n' > docs/b.txt
        dd if=/dev/urandom of=big.bin bs=1M count=1 status=none
        sum=$(sha256sum big.bin | cut -d' ' -f1)
        test "$(cat docs/a.txt)" = hello
        test "$(cat docs/b.txt)" = "second file"
        test "$(stat -c %s big.bin)" = 1048576
        mv docs/b.txt docs/renamed.txt
        test "$(cat docs/renamed.txt)" = "second file"
        echo doomed > gone.txt
        rm gone.txt
        mkdir empty
        rmdir empty
        ls -A . | tr '\n' ' '
        echo
        ls -A docs | tr '\n' ' '
        echo
        echo "$sum"
        """;

    [SkippableFact]
    public async Task Mount_ShellWorkloadFromAnotherProcess_LeavesACleanVolumeTheKernelReadsBack()
    {
        SkipUnlessCapable();
        using var dir = new TempDirectory("crfs-mount");
        string image = MakeVolume(dir);

        string[] lines = (await MountAndRunAsync(image, dir.Combine("mnt"), Workload)).Split('\n');
        Assert.Equal(["big.bin", "docs"], Names(lines[0]));
        Assert.Equal(["a.txt", "renamed.txt"], Names(lines[1]));
        string bigHash = lines[2].Trim();

        AssertCheckClean(image);
        using LoopMount kernel = LoopMount.Mount(image, readOnly: true);
        string root = kernel.MountPoint;
        Assert.Equal(["big.bin", "docs"], Directory.GetFileSystemEntries(root).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal(["a.txt", "renamed.txt"], Directory.GetFileSystemEntries(Path.Combine(root, "docs")).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal("hello\n", File.ReadAllText(Path.Combine(root, "docs", "a.txt")));
        Assert.Equal("second file\n", File.ReadAllText(Path.Combine(root, "docs", "renamed.txt")));
        byte[] big = File.ReadAllBytes(Path.Combine(root, "big.bin"));
        Assert.Equal(1024 * 1024, big.Length);
        Assert.Equal(bigHash, Convert.ToHexStringLower(SHA256.HashData(big)));
    }

    /// <summary>
    /// A file created, written and unlinked inside one uncommitted transaction. Today the session
    /// sends the buffered WRITE of an inode whose items the same batch deletes, the server rejects
    /// the COMMIT (NotFound: "write inode N [0, 7): inode N does not exist once the batch's items
    /// are applied") and the session is evicted. The fix belongs below this project (FileSystem /
    /// Client transaction), so the test is skipped until then.
    /// </summary>
    [SkippableFact]
    public async Task Mount_FileWrittenAndRemovedBeforeAnyCommit_UnmountCommitSucceeds()
    {
        SkipUnlessCapable();
        using var dir = new TempDirectory("crfs-mount");
        string image = MakeVolume(dir);

        string output = await MountAndRunAsync(image, dir.Combine("mnt"), """
            set -euo pipefail
            cd "$1"
            echo doomed > gone.txt
            rm gone.txt
            ls -A . | wc -l
            """);

        Assert.Equal("0", output.Trim());
        AssertCheckClean(image);
    }

    private static void SkipUnlessCapable()
    {
        Skip.IfNot(Capabilities.IsRoot, "needs root to mount");
        Skip.IfNot(Capabilities.HasDevFuse, "needs /dev/fuse");
        Skip.IfNot(Capabilities.HasMkfsBtrfs, "needs mkfs.btrfs");
        Skip.IfNot(Capabilities.CanLoopMountBtrfs, "needs kernel btrfs loop mounts");
    }

    private static string MakeVolume(TempDirectory dir)
    {
        string image = dir.Combine("volume.img");
        BtrfsImages.MakeEmpty(image, 256L << 20);
        return image;
    }

    /// <summary>
    /// Serves <paramref name="image"/>, mounts it, runs <paramref name="script"/> (with the mount
    /// point as $1) in a separate bash, unmounts with the final commit and stops the server.
    /// Returns the script's standard output.
    /// </summary>
    private static async Task<string> MountAndRunAsync(string image, string mountPoint, string script)
    {
        Directory.CreateDirectory(mountPoint);
        await using CrfsServer server = CrfsServer.Open(image);
        await using CrfsTcpListener listener = CrfsTcpListener.Start(new IPEndPoint(IPAddress.Loopback, 0));
        using var stop = new CancellationTokenSource();
        Task serving = server.ListenAsync(listener, stop.Token);
        try
        {
            CrfsMount mount = await CrfsMount.MountAsync(listener.LocalEndPoint, mountPoint);
            try
            {
                ProcessResult r = ProcessRunner.Run("bash", ["-c", script, "workload", mountPoint], TimeSpan.FromMinutes(2));
                Assert.True(r.ExitCode == 0, $"workload failed (exit {r.ExitCode}):\n{r.StdOut}\n{r.StdErr}");
                mount.Unmount();
                Assert.True(await mount.RunUntilUnmountedAsync(), "the final commit on unmount failed");
                return r.StdOut;
            }
            finally
            {
                // Unmounts (lazily if busy) when the workload failed; a no-op after a clean run.
                await mount.DisposeAsync();
            }
        }
        finally
        {
            await stop.CancelAsync();
            await serving;
        }
    }

    private static void AssertCheckClean(string image)
    {
        ProcessResult check = ProcessRunner.Run("btrfs", ["check", "--readonly", "--force", image], TimeSpan.FromMinutes(2));
        string all = check.StdOut + check.StdErr;
        Assert.True(check.ExitCode == 0 && !all.Contains("ERROR", StringComparison.Ordinal), $"btrfs check exit {check.ExitCode}:\n{all}");
    }

    private static string[] Names(string line) => [.. line.Split(' ', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal)];
}
