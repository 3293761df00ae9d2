// SPDX-License-Identifier: MIT
using System.Net;
using Crfs.Client.Session;
using Crfs.FileSystem;
using Crfs.Fuse;
using Crfs.Mount.Control;
using Crfs.Protocol.Transports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Crfs.Mount;

/// <summary>Settings of a <see cref="CrfsMount"/>.</summary>
public sealed record CrfsMountOptions
{
    /// <summary>Let users other than the one mounting in. The file system checks permissions itself with each caller's ids.</summary>
    public bool AllowOther { get; init; }

    /// <summary>Mount read-only: the kernel refuses every change with EROFS before it reaches the file system.</summary>
    public bool ReadOnly { get; init; }

    /// <summary>
    /// Serve the control socket (<see cref="MountControlServer"/>) through which <c>crfs sync</c>,
    /// <c>crfs stat</c> and <c>crfs umount</c> reach this mount. Off by default so library users
    /// and tests leave nothing in /run/crfs.
    /// </summary>
    public bool ServeControlSocket { get; init; }

    /// <summary>The FUSE fsname shown by mount(8) and /proc/mounts; defaults to <c>crfs:SERVER</c>.</summary>
    public string? FsName { get; init; }

    public FileSystemOptions FileSystem { get; init; } = new();

    public CrfsSessionOptions? Session { get; init; }
}

/// <summary>
/// One mounted CRFS client: a <see cref="CrfsSession"/> to a server, the <see cref="CrfsFileSystem"/>
/// over it, and the kernel FUSE mount serving it through a <see cref="FuseBridge"/>.
/// </summary>
/// <remarks>
/// The lifetime runs one way: connect, mount, serve until the mount goes away (umount, or
/// <see cref="Unmount"/>, or a termination signal when the command asked for that), then commit
/// everything the session buffered and only then say goodbye to the server. So an unmount never
/// loses acknowledged writes, although — as with any file system — data written without fsync is
/// only durable once that final commit returns. <see cref="DisposeAsync"/> performs the same
/// shutdown when the caller did not wait for the end.
/// </remarks>
public sealed class CrfsMount : IAsyncDisposable
{
    private readonly CrfsSession _session;
    private readonly FuseServer _server;
    private readonly Lock _finishGate = new();
    private Task<bool>? _finish;
    private MountControlServer? _control;

    private CrfsMount(CrfsSession session, CrfsFileSystem fileSystem, FuseBridge bridge, FuseServer server)
    {
        _session = session;
        FileSystem = fileSystem;
        Bridge = bridge;
        _server = server;
    }

    public CrfsFileSystem FileSystem { get; }

    public FuseBridge Bridge { get; }

    /// <summary>Round trips, commits, reconnects and evictions of the session to the server.</summary>
    public SessionCounters SessionCounters => _session.Counters;

    /// <summary>FUSE requests by opcode.</summary>
    public FuseCounters FuseCounters => _server.Counters;

    /// <summary>Items the session's cache holds now.</summary>
    public int CachedItems => _session.CachedItems;

    /// <summary>Bytes (estimated wire size) of the open, not yet committed transaction.</summary>
    public long DirtyBytes => _session.DirtyBytes;

    public string MountPoint => _server.MountPoint;

    /// <summary>The kernel's device number of the mount (major &lt;&lt; 20 | minor), also its fusectl connection id.</summary>
    public uint DeviceNumber => _server.ConnectionId;

    /// <summary>Where this mount's control socket listens, or null when it serves none.</summary>
    public string? ControlSocketPath => _control?.SocketPath;

    /// <summary>Completes when the kernel mount is gone (unmounted or aborted).</summary>
    public Task Unmounted => _server.Completion;

    /// <summary>Connects to the server at <paramref name="server"/> over TCP and mounts the file system on <paramref name="mountPoint"/>.</summary>
    public static Task<CrfsMount> MountAsync(
        EndPoint server,
        string mountPoint,
        CrfsMountOptions? options = null,
        ILoggerFactory? loggerFactory = null,
        bool unmountOnTerminationSignals = false,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        options ??= new CrfsMountOptions();
        if (options.FsName is null)
        {
            options = options with { FsName = $"crfs:{server}" };
        }

        return MountAsync(
            async ct => await TcpTransport.ConnectAsync(server, null, ct),
            mountPoint,
            options,
            loggerFactory,
            unmountOnTerminationSignals,
            cancellationToken);
    }

