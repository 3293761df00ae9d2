// SPDX-License-Identifier: MIT
using System.Diagnostics;
using System.Text.Json;
using Crfs.Mount.Control;
using Crfs.Testing;

namespace Crfs.Mount.Tests.Commands;

/// <summary>
/// <c>crfs mount</c> (background and foreground, <c>-o</c>, the mount(8) helper), <c>crfs sync</c>,
/// <c>crfs stat</c> and <c>crfs umount</c>, each run as a separate process the way a user runs them,
/// against a server in the test process.
/// </summary>
public sealed class MountCommandTests
{
    private const string HelperPath = "/sbin/mount.fuse.crfs";

    [SkippableFact]
    public async Task Mount_WithoutForeground_ReturnsWhenReadyAndUmountEndsTheBackgroundProcess()
    {
        CommandsHarness.SkipUnlessCapable();
        await using CommandsHarness stage = await CommandsHarness.StartAsync();

        CliResult mounted = CrfsCli.RunOk("mount", stage.ServerAddress, stage.MountPoint);
        Assert.Equal("", mounted.StdOutText + mounted.StdErr);
        Assert.True(MountControlClient.Locate(stage.MountPoint, out string? socket).IsOk, "no control socket after crfs mount returned");

        File.WriteAllText(Path.Combine(stage.MountPoint, "a.txt"), "background\n");
        Assert.Equal("background\n", File.ReadAllText(Path.Combine(stage.MountPoint, "a.txt")));
        int pid = stage.Stat().GetProperty("pid").GetInt32();
        Assert.NotEqual(Environment.ProcessId, pid);

        CrfsCli.RunOk("umount", stage.MountPoint);
        Assert.Null(MountTable.Find(stage.MountPoint));
        Assert.True(CommandsHarness.WaitForExit(pid, TimeSpan.FromSeconds(30)), $"the background mount process {pid} did not exit");
        Assert.False(File.Exists(socket), $"the control socket {socket} was left behind");
    }

