// SPDX-License-Identifier: MIT
using Crfs.Testing;

namespace Crfs.MultiMount.Tests;

/// <summary>
/// Two clients creating in one directory at the same time: the directory's lock ping-pongs between
/// them on every create. The outcome must be what one local file system would show — every file
/// exactly once, seen the same from both clients — and, after both unmount, what the kernel's own
/// btrfs reads from the image. This class owns its cluster because it stops it.
/// </summary>
public sealed class MultiMountConcurrentCreateTests(MultiMountConcurrentCreateTests.Cluster cluster)
    : IClassFixture<MultiMountConcurrentCreateTests.Cluster>
{
    private const int A = 0;
    private const int B = 1;
    private const int PerClient = 60;

    [SkippableFact]
    public async Task CreatesFromBothClientsInOneDirectory_EndWithEveryFileExactlyOnceOnBothAndOnDisk()
    {
        Skip.If(cluster.SkipReason is not null, cluster.SkipReason);
        Skip.IfNot(Capabilities.CanLoopMountBtrfs, "needs kernel btrfs loop mounts");
        cluster.Run(A, "mkdir \"$1/shared\"");
        string Creates(string prefix) => $"for i in $(seq 1 {PerClient}); do echo \"{prefix}$i\" > \"$1/shared/{prefix}$i\"; done";

        ProcessResult[] results = await Task.WhenAll(cluster.BashAsync(A, Creates("a")), cluster.BashAsync(B, Creates("b")));
        Assert.All(results, r => Assert.True(r.ExitCode == 0, $"a creating client failed ({r.ExitCode}):\n{r.StdErr}"));

        string[] expected = [.. Enumerable.Range(1, PerClient).SelectMany(i => (string[])[$"a{i}", $"b{i}"]).Order(StringComparer.Ordinal)];
        Assert.Equal(expected, Lines(cluster.Run(A, "ls -A \"$1/shared\"")));
        Assert.Equal(expected, Lines(cluster.Run(B, "ls -A \"$1/shared\"")));
        Assert.Equal("b7\n", cluster.Run(A, "cat \"$1/shared/b7\""));
        Assert.Equal("a7\n", cluster.Run(B, "cat \"$1/shared/a7\""));

        await cluster.StopAsync();
        using LoopMount kernel = LoopMount.Mount(cluster.Image, readOnly: true);
        string shared = Path.Combine(kernel.MountPoint, "shared");
        Assert.Equal(expected, Directory.GetFileSystemEntries(shared).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        Assert.Equal("a13\n", File.ReadAllText(Path.Combine(shared, "a13")));
        Assert.Equal("b13\n", File.ReadAllText(Path.Combine(shared, "b13")));
    }

    private static string[] Lines(string output) => [.. output.Split('\n', StringSplitOptions.RemoveEmptyEntries).Order(StringComparer.Ordinal)];

    /// <summary>A cluster of its own (two clients), so stopping it disturbs no other class.</summary>
    public sealed class Cluster : MultiMountCluster;
}
