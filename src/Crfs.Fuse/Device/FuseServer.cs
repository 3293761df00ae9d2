// SPDX-License-Identifier: MIT
using System.Runtime.InteropServices;
using Crfs.Fuse.Abi;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Crfs.Fuse;

/// <summary>
/// A mounted FUSE file system: the mount, the transport that carries requests, the dispatcher
/// that answers them and the notifier. <see cref="Mount"/> returns once the kernel's INIT has
/// been answered, so the mountpoint is usable; <see cref="Completion"/> completes when the
/// connection ends (unmounted by anyone, or aborted); <see cref="Dispose"/> unmounts and waits.
/// </summary>
/// <remarks>
/// <para>Typical daemon: <c>using var server = FuseServer.Mount(fs, path, new() { UnmountOnTerminationSignals = true });
/// server.Completion.Wait();</c> — Ctrl-C or SIGTERM unmounts, the readers see the connection
/// end, and the process exits with the mount gone.</para>
/// <para>Do not touch the mountpoint from the daemon's own process (File.Exists, a child's
/// working directory): with every reader busy it deadlocks, and the runtime's own signals turn
/// into INTERRUPTs. Tests drive mounts from child processes.</para>
/// <para>Shutdown order: unmount → readers see ENODEV → notifier detached → descriptor closed →
/// <see cref="IFuseFileSystem.Destroy"/>. If the readers do not stop (a handler hangs, or a lazy
/// unmount left the mount busy) Dispose aborts the connection through fusectl after
/// <see cref="ShutdownTimeout"/>.</para>
/// </remarks>
public sealed class FuseServer : IDisposable
{
    /// <summary>How long Dispose waits for the readers after unmounting before it aborts the connection.</summary>
    public static readonly TimeSpan ShutdownTimeout = TimeSpan.FromSeconds(10);

    private static readonly TimeSpan s_initTimeout = TimeSpan.FromSeconds(30);

    private readonly MountedDevice _device;
    private readonly DevFuseTransport _transport;
    private readonly IoUringTransport? _ring;
    private readonly ILogger _logger;
    private readonly IFuseFileSystem _fileSystem;
    private readonly List<PosixSignalRegistration> _signals = [];
    private readonly Lock _lock = new();
    private bool _disposed;
    private bool _destroyed;

    private FuseServer(IFuseFileSystem fileSystem, MountedDevice device, FuseDispatcher dispatcher, ILogger logger)
    {
        _fileSystem = fileSystem;
        _device = device;
        _logger = logger;
        Dispatcher = dispatcher;
        _transport = new DevFuseTransport(device.Fd, dispatcher, logger);
        if (dispatcher.Options.Transport == FuseTransportKind.IoUring)
        {
            _ring = new IoUringTransport(device.Fd, dispatcher, logger, OnRingFailed);
            _transport.AfterInit = _ring.OnInit;
        }

        dispatcher.Notifier.Attach(_transport);
        Completion = _transport.Completion.ContinueWith(_ => OnConnectionEnded(), TaskScheduler.Default);
    }

    public string MountPoint => _device.MountPoint;

    public FuseDispatcher Dispatcher { get; }

    public FuseCounters Counters => Dispatcher.Counters;

    public IFuseNotifier Notifier => Dispatcher.Notifier;

    /// <summary>What INIT negotiated.</summary>
    public FuseConnectionInfo Connection => Dispatcher.Connection ?? throw new InvalidOperationException("INIT has not been answered");

    /// <summary>The fusectl connection id (/sys/fs/fuse/connections/N).</summary>
    public uint ConnectionId { get; private set; }

    /// <summary>"/dev/fuse" or "io_uring (N queues)": what carries the requests after INIT.</summary>
    public string TransportName => _ring is { IsActive: true } ring ? $"io_uring ({ring.QueueCount} queues × {ring.QueueDepth})" : "/dev/fuse";

    /// <summary>Reader threads the /dev/fuse transport has started.</summary>
    public int ReaderCount => _transport.ReaderCount;

    /// <summary>Completes when the connection has ended and the file system was told (Destroy).</summary>
    public Task Completion { get; }

