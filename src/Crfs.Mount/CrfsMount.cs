// SPDX-License-Identifier: MIT
using System.Net;
using Crfs.Client.Session;
using Crfs.FileSystem;
using Crfs.Fuse;
using Crfs.Protocol.Transports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Crfs.Mount;

/// <summary>Settings of a <see cref="CrfsMount"/>.</summary>
public sealed record CrfsMountOptions
{
    /// <summary>Let users other than the one mounting in. The file system checks permissions itself with each caller's ids.</summary>
    public bool AllowOther { get; init; }

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
    private int _finished;

    private CrfsMount(CrfsSession session, CrfsFileSystem fileSystem, FuseBridge bridge, FuseServer server)
    {
        _session = session;
        FileSystem = fileSystem;
        Bridge = bridge;
        _server = server;
    }

    public CrfsFileSystem FileSystem { get; }

    public FuseBridge Bridge { get; }

    public string MountPoint => _server.MountPoint;

    /// <summary>Completes when the kernel mount is gone (unmounted or aborted).</summary>
    public Task Unmounted => _server.Completion;

    /// <summary>Connects to the server at <paramref name="server"/> over TCP and mounts the file system on <paramref name="mountPoint"/>.</summary>
    public static async Task<CrfsMount> MountAsync(
        EndPoint server,
        string mountPoint,
        CrfsMountOptions? options = null,
        ILoggerFactory? loggerFactory = null,
        bool unmountOnTerminationSignals = false,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(server);
        options ??= new CrfsMountOptions();
        loggerFactory ??= NullLoggerFactory.Instance;
        CrfsSession session = await CrfsSession.ConnectAsync(
            async ct => (ICrfsTransport)await TcpTransport.ConnectAsync(server, null, ct),
            options.Session,
            loggerFactory,
            cancellationToken);
        try
        {
            var fileSystem = new CrfsFileSystem(session, options.FileSystem);
            var bridge = new FuseBridge(fileSystem);
            var mountOptions = new FuseMountOptions
            {
                FsName = $"crfs:{server}",
                Subtype = "crfs",
                AllowOther = options.AllowOther,
                UnmountOnTerminationSignals = unmountOnTerminationSignals,
            };
            var fuseOptions = new FuseOptions { AtomicOTrunc = true };
            FuseServer fuse = FuseServer.Mount(bridge, mountPoint, mountOptions, fuseOptions, loggerFactory.CreateLogger("Crfs.Mount.Fuse"));
            return new CrfsMount(session, fileSystem, bridge, fuse);
        }
        catch
        {
            await session.DisposeAsync();
            throw;
        }
    }

    /// <summary>Unmounts from the kernel (the mount must not be busy); <see cref="Unmounted"/> then completes.</summary>
    public void Unmount() => _server.Unmount();

    /// <summary>
    /// Waits until the mount is gone, commits every buffered change and closes the session.
    /// Returns false when the final commit failed (changes since the last successful commit are lost).
    /// </summary>
    public async Task<bool> RunUntilUnmountedAsync()
    {
        await _server.Completion.ConfigureAwait(false);
        return await FinishAsync().ConfigureAwait(false);
    }

    /// <summary>Unmounts if still mounted (disposing the FUSE server does that), then commits and closes the session.</summary>
    public async ValueTask DisposeAsync() => await FinishAsync().ConfigureAwait(false);

    private async Task<bool> FinishAsync()
    {
        if (Interlocked.Exchange(ref _finished, 1) != 0)
        {
            return true;
        }

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
