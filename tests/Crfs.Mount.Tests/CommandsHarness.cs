// SPDX-License-Identifier: MIT
using System.Diagnostics;
using System.Net;
using System.Text;
using System.Text.Json;
using Crfs.Mount.Control;
using Crfs.Protocol.Transports;
using Crfs.Server;
using Crfs.Testing;

namespace Crfs.Mount.Tests;

/// <summary>
/// The stage for tests of the mount's commands and durability: a fresh mkfs.btrfs volume served by
/// an in-process <see cref="CrfsServer"/> on a loopback TCP port, a mount point, and the CRFS
/// client as a separate <c>crfs mount</c> process (so it can be killed with SIGKILL and its
/// commands run from yet other processes, as a user would). Disposal tears everything down in the
/// safe order: kill a client still running, detach a mount left behind, stop the server.
/// </summary>
internal sealed class CommandsHarness : IAsyncDisposable
{
    private static readonly TimeSpan s_readyTimeout = TimeSpan.FromSeconds(60);

    private readonly TempDirectory _dir;
    private readonly CrfsServer _server;
    private readonly CrfsTcpListener _listener;
    private readonly CancellationTokenSource _stop = new();
    private readonly Task _serving;
    private readonly StringBuilder _clientLog = new();
    private bool _serverStopped;

    private CommandsHarness(TempDirectory dir, string image, CrfsServer server, CrfsTcpListener listener)
    {
        _dir = dir;
        Image = image;
        _server = server;
        _listener = listener;
        _serving = server.ListenAsync(listener, _stop.Token);
        MountPoint = dir.Combine("mnt");
        Directory.CreateDirectory(MountPoint);
    }

    public string Image { get; }

    public string MountPoint { get; }

    public string ServerAddress => _listener.LocalEndPoint.ToString()!;

    /// <summary>The foreground client started by <see cref="StartForegroundClient"/>, if any.</summary>
    public Process? Client { get; private set; }

    public string ClientLog
    {
        get
        {
            lock (_clientLog)
            {
                return _clientLog.ToString();
            }
        }
    }

    public static void SkipUnlessCapable()
    {
        Skip.IfNot(Capabilities.IsRoot, "needs root to mount");
        Skip.IfNot(Capabilities.HasDevFuse, "needs /dev/fuse");
        Skip.IfNot(Capabilities.HasMkfsBtrfs, "needs mkfs.btrfs");
        Skip.IfNot(Capabilities.CanLoopMountBtrfs, "needs kernel btrfs loop mounts");
    }

    public static Task<CommandsHarness> StartAsync()
    {
        var dir = new TempDirectory("crfs-commands");
        try
        {
            string image = dir.Combine("volume.img");
            BtrfsImages.MakeEmpty(image, 256L << 20);
            CrfsServer server = CrfsServer.Open(image);
            CrfsTcpListener listener = CrfsTcpListener.Start(new IPEndPoint(IPAddress.Loopback, 0));
            return Task.FromResult(new CommandsHarness(dir, image, server, listener));
        }
        catch
        {
            dir.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Runs <c>crfs mount --foreground SERVER MNT</c> as a child process and returns once its
    /// control socket answers (the mount is live then).
    /// </summary>
    public Process StartForegroundClient()
    {
        var psi = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in new[] { CrfsCli.DllPath, "mount", "--foreground", ServerAddress, MountPoint })
        {
            psi.ArgumentList.Add(a);
        }

        Process client = Process.Start(psi) ?? throw new InvalidOperationException("could not start crfs mount");
        Client = client;
        client.OutputDataReceived += (_, e) => AppendLog(e.Data);
        client.ErrorDataReceived += (_, e) => AppendLog(e.Data);
        client.BeginOutputReadLine();
        client.BeginErrorReadLine();
        WaitUntilReady(() => client.HasExited ? $"crfs mount exited {client.ExitCode} before it was ready:\n{ClientLog}" : null);
        return client;
    }

    /// <summary>Waits until the CRFS mount at <see cref="MountPoint"/> answers on its control socket.</summary>
    public void WaitUntilReady(Func<string?>? failure = null)
    {
        var clock = Stopwatch.StartNew();
        while (true)
        {
            if (failure?.Invoke() is string why)
            {
                Assert.Fail(why);
            }

            if (MountControlClient.Locate(MountPoint, out _).IsOk)
            {
                return;
            }

            if (clock.Elapsed > s_readyTimeout)
            {
                Assert.Fail($"the mount at {MountPoint} was not ready within {s_readyTimeout}:\n{ClientLog}");
            }

            Thread.Sleep(50);
        }
    }

    /// <summary>SIGKILL to the foreground client: no final commit, no cleanup of its own.</summary>
    public void KillClient()
    {
        Process client = Client ?? throw new InvalidOperationException("no client was started");
        if (!client.HasExited)
        {
            client.Kill();
        }

        Assert.True(client.WaitForExit(TimeSpan.FromSeconds(30)), "the client did not die after SIGKILL");
    }

    /// <summary>Detaches whatever is still mounted on the mount point (a killed client's dead mount).</summary>
    public void ForceUnmountLeftovers()
    {
        while (MountTable.Find(MountPoint) is MountEntry entry)
        {
            string socket = ControlProtocol.SocketPath(entry.Major, entry.Minor);
            ProcessRunner.Run("umount", ["-l", MountPoint], TimeSpan.FromMinutes(1)).EnsureSuccess();

            // A killed client leaves its socket behind; the tests should not litter /run/crfs.
            if (entry.IsCrfs && Client is { HasExited: true })
            {
                File.Delete(socket);
            }
        }
    }

    /// <summary>Stops serving and closes the volume: after this the image may be checked and loop-mounted.</summary>
    public async Task StopServerAsync()
    {
        if (_serverStopped)
        {
            return;
        }

        _serverStopped = true;
        await _stop.CancelAsync();
        try
        {
            await _serving;
        }
        catch (OperationCanceledException)
        {
            // Asked to stop.
        }

        await _listener.DisposeAsync();
        await _server.DisposeAsync();
    }

    /// <summary>The counters of the mount, through <c>crfs stat --json</c> in another process.</summary>
    public JsonElement Stat()
    {
        CliResult r = CrfsCli.RunOk("stat", MountPoint, "--json");
        return JsonDocument.Parse(r.StdOut).RootElement.Clone();
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            if (Client is { HasExited: false })
            {
                Client.Kill();
                Client.WaitForExit(TimeSpan.FromSeconds(30));
            }

            ForceUnmountLeftovers();
            await StopServerAsync();
        }
        finally
        {
            Client?.Dispose();
            _stop.Dispose();
            _dir.Dispose();
        }
    }

    /// <summary>True once <paramref name="pid"/> has exited; a zombie nobody reaps counts as exited.</summary>
    public static bool WaitForExit(int pid, TimeSpan timeout)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < timeout)
        {
            string stat;
            try
            {
                stat = File.ReadAllText($"/proc/{pid}/stat");
            }
            catch (IOException)
            {
                return true;
            }

            int close = stat.LastIndexOf(')');
            if (close > 0 && close + 2 < stat.Length && stat[close + 2] is 'Z' or 'X')
            {
                return true;
            }

            Thread.Sleep(20);
        }

        return false;
    }

    private void AppendLog(string? line)
    {
        if (line is not null)
        {
            lock (_clientLog)
            {
                _clientLog.AppendLine(line);
            }
        }
    }
}
