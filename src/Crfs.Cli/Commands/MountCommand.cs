// SPDX-License-Identifier: MIT
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Crfs.Mount;
using Microsoft.Extensions.Logging;

namespace Crfs.Cli.Commands;

/// <summary>
/// <c>crfs mount</c>: connects to a <c>crfs serve</c> over TCP and mounts the volume's top-level
/// subvolume on a directory through FUSE, serving until the directory is unmounted (umount, or
/// SIGTERM/Ctrl-C, which unmount it). Before exiting it commits everything the session buffered,
/// so a clean unmount loses nothing that was written. The engine is <see cref="CrfsMount"/>; this
/// file parses arguments and wires logging.
/// </summary>
/// <remarks>
/// There is no daemon mode yet: the command always stays in the foreground (<c>--foreground</c>
/// is accepted so scripts can already say what they mean). Detaching would need a fork before the
/// runtime starts threads, or a re-exec with the mount handed over; neither is done.
/// </remarks>
public sealed class MountCommand : ICommand
{
    public string Name => "mount";

    public string Summary => "mount a CRFS server's volume with FUSE (foreground; unmount or SIGTERM to stop)";

    public string Usage => """
        usage: crfs mount SERVER MOUNTPOINT [--foreground] [--allow-other] [--verbose]

          SERVER        HOST:PORT of a 'crfs serve' (e.g. 127.0.0.1:7420).
          MOUNTPOINT    an existing directory.
          --foreground  stay in the foreground (currently always the case).
          --allow-other let other users use the mount; CRFS checks permissions with each caller's ids.
          --verbose     also log debug events.
        """;

    public int Run(string[] args)
    {
        var positional = new List<string>();
        bool allowOther = false;
        bool verbose = false;
        foreach (string arg in args)
        {
            switch (arg)
            {
                case "--foreground" or "-f":
                    break;
                case "--allow-other":
                    allowOther = true;
                    break;
                case "--verbose" or "-v":
                    verbose = true;
                    break;
                default:
                    if (arg.StartsWith('-'))
                    {
                        throw new UsageException($"unexpected argument '{arg}'");
                    }

                    positional.Add(arg);
                    break;
            }
        }

        if (positional.Count != 2)
        {
            throw new UsageException("need SERVER and MOUNTPOINT");
        }

        IPEndPoint server = ParseServer(positional[0]);
        string mountPoint = positional[1];
        if (!Directory.Exists(mountPoint))
        {
            throw new UsageException($"mount point '{mountPoint}' is not a directory");
        }

        using ILoggerFactory logging = LoggerFactory.Create(b => b
            .SetMinimumLevel(verbose ? LogLevel.Debug : LogLevel.Information)
            .AddConsole(o => o.LogToStandardErrorThreshold = LogLevel.Trace)
            .AddSimpleConsole(o =>
            {
                o.SingleLine = true;
                o.TimestampFormat = "yyyy-MM-ddTHH:mm:ss.fff ";
                o.UseUtcTimestamp = true;
            }));
        return MountAsync(server, mountPoint, allowOther, logging).GetAwaiter().GetResult();
    }

    private static async Task<int> MountAsync(IPEndPoint server, string mountPoint, bool allowOther, ILoggerFactory logging)
    {
        CrfsMount mount;
        try
        {
            mount = await CrfsMount.MountAsync(server, mountPoint, new CrfsMountOptions { AllowOther = allowOther }, logging, unmountOnTerminationSignals: true);
        }
        catch (SocketException e)
        {
            throw new IOException($"cannot connect to {server}: {e.Message}", e);
        }

        await using (mount)
        {
            if (!await mount.RunUntilUnmountedAsync())
            {
                Console.Error.WriteLine($"crfs mount: the final commit to {server} failed; changes since the last successful commit are lost");
                return 1;
            }
        }

        return 0;
    }

    /// <summary>HOST:PORT, with HOST an address or a name (resolved once, first address).</summary>
    private static IPEndPoint ParseServer(string text)
    {
        if (IPEndPoint.TryParse(text, out IPEndPoint? endPoint) && endPoint.Port != 0)
        {
            return endPoint;
        }

        int colon = text.LastIndexOf(':');
        if (colon <= 0 || !int.TryParse(text.AsSpan(colon + 1), NumberStyles.None, CultureInfo.InvariantCulture, out int port) || port is <= 0 or > 65535)
        {
            throw new UsageException($"SERVER must be HOST:PORT with a non-zero port, not '{text}'");
        }

        string host = text[..colon];
        IPAddress[] addresses;
        try
        {
            addresses = Dns.GetHostAddresses(host);
        }
        catch (SocketException e)
        {
            throw new UsageException($"cannot resolve '{host}': {e.Message}");
        }

        return addresses.Length > 0 ? new IPEndPoint(addresses[0], port) : throw new UsageException($"'{host}' has no address");
    }
}
