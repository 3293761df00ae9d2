// SPDX-License-Identifier: MIT
using System.Text;
using Crfs.Testing;
using Microsoft.Win32.SafeHandles;

namespace Crfs.MultiMount.Tests;

/// <summary>
/// Open-but-unlinked across real mounts: a file held open through mount A stays readable there after
/// mount B removes its last name (no silly rename, no ESTALE), and once A closes it nothing is left:
/// no inode, no ORPHAN_ITEM, and <c>btrfs check</c> is clean.
/// </summary>
public sealed class InUseMountTests(InUseMountTests.Cluster cluster) : IClassFixture<InUseMountTests.Cluster>
{
    private const int A = 0;
    private const int B = 1;

    [SkippableFact]
    public async Task AFileOpenOnOneMount_SurvivesItsUnlinkOnTheOther_AndIsGoneAfterTheLastClose()
    {
        Skip.If(cluster.SkipReason is not null, cluster.SkipReason);
        cluster.Run(A, "printf 'open elsewhere' > \"$1/held\"; sync \"$1/held\"");

        using (SafeFileHandle held = File.OpenHandle(Path.Combine(cluster.MountPoint(A), "held"), FileMode.Open, FileAccess.Read))
        {
            cluster.Run(B, "rm \"$1/held\"; test ! -e \"$1/held\"");
            Assert.Equal("absent\n", cluster.Run(A, "test -e \"$1/held\" && echo present || echo absent"));

            byte[] buffer = new byte[64];
            int n = RandomAccess.Read(held, buffer, 0);
            Assert.Equal("open elsewhere", Encoding.UTF8.GetString(buffer, 0, n));
        }

        cluster.Run(A, "sync -f \"$1\"");
        await cluster.StopAsync();

        ProcessResult check = ProcessRunner.Run("btrfs", ["check", "--readonly", cluster.Image], TimeSpan.FromMinutes(2));
        Assert.True(check.ExitCode == 0, $"btrfs check:\n{check.StdOut}\n{check.StdErr}");
        ProcessResult dump = ProcessRunner.Run("btrfs", ["inspect-internal", "dump-tree", "-t", "5", cluster.Image], TimeSpan.FromMinutes(1));
        Assert.Equal(0, dump.ExitCode);
        Assert.DoesNotContain("ORPHAN", dump.StdOut, StringComparison.Ordinal);
        Assert.DoesNotContain("name: held", dump.StdOut, StringComparison.Ordinal);
    }

    /// <summary>A cluster of its own (two clients), so stopping it disturbs no other class.</summary>
    public sealed class Cluster : MultiMountCluster;
}
