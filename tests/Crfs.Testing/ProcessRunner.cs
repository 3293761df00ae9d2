// SPDX-License-Identifier: MIT
using System.Diagnostics;

namespace Crfs.Testing;

/// <summary>The result of a finished child process.</summary>
public sealed record ProcessResult(string FileName, IReadOnlyList<string> Arguments, int ExitCode, string StdOut, string StdErr)
{
    public string CommandLine => FileName + " " + string.Join(' ', Arguments);

    /// <summary>Throws with the command line and both streams when the exit code is not zero.</summary>
    public ProcessResult EnsureSuccess()
    {
        if (ExitCode != 0)
        {
            throw new InvalidOperationException($"'{CommandLine}' exited {ExitCode}\nstdout:\n{StdOut}\nstderr:\n{StdErr}");
        }

        return this;
    }
}

/// <summary>Runs external tools (mkfs.btrfs, mount, btrfs check, the crfs CLI) from tests.</summary>
public static class ProcessRunner
{
    public static ProcessResult Run(string fileName, params string[] arguments) =>
        Run(fileName, arguments, timeout: TimeSpan.FromMinutes(5));

    public static ProcessResult Run(string fileName, IReadOnlyList<string> arguments, TimeSpan timeout, string? stdin = null, string? workingDirectory = null)
    {
        var psi = new ProcessStartInfo(fileName)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            RedirectStandardInput = stdin is not null,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Environment.CurrentDirectory,
        };
        foreach (string a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        using var p = Process.Start(psi) ?? throw new InvalidOperationException($"could not start {fileName}");
        Task<string> stdout = p.StandardOutput.ReadToEndAsync();
        Task<string> stderr = p.StandardError.ReadToEndAsync();
        if (stdin is not null)
        {
            p.StandardInput.Write(stdin);
            p.StandardInput.Close();
        }

        if (!p.WaitForExit(timeout))
        {
            p.Kill(entireProcessTree: true);
            throw new TimeoutException($"'{fileName} {string.Join(' ', arguments)}' did not finish within {timeout}");
        }

        return new ProcessResult(fileName, arguments, p.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Runs a bash snippet; for pipelines that would be tedious as argument lists.</summary>
    public static ProcessResult Bash(string script, TimeSpan? timeout = null) =>
        Run("/bin/bash", ["-euo", "pipefail", "-c", script], timeout ?? TimeSpan.FromMinutes(10));

    public static bool CommandExists(string name) =>
        Run("/bin/sh", ["-c", $"command -v {name}"], TimeSpan.FromSeconds(10)).ExitCode == 0;
}