    /// <summary>
    /// Opens a session through <paramref name="connect"/> (called again on every reconnect, so
    /// it must make a fresh transport each time) and mounts the file system on
    /// <paramref name="mountPoint"/>. The transport may be TCP or an in-memory pipe to a server
    /// in this process (<c>crfs up</c>): the mount cannot tell them apart.
    /// </summary>
    public static async Task<CrfsMount> MountAsync(
        Func<CancellationToken, ValueTask<ICrfsTransport>> connect,
        string mountPoint,
        CrfsMountOptions? options = null,
        ILoggerFactory? loggerFactory = null,
        bool unmountOnTerminationSignals = false,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(connect);
        options ??= new CrfsMountOptions();
        loggerFactory ??= NullLoggerFactory.Instance;
        CrfsSession session = await CrfsSession.ConnectAsync(connect, options.Session, loggerFactory, cancellationToken);
        CrfsMount? mount = null;
        try
        {
            var fileSystem = new CrfsFileSystem(session, options.FileSystem);
            var bridge = new FuseBridge(fileSystem);
            var mountOptions = new FuseMountOptions
            {
                FsName = options.FsName ?? "crfs",
                Subtype = "crfs",
                AllowOther = options.AllowOther,

                // The kernel checks permissions from the attributes it caches, which follow the
                // locks (FuseBridge.Coherence): without this it checks nothing on a cached dentry
                // and only "some x bit" for exec, and the file system's own checks never run.
                // The file system keeps its checks as a second line for what the kernel passes on.
                DefaultPermissions = true,
                ReadOnly = options.ReadOnly,
                UnmountOnTerminationSignals = unmountOnTerminationSignals,
            };
            var fuseOptions = new FuseOptions { AtomicOTrunc = true };
            FuseServer fuse = FuseServer.Mount(bridge, mountPoint, mountOptions, fuseOptions, loggerFactory.CreateLogger("Crfs.Mount.Fuse"));
            bridge.AttachNotifier(fuse.Notifier);
            mount = new CrfsMount(session, fileSystem, bridge, fuse);
            if (options.ServeControlSocket)
            {
                mount._control = MountControlServer.Start(mount, loggerFactory.CreateLogger<MountControlServer>());
            }

            return mount;
        }
        catch
        {
            if (mount is not null)
            {
                await mount.DisposeAsync();
            }
            else
            {
                await session.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>Unmounts from the kernel (the mount must not be busy); <see cref="Unmounted"/> then completes.</summary>
    public void Unmount() => _server.Unmount();

    /// <summary>Unmounts with <paramref name="flags"/> (lazy: detach now, end when the last open file closes; force: abort requests in flight).</summary>
    public void Unmount(FuseUnmountFlags flags) => _server.Unmount(flags);

    /// <summary>
    /// Waits until the mount is gone, commits every buffered change and closes the session.
    /// Returns false when the final commit failed (changes since the last successful commit are lost).
    /// </summary>
    public async Task<bool> RunUntilUnmountedAsync()
    {
        await _server.Completion.ConfigureAwait(false);
        return await FinishAsync().ConfigureAwait(false);
    }

    /// <summary>
    /// Unmounts if still mounted (disposing the FUSE server does that), then commits and closes the
    /// session, and last stops the control socket, so a <c>crfs umount</c> waiting on it hears the
    /// final commit's result before the socket goes away.
    /// </summary>
    public async ValueTask DisposeAsync()
    {
        try
        {
            await FinishAsync().ConfigureAwait(false);
        }
        finally
        {
            if (_control is not null)
            {
                await _control.DisposeAsync().ConfigureAwait(false);
            }
        }
    }

    /// <summary>
    /// The one shutdown: every caller (the command's main flow, a control-socket unmount, dispose)
    /// awaits the same task, so each sees the real result of the single final commit.
    /// </summary>
    private Task<bool> FinishAsync()
    {
        lock (_finishGate)
        {
            return _finish ??= FinishCoreAsync();
        }
    }

    private async Task<bool> FinishCoreAsync()
    {
        await Task.Yield();
        _server.Dispose();
        try
        {
            return await FileSystem.SyncAsync().ConfigureAwait(false) == Posix.Errno.Ok;
        }
        finally
        {
            await _session.DisposeAsync().ConfigureAwait(false);
        }
    }
}
