// SPDX-License-Identifier: MIT
using System.Net.Sockets;
using Crfs.Fuse;
using Microsoft.Extensions.Logging;

namespace Crfs.Mount.Control;

/// <summary>
/// The mount process's end of the control channel: a Unix-domain socket at
/// <see cref="ControlProtocol.SocketPath"/> through which <c>crfs sync</c>, <c>crfs stat</c> and
/// <c>crfs umount</c>, run in other processes, reach the one process that holds the mount's
/// session. Each connection carries one request and one reply (<see cref="ControlProtocol"/>).
/// </summary>
/// <remarks>
/// <para>Replies that promise durability are sent only when it holds: <c>sync</c> answers after
/// the session's commit returned Ok (the server answers a COMMIT only once its superblock is on
/// disk), <c>unmount</c> after the final commit of <see cref="CrfsMount"/>'s shutdown. A failure
/// is an <c>error</c> line naming why, never a silent ok.</para>
/// <para>Lifetime: started once the kernel mount is live, disposed by <see cref="CrfsMount"/>
/// after its final commit; disposal stops accepting, lets handlers still writing a reply finish
/// (bounded by <see cref="DrainTimeout"/>) and removes the socket file. A process killed with
/// SIGKILL leaves the file behind; the next mount that gets the same device number finds nobody
/// listening on it and replaces it, and clients meanwhile get "connection refused", which they
/// report as a mount process that has gone.</para>
/// </remarks>
public sealed class MountControlServer : IAsyncDisposable
{
    /// <summary>How long disposal waits for handlers that are still answering.</summary>
    public static readonly TimeSpan DrainTimeout = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan s_requestTimeout = TimeSpan.FromSeconds(10);

    private readonly CrfsMount _mount;
    private readonly Socket _listener;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _stop = new();
    private readonly Lock _gate = new();
    private readonly HashSet<Task> _handlers = [];
    private readonly Task _accepting;
    private int _disposed;

    private MountControlServer(CrfsMount mount, Socket listener, string socketPath, ILogger logger)
    {
        _mount = mount;
        _listener = listener;
        SocketPath = socketPath;
        _logger = logger;
        _accepting = AcceptLoopAsync();
    }

    public string SocketPath { get; }

    /// <summary>Binds the socket of <paramref name="mount"/> (replacing a stale one) and starts serving.</summary>
    /// <exception cref="IOException">The socket cannot be created, or a live process already listens on it.</exception>
    public static MountControlServer Start(CrfsMount mount, ILogger logger)
    {
        ArgumentNullException.ThrowIfNull(mount);
        ArgumentNullException.ThrowIfNull(logger);
        uint device = mount.DeviceNumber;
        if (device == 0)
        {
            throw new IOException($"cannot serve a control socket for {mount.MountPoint}: its device number is unknown (not in /proc/self/mountinfo)");
        }

        string directory = ControlProtocol.SocketDirectory;
        const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        Directory.CreateDirectory(directory, OwnerOnly);
        File.SetUnixFileMode(directory, OwnerOnly);
        string path = ControlProtocol.SocketPath(device >> 20, device & 0xFFFFF);
        RemoveStale(path);

        var listener = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            listener.Bind(new UnixDomainSocketEndPoint(path));
            listener.Listen(16);
        }
        catch (SocketException e)
        {
            listener.Dispose();
            throw new IOException($"cannot listen on control socket {path} for {mount.MountPoint}: {e.Message}", e);
        }

        ControlLog.Listening(logger, path, mount.MountPoint);
        return new MountControlServer(mount, listener, path, logger);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _stop.CancelAsync().ConfigureAwait(false);
        _listener.Dispose();
        await _accepting.ConfigureAwait(false);
        Task[] handlers;
        lock (_gate)
        {
            handlers = [.. _handlers];
        }

        await Task.WhenAll(handlers).WaitAsync(DrainTimeout).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        try
        {
            File.Delete(SocketPath);
        }
        catch (IOException e)
        {
            ControlLog.CannotRemoveSocket(_logger, SocketPath, e.Message);
        }

