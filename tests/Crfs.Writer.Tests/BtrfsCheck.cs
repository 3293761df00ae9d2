// SPDX-License-Identifier: MIT
using Crfs.Testing;

namespace Crfs.Writer.Tests;

/// <summary><c>btrfs check --readonly</c> as an oracle: clean means exit 0 and no error lines.</summary>
internal static class BtrfsCheck
{
    public static bool Available => Capabilities.HasMkfsBtrfs && ProcessRunner.CommandExists("btrfs");

    /// <summary>Null when the image is clean, else the checker's output.</summary>
    public static string? Problems(string image)
    {
        ProcessResult r = ProcessRunner.Run("btrfs", ["check", "--readonly", "--force", image], TimeSpan.FromMinutes(5));
        string all = r.StdOut + r.StdErr;
        bool errorLines = all.Split('\n').Any(l => l.Contains("ERROR", StringComparison.Ordinal) || l.Contains("errors found", StringComparison.Ordinal)
            || l.Contains("mismatch", StringComparison.Ordinal) || l.Contains("wanted", StringComparison.Ordinal));
        return r.ExitCode == 0 && !errorLines ? null : $"btrfs check exit {r.ExitCode}:\n{all}";
    }

    public static void AssertClean(string image, string context = "")
    {
        string? problems = Problems(image);
        Assert.True(problems is null, $"{context} {problems}");
    }
}
