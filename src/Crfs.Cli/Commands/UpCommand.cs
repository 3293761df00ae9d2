// SPDX-License-Identifier: MIT
using System.IO.Compression;
using System.Net;
using Crfs.Mount;
using Crfs.Protocol.Transports;
using Crfs.Server;
using Microsoft.Extensions.Logging;

namespace Crfs.Cli.Commands;

/// <summary>
/// <c>crfs up</c>: the README's first command. It makes the default volume if there is none (from
/// the embedded sample image, see docs/decisions/0003), serves it and mounts it, in one process,
/// and stays in the foreground until Ctrl-C, SIGTERM or <c>crfs umount</c>; then the mount's last
/// commit is made durable and the server stops with everything acknowledged on disk.
/// </summary>
/// <remarks>
/// Server and client talk over TCP on a loopback port the kernel picks, the same path as two
/// machines take; the in-memory pipe of the architecture sketch is a later refinement (the mount
/// library takes an endpoint today). Where this machine cannot mount (no /dev/fuse, or neither
/// root nor fusermount3), the command says why and shows the volume through the reader instead.
/// </remarks>
public sealed class UpCommand : ICommand
{
    private const string SampleResource = "Crfs.Cli.Resources.sample-volume.img.gz";

    public string Name => "up";

    public string Summary => "serve and mount the default volume (made from the embedded sample if absent)";

    public string Usage => """
        usage: crfs up [--volume PATH] [--mountpoint DIR] [--verbose]

          --volume PATH     the volume to serve (default: $CRFS_HOME/default.img, where CRFS_HOME
                            defaults to ~/.crfs). Created from the embedded sample volume, a
                            128 MiB btrfs image made by mkfs.btrfs, when it does not exist.
          --mountpoint DIR  where to mount it (default: $CRFS_HOME/mnt, created if absent).

        Stays in the foreground; stop with Ctrl-C, SIGTERM or `crfs umount DIR`.
        """;

    public int Run(string[] args)
    {
        string home = Environment.GetEnvironmentVariable("CRFS_HOME") is { Length: > 0 } h
            ? h
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".crfs");
        string volume = Path.Combine(home, "default.img");
        string mountPoint = Path.Combine(home, "mnt");
        bool verbose = false;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--volume" when i + 1 < args.Length:
                    volume = Path.GetFullPath(args[++i]);
                    break;
                case "--mountpoint" when i + 1 < args.Length:
                    mountPoint = Path.GetFullPath(args[++i]);
                    break;
                case "--verbose" or "-v":
                    verbose = true;
                    break;
                default:
                    throw new UsageException($"unexpected argument '{args[i]}'");
            }
        }

        if (!File.Exists(volume))
        {
            CreateFromSample(volume);
            Console.WriteLine($"crfs up: created the default volume {volume} from the embedded sample");
        }

        if (WhyCannotMount() is string reason)
        {
            Console.WriteLine($"crfs up: cannot mount on this machine ({reason}); showing {volume} through CRFS's btrfs reader instead.");
            return ShowThroughReader(volume);
        }

        Directory.CreateDirectory(mountPoint);
        using ILoggerFactory logging = LoggerFactory.Create(b => b
            .SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Warning)
            .AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fff ";
                o.UseUtcTimestamp = true;
            })
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace));
        return UpAsync(volume, mountPoint, logging).GetAwaiter().GetResult();
    }

    private static async Task<int> UpAsync(string volume, string mountPoint, ILoggerFactory logging)
    {
        CrfsServer server = CrfsServer.Open(volume, new CrfsServerOptions(), logging);
        using var stopServer = new CancellationTokenSource();
        Task serving = Task.CompletedTask;
        CrfsTcpListener? listener = null;
        try
        {
            listener = CrfsTcpListener.Start(new IPEndPoint(IPAddress.Loopback, 0));
            serving = server.ListenAsync(listener, stopServer.Token);
            await using CrfsMount mount = await CrfsMount.MountAsync(
                listener.LocalEndPoint, mountPoint, new CrfsMountOptions(), logging, unmountOnTerminationSignals: true);
            Console.WriteLine($"crfs up: {volume} is served on {listener.LocalEndPoint} and mounted at {mountPoint}");
            Console.WriteLine($"crfs up: stop with Ctrl-C, or from another shell: ./crfs umount {mountPoint}");
            bool committed = await mount.RunUntilUnmountedAsync();
            Console.WriteLine(committed
                ? "crfs up: unmounted; everything written is on disk"
                : "crfs up: unmounted, but the final commit failed; changes since the last commit are lost");
            return committed ? 0 : 1;
        }
        finally
        {
            await stopServer.CancelAsync();
            try
            {
                await serving;
            }
            catch (OperationCanceledException)
            {
                // The listener was asked to stop.
            }

            if (listener is not null)
            {
                await listener.DisposeAsync();
            }

            await server.DisposeAsync();
        }
    }

    private static string? WhyCannotMount()
    {
        if (!File.Exists("/dev/fuse"))
        {
            return "no /dev/fuse";
        }

        bool root = Environment.UserName == "root" || Environment.GetEnvironmentVariable("EUID") == "0";
        bool fusermount = File.Exists("/usr/bin/fusermount3") || File.Exists("/bin/fusermount3");
        return root || fusermount ? null : "not root and no fusermount3 (apt-get install fuse3)";
    }

    private static int ShowThroughReader(string volume)
    {
        var inspect = new InspectCommand();
        int status = inspect.Run(["ls", volume, "/"]);
        if (status != 0)
        {
            return status;
        }

        Console.WriteLine();
        Console.WriteLine("--- /WELCOME.txt ---");
        Console.Out.Flush();
        return inspect.Run(["cat", volume, "/WELCOME.txt"]);
    }

    private static void CreateFromSample(string volume)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(volume)!);
        using Stream compressed = typeof(UpCommand).Assembly.GetManifestResourceStream(SampleResource)
            ?? throw new InvalidOperationException($"the embedded resource {SampleResource} is missing from this build");
        string temp = volume + ".partial";
        using (var gzip = new GZipStream(compressed, CompressionMode.Decompress))
        using (FileStream output = File.Create(temp))
        {
            gzip.CopyTo(output);
        }

        // Rename last, so an interrupted first run never leaves a truncated volume behind.
        File.Move(temp, volume, overwrite: false);
    }
}
