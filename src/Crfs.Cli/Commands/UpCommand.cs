// SPDX-License-Identifier: MIT
using System.IO.Compression;
using Crfs.Mount;
using Crfs.Server;
using Crfs.Volume.Files;
using Crfs.Volume.Transactions;
using Microsoft.Extensions.Logging;

namespace Crfs.Cli.Commands;

/// <summary>
/// <c>crfs up</c>: the README's first command. It makes the default volume if there is none (from
/// the embedded sample image, see docs/decisions/0003), serves it and mounts it, in one process,
/// and stays in the foreground until Ctrl-C, SIGTERM or <c>crfs umount</c>; then the mount's last
/// commit is made durable and the server stops with everything acknowledged on disk.
/// </summary>
/// <remarks>
/// Server and client talk over an in-memory pipe (<see cref="CrfsServer.ConnectInMemory"/>): the
/// same protocol, framing and session code as between two machines, without a socket. The mount
/// serves its control socket like any <c>crfs mount</c>, so <c>crfs sync</c>, <c>crfs stat</c> and
/// <c>crfs umount</c> work on it. Where this machine cannot mount (no /dev/fuse, or neither root
/// nor fusermount3), the command says why and shows the volume through the reader instead.
/// </remarks>
public sealed class UpCommand : ICommand
{
    private const string SampleResource = "Crfs.Cli.Resources.sample-volume.img.gz";

    public string Name => "up";

    public string Summary => "serve and mount the default volume (made from the embedded sample if absent)";

    public string Usage => """
        usage: crfs up [--volume PATH] [--size SIZE] [--mountpoint DIR] [--verbose]

          --volume PATH     the volume to serve (default: $CRFS_HOME/default.img, where CRFS_HOME
                            defaults to ~/.crfs). Created from the embedded sample volume, a
                            128 MiB btrfs image made by mkfs.btrfs, when it does not exist.
          --size SIZE       the size a new volume is grown to (sparse; default 16G, at most the
                            space free where it is made). Ignored for an existing volume.
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
        ulong? size = null;
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
                case "--size" when i + 1 < args.Length:
                    size = MkfsCommand.ParseSize(args[++i]);
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
            ulong grownTo = CreateFromSample(volume, size);
            Console.WriteLine($"crfs up: created the default volume {volume} ({grownTo >> 20} MiB, sparse) from the embedded sample");
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
        await using CrfsServer server = CrfsServer.Open(volume, new CrfsServerOptions(), logging);
        var options = new CrfsMountOptions { ServeControlSocket = true, FsName = $"crfs:{volume}" };
        await using CrfsMount mount = await CrfsMount.MountAsync(
            _ => ValueTask.FromResult(server.ConnectInMemory()), mountPoint, options, logging, unmountOnTerminationSignals: true);
        Console.WriteLine($"crfs up: {volume} is served in this process and mounted at {mountPoint}");
        Console.WriteLine($"crfs up: stop with Ctrl-C, or from another shell: ./crfs umount {mountPoint}");
        bool committed = await mount.RunUntilUnmountedAsync();
        Console.WriteLine(committed
            ? "crfs up: unmounted; everything written is on disk"
            : "crfs up: unmounted, but the final commit failed; changes since the last commit are lost");
        return committed ? 0 : 1;
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

    private const ulong DefaultVolumeSize = 16UL << 30;

    /// <summary>
    /// Unpacks the sample and grows it to <paramref name="requested"/> (or the default, capped by
    /// the free space of the host file system, so the volume never promises space the host does
    /// not have) the way <c>btrfs filesystem resize</c> would; returns the size.
    /// </summary>
    /// <remarks>
    /// The sample stays small so the CLI stays small; a 128 MiB volume would fill after a few
    /// thousand files. Growing only records the new device size: the file is sparse, and chunks
    /// are added in the new space as it fills.
    /// </remarks>
    private static ulong CreateFromSample(string volume, ulong? requested)
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

        ulong sampleSize = (ulong)new FileInfo(temp).Length;
        ulong free = (ulong)new DriveInfo(Path.GetDirectoryName(Path.GetFullPath(temp))!).AvailableFreeSpace;
        ulong size = Math.Max(sampleSize, requested ?? Math.Min(DefaultVolumeSize, free / 10 * 9));
        if (size > sampleSize)
        {
            using (var grow = new FileStream(temp, FileMode.Open, FileAccess.ReadWrite))
            {
                grow.SetLength((long)size);
            }

            using VolumeWriter writer = VolumeWriter.Open(temp);
            if (writer.Execute(tx => tx.GrowDevice(size)) != WriteStatus.Ok)
            {
                throw new InvalidOperationException($"could not grow {temp} from {sampleSize} to {size} bytes");
            }

            writer.Commit();
        }

        // Rename last, so an interrupted first run never leaves a truncated volume behind.
        File.Move(temp, volume, overwrite: false);
        return size;
    }
}