    /// <summary>
    /// Mounts <paramref name="fileSystem"/> on <paramref name="mountPoint"/> and serves it. Returns
    /// after INIT, with the mountpoint live.
    /// </summary>
    /// <exception cref="IOException">Mounting failed, or the kernel never completed INIT.</exception>
    public static FuseServer Mount(IFuseFileSystem fileSystem, string mountPoint, FuseMountOptions? mountOptions = null, FuseOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(fileSystem);
        mountOptions ??= new FuseMountOptions();
        logger ??= NullLogger.Instance;
        options ??= new FuseOptions();
        if (options.Transport == FuseTransportKind.IoUring && !IoUringTransport.TryProbe(out string? reason))
        {
            // Once OVER_IO_URING is negotiated the kernel holds every request until the rings
            // are registered, so a ring that cannot be created must not be asked for at all.
            FuseLog.IoUringUnavailable(logger, reason);
            options = options with { Transport = FuseTransportKind.DevFuse };
        }

        var dispatcher = new FuseDispatcher(fileSystem, options, logger);
        MountedDevice device = FuseMount.Mount(mountPoint, mountOptions);
        var server = new FuseServer(fileSystem, device, dispatcher, logger);
        try
        {
            server._transport.Start();
            if (!server._transport.Initialized.Wait(s_initTimeout) || !server._transport.Initialized.Result)
            {
                throw new IOException($"FUSE INIT on '{device.MountPoint}' did not complete (kernel protocol refused or no request within {s_initTimeout.TotalSeconds}s)");
            }

            server.ConnectionId = FuseMount.FindConnection(device.MountPoint) ?? 0;
            if (mountOptions.UnmountOnTerminationSignals)
            {
                server.RegisterSignals();
            }

            FuseLog.Mounted(logger, device.MountPoint, server.ConnectionId, server.TransportName);
            return server;
        }
        catch
        {
            server.Dispose();
            throw;
        }
    }

    /// <summary>Unmounts (see <see cref="FuseMount.Unmount"/>); <see cref="Completion"/> follows once the kernel lets go.</summary>
    public void Unmount(FuseUnmountFlags flags = FuseUnmountFlags.None) => FuseMount.Unmount(MountPoint, flags);

    /// <summary>Aborts the connection through fusectl: pending requests fail with ENOTCONN, readers stop.</summary>
    public void Abort() => FuseMount.AbortConnection(ConnectionId);

    public void Dispose()
    {
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
        }

        foreach (PosixSignalRegistration registration in _signals)
        {
            registration.Dispose();
        }

        if (!_transport.Completion.IsCompleted && FuseMount.IsMounted(MountPoint))
        {
            TryUnmount();
        }

        if (!_transport.Completion.Wait(ShutdownTimeout) && ConnectionId != 0 && FuseMount.IsRoot)
        {
            FuseLog.AbortingHungConnection(_logger, MountPoint, ShutdownTimeout.TotalSeconds, ConnectionId);
            try
            {
                FuseMount.AbortConnection(ConnectionId);
            }
            catch (IOException e)
            {
                FuseLog.UnmountFailed(_logger, MountPoint, e.Message);
            }

            _transport.Completion.Wait(ShutdownTimeout);
        }

        _ring?.Stop();
        Dispatcher.Notifier.Detach();
        if (_transport.Completion.IsCompleted)
        {
            // Only once no reader can still be inside read(2) on it.
            Libc.Close(_device.Fd);
        }

        _device.KeepAlive?.Dispose();
        Completion.Wait(ShutdownTimeout);
    }

    private void TryUnmount()
    {
        try
        {
            Unmount();
        }
        catch (IOException)
        {
            try
            {
                // Busy: detach now; the kernel ends the connection when the last user lets go.
                Unmount(FuseUnmountFlags.Lazy);
            }
            catch (IOException e)
            {
                FuseLog.UnmountFailed(_logger, MountPoint, e.Message);
            }
        }
    }

    private void RegisterSignals()
    {
        foreach (PosixSignal signal in new[] { PosixSignal.SIGINT, PosixSignal.SIGTERM, PosixSignal.SIGQUIT })
        {
            _signals.Add(PosixSignalRegistration.Create(signal, context =>
            {
                // Keep the process alive: the unmount ends the connection, Completion fires, and
                // the host decides when to exit.
                context.Cancel = true;
                FuseLog.SignalUnmount(_logger, MountPoint, context.Signal.ToString());
                TryUnmount();
            }));
        }
    }

    /// <summary>
    /// A queue could not register its entries: the kernel would hold every request forever waiting
    /// for the rings, so the connection is aborted (callers get errors instead of hanging).
    /// </summary>
    private void OnRingFailed()
    {
        uint connection = FuseMount.FindConnection(MountPoint) ?? 0;
        if (connection != 0 && FuseMount.IsRoot)
        {
            FuseLog.AbortingHungConnection(_logger, MountPoint, 0, connection);
            try
            {
                FuseMount.AbortConnection(connection);
            }
            catch (IOException e)
            {
                FuseLog.UnmountFailed(_logger, MountPoint, e.Message);
            }
        }
    }

    private void OnConnectionEnded()
    {
        FuseLog.ConnectionEnded(_logger, MountPoint);
        lock (_lock)
        {
            if (_destroyed)
            {
                return;
            }

            _destroyed = true;
        }

        if (Dispatcher.Counters[FuseOpcode.Destroy] == 0)
        {
            try
            {
                _fileSystem.Destroy();
            }
            catch (Exception e)
            {
                FuseLog.HandlerThrew(_logger, FuseOpcode.Destroy, 0, 0, e);
            }
        }
    }
}
