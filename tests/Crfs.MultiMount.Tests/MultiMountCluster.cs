// SPDX-License-Identifier: MIT
using System.Diagnostics;
using System.Net;
using Crfs.Protocol.Transports;
using Crfs.Server;
using Crfs.Testing;

namespace Crfs.MultiMount.Tests;

/// <summary>
/// One server and several real client mounts of it, as users run them: <see cref="CrfsServer"/> in
/// this process on a <c>mkfs.btrfs</c> image, listening on TCP loopback (port 0), and each client a
/// separate <c>crfs mount --foreground 127.0.0.1:PORT MNT</c> process. Workloads run in further
/// processes (<c>bash -c</c>) or through this process's own system calls, so every operation crosses
/// a kernel FUSE mount and every cross-client effect crosses the lock protocol.
/// </summary>
/// <remarks>
/// Mounting costs a process start each, so a test class shares one cluster (an xunit class
/// fixture) and each test works in its own directory. <see cref="StopAsync"/> unmounts every client
/// (each commits and exits), then stops the server; it runs from <see cref="DisposeAsync"/> too and
/// kills whatever is left, lazily unmounting, so a failed test leaves no mount behind. A class that
/// needs other server settings (a short revoke timeout) derives with its own options; one that stops
/// the cluster or signals its clients (SIGSTOP to play a client that stops answering) owns its own.
/// </remarks>
public class MultiMountCluster : IAsyncLifetime
{
    private static readonly TimeSpan s_mountWait = TimeSpan.FromSeconds(60);
    private static readonly TimeSpan s_exitWait = TimeSpan.FromSeconds(30);

    private readonly int _clients;
    private readonly CrfsServerOptions? _serverOptions;
    private readonly List<MountProcess> _mounts = [];
    private TempDirectory? _dir;
    private CrfsServer? _server;
    private CrfsTcpListener? _listener;
    private CancellationTokenSource? _stop;
    private Task? _serving;
    private bool _stopped;

    public MultiMountCluster()
        : this(2)
    {
    }

    protected MultiMountCluster(int clients, CrfsServerOptions? serverOptions = null)
    {
        _clients = clients;
        _serverOptions = serverOptions;
    }

    /// <summary>Why the cluster could not start (a missing capability), or null when it runs.</summary>
    public string? SkipReason { get; private set; }

    public string Image => _dir!.Combine("volume.img");

    /// <summary>A scratch directory outside every mount (signal files for multi-step scripts).</summary>
    public string Scratch => _dir!.Combine("scratch");

    /// <summary>The mount point of client <paramref name="client"/> (0 = A, 1 = B, ...).</summary>
    public string MountPoint(int client) => _mounts[client].MountPoint;

    public async Task InitializeAsync()
    {
        SkipReason = !Capabilities.IsRoot ? "needs root to mount"
            : !Capabilities.HasDevFuse ? "needs /dev/fuse"
            : !Capabilities.HasMkfsBtrfs ? "needs mkfs.btrfs"
            : !File.Exists(CrfsCli.DllPath) ? $"the crfs CLI is not built at {CrfsCli.DllPath}"
            : null;
        if (SkipReason is not null)
        {
            return;
        }

        _dir = new TempDirectory("crfs-multimount");
        Directory.CreateDirectory(Scratch);
        BtrfsImages.MakeEmpty(Image, 1L << 30);
        _server = CrfsServer.Open(Image, _serverOptions);
        _listener = CrfsTcpListener.Start(new IPEndPoint(IPAddress.Loopback, 0));
        _stop = new CancellationTokenSource();
        _serving = _server.ListenAsync(_listener, _stop.Token);
        string address = $"127.0.0.1:{((IPEndPoint)_listener.LocalEndPoint).Port}";
        for (int i = 0; i < _clients; i++)
        {
            _mounts.Add(MountProcess.Start(address, _dir.Combine($"mnt{(char)('a' + i)}")));
        }

        await Task.WhenAll(_mounts.Select(m => m.WaitMountedAsync(s_mountWait)));
    }

    /// <summary>Runs <paramref name="script"/> in bash with client <paramref name="client"/>'s mount point as $1 and the scratch directory as $2.</summary>
    public ProcessResult Bash(int client, string script) =>
        ProcessRunner.Run("bash", ["-c", "set -euo pipefail\n" + script, "workload", MountPoint(client), Scratch], TimeSpan.FromMinutes(2));

    /// <summary>Like <see cref="Bash"/>, and fails the test with both streams when the script fails.</summary>
    public string Run(int client, string script)
    {
        ProcessResult r = Bash(client, script);
        Assert.True(r.ExitCode == 0, $"client {(char)('A' + client)}: script exited {r.ExitCode}\n--- script\n{script}\n--- stdout\n{r.StdOut}\n--- stderr\n{r.StdErr}");
        return r.StdOut;
    }

    /// <summary>Starts <paramref name="script"/> on client <paramref name="client"/> without waiting (see <see cref="Run"/>).</summary>
    public Task<ProcessResult> BashAsync(int client, string script) => Task.Run(() => Bash(client, script));

