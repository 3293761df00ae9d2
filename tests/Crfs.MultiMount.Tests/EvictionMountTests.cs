// SPDX-License-Identifier: MIT
using Crfs.Server;
using Crfs.Server.Locks;
using Crfs.Testing;

namespace Crfs.MultiMount.Tests;

/// <summary>
/// Eviction through real mounts: client A (a <c>crfs mount</c> process) holds the root directory's
/// WRITE lock with a change it has not committed, and is frozen with SIGSTOP. Client B's next
/// operation needs that lock; the server evicts A at its revoke timeout (3 s here) and B proceeds,
/// seeing A's durable state but not its uncommitted change. After SIGCONT, A fails its operations
/// with EIO until it has a new session, then works again and sees B's changes.
/// </summary>
public sealed class EvictionMountTests(EvictionMountTests.Cluster cluster) : IClassFixture<EvictionMountTests.Cluster>
{
    private const int A = 0;
    private const int B = 1;

    [SkippableFact]
    public async Task AStoppedMountHoldingAWriteLock_IsEvicted_TheOtherProceeds_AndAfterContinueItWorksAgain()
    {
        Skip.If(cluster.SkipReason is not null, cluster.SkipReason);
        cluster.Run(A, "echo durable > \"$1/kept\"; sync \"$1/kept\"; echo lost > \"$1/unsynced\"");
        cluster.Signal(A, "STOP");
        try
        {
            // Needs WRITE on the root group, which A holds: answered only once A is evicted.
            cluster.Run(B, "echo from-b > \"$1/theirs\"");
            Assert.Equal("durable\n", cluster.Run(B, "cat \"$1/kept\""));
            Assert.Equal("absent\n", cluster.Run(B, "test -e \"$1/unsynced\" && echo present || echo absent"));
        }
        finally
        {
            cluster.Signal(A, "CONT");
        }

        // A comes back: until its new session is up its operations fail (EIO), never succeed on
        // stale state; then it sees B's file and not the change it lost.
        var outcomes = new List<string>();
        string seen = "";
        for (int attempt = 0; attempt < 200 && seen != "from-b\n"; attempt++)
        {
            ProcessResult r = cluster.Bash(A, "cat \"$1/theirs\"");
            seen = r.ExitCode == 0 ? r.StdOut : "";
            outcomes.Add(r.ExitCode == 0 ? "ok " + r.StdOut.Trim() : r.StdErr.Trim());
            if (seen != "from-b\n")
            {
                await Task.Delay(100);
            }
        }

        Assert.True(seen == "from-b\n", "A never saw B's file after SIGCONT: " + string.Join(" | ", outcomes));
        Assert.True(outcomes.Count > 1 && outcomes.SkipLast(1).All(o => o.Contains("Input/output error", StringComparison.Ordinal)),
            "A's first operations after SIGCONT must fail with EIO, then work: " + string.Join(" | ", outcomes));
        Assert.Equal("absent\n", cluster.Run(A, "test -e \"$1/unsynced\" && echo present || echo absent"));
        Assert.Equal("durable\n", cluster.Run(A, "cat \"$1/kept\""));
        cluster.Run(A, "echo again > \"$1/after\"");
        Assert.Equal("again\n", cluster.Run(B, "cat \"$1/after\""));

        await cluster.StopAsync();
        ProcessResult check = ProcessRunner.Run("btrfs", ["check", "--readonly", cluster.Image], TimeSpan.FromMinutes(2));
        Assert.True(check.ExitCode == 0, $"btrfs check:\n{check.StdOut}\n{check.StdErr}");
    }

    /// <summary>Two clients of a server that evicts after a 3 s unanswered revoke; its own, since the test signals and stops it.</summary>
    public sealed class Cluster() : MultiMountCluster(2, new CrfsServerOptions
    {
        Locks = new LockServerOptions { RevokeTimeout = TimeSpan.FromSeconds(3), RevokeWarning = TimeSpan.FromSeconds(1), RevokeResendInterval = TimeSpan.FromSeconds(1) },
    });
}
