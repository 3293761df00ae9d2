// SPDX-License-Identifier: MIT
using System.Diagnostics;
using System.Net;
using Crfs.Protocol.Transports;
using Crfs.Server;
using Crfs.Server.Locks;
using Crfs.Testing;

namespace Crfs.MultiMount.Tests;

/// <summary>
/// A server in this process with a short revoke timeout, on a <c>mkfs.btrfs</c> image, and two
/// <c>crfs mount --foreground</c> child processes whose ids the test may signal (SIGSTOP/SIGCONT) to
/// play a client that stops answering. Everything started is stopped in <see cref="DisposeAsync"/>:
/// mounts unmounted (lazily if they hang), processes killed by their own id, the server disposed.
/// </summary>
internal sealed class EvictionCluster : IAsyncDisposable
{
    private readonly TempDirectory _dir;
    private readonly CrfsServer _server;
    private readonly CrfsTcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;
    private readonly List<(Process Process, string MountPoint)> _mounts = [];
    private bool _serverStopped;

    private EvictionCluster(TempDirectory dir, CrfsServer server, CrfsTcpListener listener)
    {
        _dir = dir;
        _server = server;
        _listener = listener;
        _serving = server.ListenAsync(listener, _stop.Token);
    }

    public static TimeSpan RevokeTimeout { get; } = TimeSpan.FromSeconds(3);

    public string Image => _dir.Combine("volume.img");

    public CrfsServer Server => _server;

    public static string? SkipReason =>
        !Capabilities.IsRoot ? "needs root to mount"
        : !Capabilities.HasDevFuse ? "needs /dev/fuse"
        : !Capabilities.HasMkfsBtrfs ? "needs mkfs.btrfs"
        : !File.Exists(CrfsCli.DllPath) ? $"the crfs CLI is not built at {CrfsCli.DllPath}"
        : null;

    public static async Task<EvictionCluster> StartAsync(int clients)
    {
        var dir = new TempDirectory("crfs-eviction");
        string image = dir.Combine("volume.img");
        using (FileStream f = File.Create(image))
        {
            f.SetLength(512L * 1024 * 1024);
        }

        ProcessRunner.Run("mkfs.btrfs", ["-q", "-f", image], TimeSpan.FromMinutes(1)).EnsureSuccess();
        var options = new CrfsServerOptions
        {
            Locks = new LockServerOptions { RevokeTimeout = RevokeTimeout, RevokeWarning = TimeSpan.FromSeconds(1), RevokeResendInterval = TimeSpan.FromSeconds(1) },
        };
        CrfsServer server = CrfsServer.Open(image, options);
        var cluster = new EvictionCluster(dir, server, CrfsTcpListener.Start(new IPEndPoint(IPAddress.Loopback, 0)));
        try
        {
            string address = $"127.0.0.1:{((IPEndPoint)cluster._listener.LocalEndPoint).Port}";
            for (int i = 0; i < clients; i++)
            {
                string mountPoint = dir.Combine($"mnt{(char)('a' + i)}");
                Directory.CreateDirectory(mountPoint);
                var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
                foreach (string a in (string[])[CrfsCli.DllPath, "mount", "--foreground", address, mountPoint])
                {
                    psi.ArgumentList.Add(a);
                }

                Process p = Process.Start(psi) ?? throw new InvalidOperationException("could not start dotnet");
                p.OutputDataReceived += (_, _) => { };
                p.ErrorDataReceived += (_, _) => { };
                p.BeginOutputReadLine();
                p.BeginErrorReadLine();
                cluster._mounts.Add((p, mountPoint));
            }

            foreach ((Process p, string mountPoint) in cluster._mounts)
            {
                var clock = Stopwatch.StartNew();
                while (ProcessRunner.Run("mountpoint", ["-q", mountPoint], TimeSpan.FromSeconds(10)).ExitCode != 0)
                {
                    Assert.False(p.HasExited, $"crfs mount of {mountPoint} exited {(p.HasExited ? p.ExitCode : 0)} before mounting");
                    Assert.True(clock.Elapsed < TimeSpan.FromSeconds(60), $"crfs mount of {mountPoint} did not mount within 60 s");
                    await Task.Delay(50);
                }
            }

            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    public string MountPoint(int client) => _mounts[client].MountPoint;

    public int ProcessId(int client) => _mounts[client].Process.Id;

    /// <summary>Runs <paramref name="script"/> in bash with client <paramref name="client"/>'s mount point as $1.</summary>
    public ProcessResult Bash(int client, string script) =>
        ProcessRunner.Run("bash", ["-c", "set -euo pipefail\n" + script, "workload", MountPoint(client)], TimeSpan.FromMinutes(2));

    public string Run(int client, string script)
    {
        ProcessResult r = Bash(client, script);
        Assert.True(r.ExitCode == 0, $"client {(char)('A' + client)}: script exited {r.ExitCode}\n--- script\n{script}\n--- stdout\n{r.StdOut}\n--- stderr\n{r.StdErr}");
        return r.StdOut;
    }

    public void Signal(int client, string signal) =>
        ProcessRunner.Run("kill", [$"-{signal}", ProcessId(client).ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10)).EnsureSuccess();

    /// <summary>Unmounts every client (each commits and exits) and stops the server; returns what went wrong, if anything.</summary>
    public async Task<List<string>> StopAsync()
    {
        var failures = new List<string>();
        foreach ((Process p, string mountPoint) in _mounts)
        {
            if (p.HasExited)
            {
                failures.Add($"crfs mount of {mountPoint} had exited {p.ExitCode}");
                continue;
            }

            ProcessResult umount = ProcessRunner.Run("umount", [mountPoint], TimeSpan.FromSeconds(30));
            using var exited = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            try
            {
                await p.WaitForExitAsync(exited.Token);
                if (umount.ExitCode != 0 || p.ExitCode != 0)
                {
                    failures.Add($"crfs mount of {mountPoint}: umount exit {umount.ExitCode} ({umount.StdErr.Trim()}), mount exit {p.ExitCode}");
                }
            }
            catch (OperationCanceledException)
            {
                failures.Add($"crfs mount of {mountPoint} did not exit within 30 s after umount");
            }
        }

        await StopServerAsync();
        return failures;
    }

    private async Task StopServerAsync()
    {
        if (_serverStopped)
        {
            return;
        }

        _serverStopped = true;
        await _stop.CancelAsync();
        await _serving;
        await _listener.DisposeAsync();
        await _server.DisposeAsync();
    }

    public async ValueTask DisposeAsync()
    {
        foreach ((Process p, string mountPoint) in _mounts)
        {
            if (!p.HasExited)
            {
                ProcessRunner.Run("kill", ["-CONT", p.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10));
                p.Kill(entireProcessTree: true);
                p.WaitForExit(5000);
            }

            if (ProcessRunner.Run("mountpoint", ["-q", mountPoint], TimeSpan.FromSeconds(10)).ExitCode == 0)
            {
                ProcessRunner.Run("umount", ["-l", mountPoint], TimeSpan.FromSeconds(30));
            }

            p.Dispose();
        }

        await StopServerAsync();
        _stop.Dispose();
        _dir.Dispose();
    }
}
