// SPDX-License-Identifier: MIT
using System.Diagnostics;
using Crfs.Testing;

namespace Crfs.Differential.Tests;

/// <summary>
/// The README's first command as a user runs it: <c>crfs up</c> creates the default volume from the
/// embedded sample, serves and mounts it; what a shell writes through the mount is on the volume
/// once <c>crfs umount</c> returns and <c>crfs up</c> exits, and btrfs-progs accepts the volume.
/// The 128 MiB sample is grown on creation, so the mount holds more than the sample's size.
/// </summary>
public sealed class UpCommandTests
{
    [SkippableFact]
    public void Up_ThenWriteThroughTheMountThenUmount_VolumeHoldsTheFilesAndChecksClean()
    {
        Skip.IfNot(Capabilities.IsRoot && Capabilities.HasDevFuse && Capabilities.HasMkfsBtrfs, "needs root, /dev/fuse and btrfs-progs");
        Skip.IfNot(File.Exists(CrfsCli.DllPath), $"crfs CLI not built at {CrfsCli.DllPath}");
        using var home = new TempDirectory("crfs-up");
        string mnt = home.Combine("mnt");
        string volume = home.Combine("default.img");

        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        psi.ArgumentList.Add(CrfsCli.DllPath);
        psi.ArgumentList.Add("up");
        psi.ArgumentList.Add("--size");
        psi.ArgumentList.Add("2G");
        psi.Environment["CRFS_HOME"] = home.Path;
        using Process up = Process.Start(psi) ?? throw new InvalidOperationException("could not start crfs up");
        Task<string> stderr = up.StandardError.ReadToEndAsync();
        var stdout = new System.Text.StringBuilder();
        try
        {
            // Wait for the line that says the mount is ready.
            while (up.StandardOutput.ReadLine() is string line)
            {
                stdout.AppendLine(line);
                if (line.Contains("mounted at", StringComparison.Ordinal))
                {
                    break;
                }
            }

            Assert.True(File.Exists(Path.Combine(mnt, "WELCOME.txt")), $"the sample volume is not visible at {mnt}:\n{stdout}");
            ProcessRunner.Bash($"cd '{mnt}' && mkdir -p made/here && printf 'through the mount\\n' > made/here/note.txt && ln made/here/note.txt made/link.txt && test \"$(cat made/link.txt)\" = 'through the mount'"
                + " && dd if=/dev/urandom of=made/big.bin bs=1M count=300 status=none")
                .EnsureSuccess();
            string df = ProcessRunner.Run("stat", "-f", "-c", "%b %S", mnt).EnsureSuccess().StdOut;
            long[] blocks = [.. df.Split(' ').Select(long.Parse)];
            Assert.True(blocks[0] * blocks[1] > 1L << 30, $"the mount reports {blocks[0]} blocks of {blocks[1]} bytes: the volume was not grown to 2 GiB");

            CrfsCli.RunOk("umount", mnt);
            Assert.True(up.WaitForExit(TimeSpan.FromMinutes(2)), "crfs up did not exit after crfs umount");
            Task<string> rest = up.StandardOutput.ReadToEndAsync();
            Assert.True(up.ExitCode == 0, $"crfs up exited {up.ExitCode}\nstdout:\n{stdout}{rest.Result}\nstderr:\n{stderr.Result}");
        }
        finally
        {
            if (!up.HasExited)
            {
                ProcessRunner.Run("umount", ["-l", mnt], TimeSpan.FromMinutes(1));
                up.Kill(entireProcessTree: true);
            }
        }

        ProcessResult check = ProcessRunner.Run("btrfs", ["check", "--readonly", volume], TimeSpan.FromMinutes(5));
        Assert.True(check.ExitCode == 0, $"btrfs check failed:\n{check.StdOut}\n{check.StdErr}");
        CliResult cat = CrfsCli.RunOk("inspect", "cat", volume, "/made/here/note.txt");
        Assert.Equal("through the mount\n", cat.StdOutText);
        CliResult ls = CrfsCli.RunOk("inspect", "ls", volume, "/made");
        Assert.Contains("link.txt", ls.StdOutText, StringComparison.Ordinal);
        Assert.Contains("314572800", ls.StdOutText, StringComparison.Ordinal);
    }
}
