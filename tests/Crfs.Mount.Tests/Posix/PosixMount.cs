// SPDX-License-Identifier: MIT
using System.Net;
using Crfs.Protocol.Transports;
using Crfs.Server;
using Crfs.Testing;
using Crfs.Volume.Devices;
using Crfs.Volume.Mkfs;
using Microsoft.Extensions.Logging;
using Errno = Crfs.Posix.Errno;

namespace Crfs.Mount.Tests.Posix;

/// <summary>
/// One CRFS mount shared by the whole conformance suite: a writer-formatted image served by an
/// in-process <see cref="CrfsServer"/> over TCP loopback and mounted with <c>allow_other</c>, so
/// the non-root probes (other uids through setpriv) reach it too. Each test works in a fresh
/// directory from <see cref="NewDirectory"/>, so tests neither see nor disturb one another.
/// </summary>
/// <remarks>
/// Without root or /dev/fuse nothing is mounted and <see cref="SkipUnlessMounted"/> skips. The
/// temp directory is made world-searchable because the mount point lives inside it and the other
/// uids must reach it. The image is 2 GiB (sparse): the server reserves metadata per batch far
/// above what the items need (see <see cref="PosixFileTests.ManySmallWrites_ThenFsync_Succeeds"/>),
/// and a smaller volume refuses the batches of the larger tests here.
/// </remarks>
public sealed class PosixMount : IAsyncLifetime
{
    public const string Collection = "posix mount";

    private TempDirectory? _dir;
    private CrfsServer? _server;
    private CrfsTcpListener? _listener;
    private CancellationTokenSource? _stop;
    private Task? _serving;
    private CrfsMount? _mount;
    private readonly RecordingLogger _log = new();
    private int _next;

    public string Root { get; private set; } = "";

    public CrfsMount Mount => _mount ?? throw new InvalidOperationException("not mounted");

    /// <summary>Warnings and errors logged by the server, the session and the FUSE layer so far, one per line.</summary>
    public string Log => string.Join('\n', _log.Lines);

    public static void SkipUnlessMounted(PosixMount fixture)
    {
        Skip.IfNot(Capabilities.IsRoot, "needs root to mount and to switch uids");
        Skip.IfNot(Capabilities.HasDevFuse, "needs /dev/fuse");
        Skip.If(fixture._mount is null, "the mount could not be set up");
    }

    /// <summary>
    /// A new empty directory on the mount (mode 0777 by default, so other uids can work in it).
    /// Everything earlier tests changed is committed first, so each test's work is its own batch and
    /// a COMMIT the server refuses fails the test after the one that caused it, with the log, rather
    /// than evicting the session in the middle of an unrelated test.
    /// </summary>
    public string NewDirectory(uint mode = 0x1FF)
    {
        Errno synced = Task.Run(async () => await Mount.FileSystem.SyncAsync()).GetAwaiter().GetResult();
        Assert.True(synced == Errno.Ok, $"committing the earlier tests' changes failed: {synced}\n{Log}");
        string path = Path.Combine(Root, "t" + Interlocked.Increment(ref _next));
        Assert.Equal(Errno.Ok, Sys.MkDir(path, mode));
        Assert.Equal(Errno.Ok, Sys.Chmod(path, mode));
        return path;
    }

    public async Task InitializeAsync()
    {
        if (!Capabilities.IsRoot || !Capabilities.HasDevFuse)
        {
            return;
        }

        _dir = new TempDirectory("crfs-posix");
        File.SetUnixFileMode(_dir.Path, (UnixFileMode)0x1ED);
        string image = _dir.Combine("volume.img");
        using (var stream = new FileStream(image, FileMode.CreateNew))
        {
            stream.SetLength(2L << 30);
        }

        using (FileBlockDevice device = FileBlockDevice.Open(image, writable: true))
        {
            VolumeFormatter.Format(device, new MkfsOptions());
        }

        Root = _dir.Combine("mnt");
        Directory.CreateDirectory(Root);
        var loggers = new LoggerFactory([_log]);
        _server = CrfsServer.Open(image, loggerFactory: loggers);
        _listener = CrfsTcpListener.Start(new IPEndPoint(IPAddress.Loopback, 0));
        _stop = new CancellationTokenSource();
        _serving = _server.ListenAsync(_listener, _stop.Token);
        _mount = await CrfsMount.MountAsync(_listener.LocalEndPoint, Root, new CrfsMountOptions { AllowOther = true }, loggers);
    }

    /// <summary>
    /// Unmounts with the final commit, then — when btrfs-progs is installed — checks that everything
    /// the suite did left a volume <c>btrfs check</c> accepts. A failure here fails the run.
    /// </summary>
    public async Task DisposeAsync()
    {
        string? image = _dir?.Combine("volume.img");
        bool committed = true;
        try
        {
            if (_mount is not null)
            {
                try
                {
                    _mount.Unmount();
                    committed = await _mount.RunUntilUnmountedAsync();
                }
                finally
                {
                    // Unmounts lazily if a test left the mount busy; a no-op after the clean path.
                    await _mount.DisposeAsync();
                }
            }
        }
        finally
        {
            if (_stop is not null)
            {
                await _stop.CancelAsync();
                await _serving!;
                _stop.Dispose();
            }

            if (_listener is not null)
            {
                await _listener.DisposeAsync();
            }

            if (_server is not null)
            {
                await _server.DisposeAsync();
            }

        }

        try
        {
            Assert.True(committed, $"the final commit on unmount failed\n{Log}");
            if (image is not null && Capabilities.HasMkfsBtrfs)
            {
                ProcessResult check = ProcessRunner.Run("btrfs", ["check", "--readonly", "--force", image], TimeSpan.FromMinutes(2));
                string all = check.StdOut + check.StdErr;
                Assert.True(check.ExitCode == 0 && !all.Contains("ERROR", StringComparison.Ordinal), $"btrfs check after the POSIX suite, exit {check.ExitCode}:\n{all}");
            }
        }
        finally
        {
            _dir?.Dispose();
        }
    }
}

[CollectionDefinition(PosixMount.Collection)]
public sealed class PosixMountCollection : ICollectionFixture<PosixMount>;