    [SkippableFact]
    public async Task Stat_AfterWritesAndSync_CountsFuseRequestsRoundTripsAndTheCommit()
    {
        CommandsHarness.SkipUnlessCapable();
        await using CommandsHarness stage = await CommandsHarness.StartAsync();
        stage.StartForegroundClient();

        for (int i = 0; i < 3; i++)
        {
            File.WriteAllBytes(Path.Combine(stage.MountPoint, $"f{i}"), new byte[1000]);
        }

        JsonElement before = stage.Stat();
        Assert.True(before.GetProperty("dirtyBytes").GetInt64() > 0, before.ToString());
        Assert.True(before.GetProperty("fuseRequests").GetProperty("Create").GetInt64() >= 3, before.ToString());
        Assert.True(before.GetProperty("cachedItems").GetInt64() > 0, before.ToString());
        long commitsBefore = before.GetProperty("commits").GetProperty("count").GetInt64();

        CrfsCli.RunOk("sync", stage.MountPoint);

        JsonElement after = stage.Stat();
        Assert.Equal(0, after.GetProperty("dirtyBytes").GetInt64());
        Assert.Equal(commitsBefore + 1, after.GetProperty("commits").GetProperty("count").GetInt64());
        Assert.True(after.GetProperty("roundTrips").GetProperty("COMMIT").GetInt64() >= 1, after.ToString());
        Assert.True(after.GetProperty("commits").GetProperty("largestBytes").GetInt64() >= 3000, after.ToString());
        Assert.Equal(0, after.GetProperty("evictions").GetInt64());

        CliResult text = CrfsCli.RunOk("stat", stage.MountPoint);
        Assert.Contains("commits.count", text.StdOutText, StringComparison.Ordinal);
        Assert.Contains("fuseRequests.Create", text.StdOutText, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task SyncAndUmount_MountProcessKilled_FailSayingItHasGoneAndUmountDetaches()
    {
        CommandsHarness.SkipUnlessCapable();
        await using CommandsHarness stage = await CommandsHarness.StartAsync();
        stage.StartForegroundClient();
        stage.KillClient();

        CliResult sync = CrfsCli.Run("sync", stage.MountPoint);
        CrfsCli.AssertNoCrash(sync);
        Assert.Equal(1, sync.ExitCode);
        Assert.Contains("has gone", sync.StdErr, StringComparison.Ordinal);

        CliResult umount = CrfsCli.Run("umount", stage.MountPoint);
        CrfsCli.AssertNoCrash(umount);
        Assert.Equal(1, umount.ExitCode);
        Assert.Contains("nothing was committed", umount.StdErr, StringComparison.Ordinal);
        Assert.Null(MountTable.Find(stage.MountPoint));
    }

    [SkippableFact]
    public void Sync_NotACrfsMount_FailsNamingWhy()
    {
        Skip.IfNot(File.Exists(MountTable.MountInfoPath), "needs /proc/self/mountinfo");
        CliResult proc = CrfsCli.Run("sync", "/proc");
        CrfsCli.AssertNoCrash(proc);
        Assert.Equal(1, proc.ExitCode);
        Assert.Contains("not a CRFS mount", proc.StdErr, StringComparison.Ordinal);

        using var dir = new TempDirectory("crfs-commands");
        CliResult plain = CrfsCli.Run("stat", dir.Path);
        CrfsCli.AssertNoCrash(plain);
        Assert.Equal(1, plain.ExitCode);
        Assert.Contains("nothing is mounted", plain.StdErr, StringComparison.Ordinal);
    }

    [Fact]
    public void Mount_UnknownDashOOption_IsAUsageErrorNamingIt()
    {
        CliResult r = CrfsCli.Run("mount", "127.0.0.1:1", Path.GetTempPath(), "-o", "rw,noauto,x-systemd.automount,bogus");
        Assert.Equal(2, r.ExitCode);
        Assert.Contains("unknown mount option 'bogus'", r.StdErr, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task Mount_ThroughMountTypeFuseCrfs_RunsTheInstalledHelper()
    {
        CommandsHarness.SkipUnlessCapable();
        Skip.IfNot(Directory.Exists(Path.GetDirectoryName(HelperPath)), "no /sbin");
        byte[]? previous = File.Exists(HelperPath) ? File.ReadAllBytes(HelperPath) : null;
        await using CommandsHarness stage = await CommandsHarness.StartAsync();
        try
        {
            CrfsCli.RunOk("install-helper");
            ProcessRunner.Run("mount", ["-t", "fuse.crfs", stage.ServerAddress, stage.MountPoint, "-o", "noauto,_netdev,x-test=1"], TimeSpan.FromMinutes(2)).EnsureSuccess();
            stage.WaitUntilReady();
            Assert.True(MountTable.Find(stage.MountPoint)?.IsCrfs, "mount -t fuse.crfs did not leave a CRFS mount");

            File.WriteAllText(Path.Combine(stage.MountPoint, "via-helper.txt"), "fstab\n");
            CrfsCli.RunOk("umount", stage.MountPoint);
            Assert.Null(MountTable.Find(stage.MountPoint));
        }
        finally
        {
            if (previous is null)
            {
                File.Delete(HelperPath);
            }
            else
            {
                File.WriteAllBytes(HelperPath, previous);
            }
        }
    }

    [SkippableFact]
    public void Up_ServesTheControlSocket_StatSyncAndUmountWorkOnIt()
    {
        CommandsHarness.SkipUnlessCapable();
        using var home = new TempDirectory("crfs-commands-up");
        string mnt = home.Combine("mnt");
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        psi.ArgumentList.Add(CrfsCli.DllPath);
        psi.ArgumentList.Add("up");
        psi.Environment["CRFS_HOME"] = home.Path;
        using Process up = Process.Start(psi) ?? throw new InvalidOperationException("could not start crfs up");
        Task<string> stderr = up.StandardError.ReadToEndAsync();
        try
        {
            string? line;
            while ((line = up.StandardOutput.ReadLine()) is not null && !line.Contains("mounted at", StringComparison.Ordinal))
            {
            }

            if (line is null)
            {
                Assert.Fail("crfs up ended before mounting: " + stderr.Result);
            }

            _ = up.StandardOutput.ReadToEndAsync();
            File.WriteAllText(Path.Combine(mnt, "up.txt"), "in memory\n");
            CrfsCli.RunOk("sync", mnt);
            CliResult stat = CrfsCli.RunOk("stat", mnt, "--json");
            JsonElement counters = JsonDocument.Parse(stat.StdOut).RootElement;
            Assert.Equal(up.Id, counters.GetProperty("pid").GetInt32());
            Assert.True(counters.GetProperty("commits").GetProperty("count").GetInt64() >= 1, counters.ToString());

            CrfsCli.RunOk("umount", mnt);
            Assert.True(up.WaitForExit(TimeSpan.FromMinutes(1)), "crfs up did not exit after crfs umount");
            Assert.Equal(0, up.ExitCode);
        }
        finally
        {
            if (!up.HasExited)
            {
                up.Kill();
                up.WaitForExit(TimeSpan.FromSeconds(30));
            }

            if (MountTable.Find(mnt) is not null)
            {
                ProcessRunner.Run("umount", ["-l", mnt], TimeSpan.FromMinutes(1));
            }
        }
    }
}