    /// <summary>Sends <paramref name="signal"/> (STOP, CONT, ...) to client <paramref name="client"/>'s mount process, by its own id.</summary>
    public void Signal(int client, string signal) =>
        ProcessRunner.Run("kill", [$"-{signal}", _mounts[client].Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10)).EnsureSuccess();

    /// <summary>Unmounts every client (each commits on the way out), then stops the server. Idempotent.</summary>
    public async Task StopAsync()
    {
        if (_stopped)
        {
            return;
        }

        _stopped = true;
        var failures = new List<string>();
        foreach (MountProcess m in _mounts)
        {
            string? failure = await m.StopAsync(s_exitWait);
            if (failure is not null)
            {
                failures.Add(failure);
            }
        }

        if (_stop is not null)
        {
            await _stop.CancelAsync();
            await _serving!;
            await _listener!.DisposeAsync();
            await _server!.DisposeAsync();
        }

        Assert.True(failures.Count == 0, string.Join('\n', failures));
    }

    public async Task DisposeAsync()
    {
        try
        {
            await StopAsync();
        }
        finally
        {
            foreach (MountProcess m in _mounts)
            {
                m.Dispose();
            }

            _dir?.Dispose();
        }
    }

    /// <summary>One <c>crfs mount --foreground</c> child process and its mount point.</summary>
    private sealed class MountProcess : IDisposable
    {
        private readonly Process _process;
        private readonly Task<string> _stderr;
        private readonly Task<string> _stdout;
        private bool _disposed;

        private MountProcess(Process process, string mountPoint)
        {
            _process = process;
            MountPoint = mountPoint;
            _stderr = process.StandardError.ReadToEndAsync();
            _stdout = process.StandardOutput.ReadToEndAsync();
        }

        public string MountPoint { get; }

        public int Id => _process.Id;

        public static MountProcess Start(string address, string mountPoint)
        {
            Directory.CreateDirectory(mountPoint);
            var psi = new ProcessStartInfo("dotnet")
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string a in (string[])[CrfsCli.DllPath, "mount", "--foreground", address, mountPoint])
            {
                psi.ArgumentList.Add(a);
            }

            return new MountProcess(Process.Start(psi) ?? throw new InvalidOperationException("could not start dotnet"), mountPoint);
        }

        public async Task WaitMountedAsync(TimeSpan timeout)
        {
            var clock = Stopwatch.StartNew();
            while (!IsMounted())
            {
                if (_process.HasExited)
                {
                    throw new InvalidOperationException(
                        $"crfs mount of {MountPoint} exited {_process.ExitCode} before mounting\nstderr:\n{await _stderr}\nstdout:\n{await _stdout}");
                }

                if (clock.Elapsed > timeout)
                {
                    throw new TimeoutException($"crfs mount of {MountPoint} did not mount within {timeout}");
                }

                await Task.Delay(50);
            }
        }

        private bool IsMounted() => ProcessRunner.Run("mountpoint", ["-q", MountPoint], TimeSpan.FromSeconds(10)).ExitCode == 0;

        /// <summary>umount, wait for the process to commit and exit; returns a description of what went wrong, or null.</summary>
        public async Task<string?> StopAsync(TimeSpan timeout)
        {
            if (_process.HasExited)
            {
                return $"crfs mount of {MountPoint} had already exited {_process.ExitCode}\nstderr:\n{await _stderr}";
            }

            ProcessResult umount = ProcessRunner.Run("umount", [MountPoint], TimeSpan.FromSeconds(30));
            if (umount.ExitCode != 0)
            {
                ProcessRunner.Run("umount", ["-l", MountPoint], TimeSpan.FromSeconds(30));
            }

            using var exited = new CancellationTokenSource(timeout);
            try
            {
                await _process.WaitForExitAsync(exited.Token);
            }
            catch (OperationCanceledException)
            {
                Dispose();
                return $"crfs mount of {MountPoint} did not exit within {timeout} after umount";
            }

            return _process.ExitCode == 0 && umount.ExitCode == 0
                ? null
                : $"crfs mount of {MountPoint}: umount exit {umount.ExitCode} ({umount.StdErr.Trim()}), mount exit {_process.ExitCode}\nstderr:\n{await _stderr}";
        }

        /// <summary>Kills the process if it still runs and lazily unmounts; for the failure path.</summary>
        public void Dispose()
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            if (!_process.HasExited)
            {
                // A test may have left it stopped (SIGSTOP); continued, it dies like any other.
                ProcessRunner.Run("kill", ["-CONT", Id.ToString(System.Globalization.CultureInfo.InvariantCulture)], TimeSpan.FromSeconds(10));
                _process.Kill(entireProcessTree: true);
                _process.WaitForExit(5000);
            }

            if (ProcessRunner.Run("mountpoint", ["-q", MountPoint], TimeSpan.FromSeconds(10)).ExitCode == 0)
            {
                ProcessRunner.Run("umount", ["-l", MountPoint], TimeSpan.FromSeconds(30));
            }

            _process.Dispose();
        }
    }
}
