// SPDX-License-Identifier: MIT
using Crfs.Testing;

namespace Crfs.Server.Tests;

/// <summary><c>btrfs check --readonly</c> as an oracle: clean means exit 0 and no error lines.</summary>
internal static class BtrfsCheck
{
    public static bool Available => ProcessRunner.CommandExists("btrfs");

    public static void AssertClean(string image, string context)
    {
        ProcessResult r = ProcessRunner.Run("btrfs", ["check", "--readonly", "--force", image], TimeSpan.FromMinutes(5));
        string all = r.StdOut + r.StdErr;
        bool errorLines = all.Split('\n').Any(l => l.Contains("ERROR", StringComparison.Ordinal) || l.Contains("errors found", StringComparison.Ordinal)
            || l.Contains("mismatch", StringComparison.Ordinal) || l.Contains("wanted", StringComparison.Ordinal));
        Assert.True(r.ExitCode == 0 && !errorLines, $"{context} btrfs check exit {r.ExitCode}:\n{all}");
    }
}
