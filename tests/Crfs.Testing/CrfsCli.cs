// SPDX-License-Identifier: MIT
using System.Diagnostics;
using System.Text;
using Xunit;

namespace Crfs.Testing;

/// <summary>One finished run of the crfs CLI: the exit code, stdout as raw bytes, stderr as text.</summary>
public sealed record CliResult(IReadOnlyList<string> Arguments, int ExitCode, byte[] StdOut, string StdErr)
{
    public string StdOutText => Encoding.UTF8.GetString(StdOut);

    public string Describe() =>
        $"crfs {string.Join(' ', Arguments)} exited {ExitCode}\nstderr:\n{StdErr}" +
        (StdOut.Length < 4000 ? $"\nstdout:\n{StdOutText}" : $"\nstdout: {StdOut.Length} bytes");

    /// <summary>Non-empty stderr lines.</summary>
    public string[] StdErrLines => StdErr.Split('\n', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}

/// <summary>
/// Runs the CLI under test as a black box: <c>dotnet crfs.dll ...</c>, the crfs.dll copied into
/// this test assembly's directory by the project reference (or the one named by the CRFS_CLI
/// environment variable). stdout is captured as bytes because <c>cat</c> writes file contents.
/// </summary>
public static class CrfsCli
{
    public static string DllPath =>
        Environment.GetEnvironmentVariable("CRFS_CLI") is { Length: > 0 } overridden
            ? overridden
            : Path.Combine(AppContext.BaseDirectory, "crfs.dll");

    public static CliResult Run(params string[] arguments) => Run(arguments, TimeSpan.FromMinutes(10));

    public static CliResult Run(IReadOnlyList<string> arguments, TimeSpan timeout)
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(DllPath);
        foreach (string a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi) ?? throw new InvalidOperationException("could not start dotnet");
        var stdout = new MemoryStream();
        Task copy = p.StandardOutput.BaseStream.CopyToAsync(stdout);
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"crfs {string.Join(' ', arguments)} did not finish within {timeout}");
        }

        copy.Wait();
        return new CliResult(arguments, p.ExitCode, stdout.ToArray(), stderr.Result);
    }

    /// <summary>
    /// The CLI's failure contract: never an unhandled exception or a stack trace, and a failing
    /// exit comes with a message.
    /// </summary>
    public static void AssertNoCrash(CliResult r)
    {
        Assert.False(
            r.StdErr.Contains("Unhandled exception", StringComparison.Ordinal) || r.StdErr.Contains("\n   at ", StringComparison.Ordinal)
            || r.StdErr.StartsWith("   at ", StringComparison.Ordinal),
            "crashed with a stack trace: " + r.Describe());
        Assert.True(r.ExitCode is 0 or 1, "exit code is neither 0 nor 1: " + r.Describe());
        if (r.ExitCode != 0)
        {
            Assert.True(r.StdErrLines.Length > 0, "failed without a message: " + r.Describe());
        }
    }

    public static CliResult RunOk(params string[] arguments)
    {
        CliResult r = Run(arguments);
        AssertNoCrash(r);
        Assert.True(r.ExitCode == 0, r.Describe());
        return r;
    }
}