        _stop.Dispose();
    }

    /// <summary>A socket file nobody accepts on is left over from a killed process: remove it.</summary>
    private static void RemoveStale(string path)
    {
        if (!File.Exists(path))
        {
            return;
        }

        using (var probe = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified))
        {
            try
            {
                probe.Connect(new UnixDomainSocketEndPoint(path));
                throw new IOException($"control socket {path} is already served by a live process (two mounts with one device number?)");
            }
            catch (SocketException)
            {
                // Nobody listening: stale.
            }
        }

        File.Delete(path);
    }

    private async Task AcceptLoopAsync()
    {
        while (true)
        {
            Socket connection;
            try
            {
                connection = await _listener.AcceptAsync(_stop.Token).ConfigureAwait(false);
            }
            catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
            {
                return;
            }

            lock (_gate)
            {
                Task handler = HandleAsync(connection);
                _handlers.Add(handler);
                _ = handler.ContinueWith(
                    t =>
                    {
                        lock (_gate)
                        {
                            _handlers.Remove(t);
                        }
                    },
                    CancellationToken.None,
                    TaskContinuationOptions.ExecuteSynchronously,
                    TaskScheduler.Default);
            }
        }
    }

    /// <summary>Serves one connection: read the request line, act, write the reply line. Never throws.</summary>
    private async Task HandleAsync(Socket connection)
    {
        await Task.Yield();
        using (connection)
        await using (var stream = new NetworkStream(connection, ownsSocket: false))
        {
            try
            {
                string? line;
                using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(_stop.Token))
                {
                    timeout.CancelAfter(s_requestTimeout);
                    line = await ControlProtocol.ReadLineAsync(stream, ControlProtocol.MaxRequestLength, timeout.Token).ConfigureAwait(false);
                }

                if (line is null)
                {
                    return;
                }

                string reply = ControlProtocol.TryParseRequest(line, out ControlVerb verb)
                    ? await AnswerAsync(verb).ConfigureAwait(false)
                    : $"{ControlProtocol.Error} unknown request '{line}' (expected sync, stat, unmount or 'unmount force')";
                await ControlProtocol.WriteLineAsync(stream, reply, CancellationToken.None).ConfigureAwait(false);
            }
            catch (InvalidDataException e)
            {
                ControlLog.BadRequest(_logger, SocketPath, e.Message);
                await TryWriteAsync(stream, $"{ControlProtocol.Error} {e.Message}").ConfigureAwait(false);
            }
            catch (Exception e) when (e is IOException or SocketException or OperationCanceledException or ObjectDisposedException)
            {
                // The client went away or took too long to ask: nothing to answer.
            }
        }
    }

    private static async Task TryWriteAsync(Stream stream, string reply)
    {
        try
        {
            await ControlProtocol.WriteLineAsync(stream, reply, CancellationToken.None).ConfigureAwait(false);
        }
        catch (Exception e) when (e is IOException or SocketException or ObjectDisposedException)
        {
            // The client is gone.
        }
    }

    private async Task<string> AnswerAsync(ControlVerb verb)
    {
        switch (verb)
        {
            case ControlVerb.Stat:
                return $"{ControlProtocol.Ok} {MountStatistics.ToJson(_mount)}";
            case ControlVerb.Sync:
                try
                {
                    return await _mount.FileSystem.SyncAsync().ConfigureAwait(false) == Posix.Errno.Ok
                        ? ControlProtocol.Ok
                        : $"{ControlProtocol.Error} the server refused the commit (this client's session was evicted); changes since the last successful commit are lost";
                }
                catch (Exception e) when (e is IOException or ObjectDisposedException or InvalidOperationException)
                {
                    return $"{ControlProtocol.Error} commit failed: {e.Message}";
                }

            default:
                FuseUnmountFlags flags = verb == ControlVerb.UnmountForce ? FuseUnmountFlags.Force : FuseUnmountFlags.None;
                ControlLog.UnmountRequested(_logger, _mount.MountPoint, flags);
                try
                {
                    _mount.Unmount(flags);
                }
                catch (IOException e)
                {
                    return $"{ControlProtocol.Error} {e.Message}";
                }

                return await _mount.RunUntilUnmountedAsync().ConfigureAwait(false)
                    ? ControlProtocol.Ok
                    : $"{ControlProtocol.Error} unmounted, but the final commit failed; changes since the last successful commit are lost";
        }
    }
}
