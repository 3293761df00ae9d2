// SPDX-License-Identifier: MIT
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Crfs.Mount;
using Microsoft.Extensions.Logging;

namespace Crfs.Cli.Commands;

/// <summary>
/// <c>crfs mount</c>: connects to a <c>crfs serve</c> over TCP and mounts the volume's top-level
/// subvolume on a directory through FUSE. By default it returns once the mount is live and keeps
/// serving in the background, like sshfs (see <see cref="Daemon"/>); with <c>--foreground</c> it
/// serves in this process until the directory is unmounted (<c>crfs umount</c>, umount, or
/// SIGTERM/Ctrl-C, which unmount it). Before exiting it commits everything the session buffered,
/// so a clean unmount loses nothing that was written. The engine is <see cref="CrfsMount"/>; this
/// file parses arguments and mount options and wires logging.
/// </summary>
/// <remarks>
/// Options come as flags or, the way mount(8) and fstab pass them, as <c>-o a,b,c</c>
/// (<see cref="ParseMountOptions"/>). Every mount serves a control socket, through which
/// <c>crfs sync</c>, <c>crfs stat</c> and <c>crfs umount</c> reach it.
/// </remarks>
public sealed class MountCommand : ICommand
{
    public string Name => "mount";

    public string Summary => "mount a CRFS server's volume with FUSE (in the background; crfs umount to stop)";

    public string Usage => """
        usage: crfs mount SERVER MOUNTPOINT [-o OPTIONS] [--foreground] [--log FILE] [--allow-other] [--verbose]

          SERVER        HOST:PORT of a 'crfs serve' (e.g. 127.0.0.1:7420).
          MOUNTPOINT    an existing directory.
          -o OPTIONS    comma-separated mount options: allow_other, ro; rw, defaults, auto, noauto,
                        _netdev, nofail, user, users, nosuid, nodev and x-* are accepted and ignored
                        (they are mount(8)'s and fstab's business).
          --foreground  serve in this process until unmounted, logging to stderr.
          --log FILE    in the background, append the log to FILE (default: discarded).
          --allow-other let other users use the mount; CRFS checks permissions with each caller's ids.
          --verbose     also log debug events.

        Returns once the mount is ready; 'crfs umount MOUNTPOINT' unmounts it and returns once the
        last commit is durable on the server. fstab: see docs/mounting.md.
        """;

    public int Run(string[] args)
    {
        var positional = new List<string>();
        bool allowOther = false;
        bool readOnly = false;
        bool verbose = false;
        bool foreground = false;
        string? logFile = null;
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            switch (arg)
            {
                case "--foreground" or "-f":
                    foreground = true;
                    break;
                case "--allow-other":
                    allowOther = true;
                    break;
                case "--verbose" or "-v":
                    verbose = true;
                    break;
                case "-o" when i + 1 < args.Length:
                    ParseMountOptions(args[++i], ref allowOther, ref readOnly);
                    break;
                case var o when o.StartsWith("-o", StringComparison.Ordinal) && o.Length > 2:
                    ParseMountOptions(arg[2..], ref allowOther, ref readOnly);
                    break;
                case "--log" when i + 1 < args.Length:
                    logFile = Path.GetFullPath(args[++i]);
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
        string mountPoint = Path.GetFullPath(positional[1]);
        if (!Directory.Exists(mountPoint))
        {
            throw new UsageException($"mount point '{mountPoint}' is not a directory");
        }

        var options = new CrfsMountOptions { AllowOther = allowOther, ReadOnly = readOnly, ServeControlSocket = true };
        if (!foreground)
        {
            // The child gets the same mount, made absolute, plus --foreground (its cwd is /).
            var childArgs = new List<string> { Name, positional[0], mountPoint, "--foreground" };
            if (allowOther)
            {
                childArgs.Add("--allow-other");
            }

            if (readOnly)
            {
                childArgs.AddRange(["-o", "ro"]);
            }

            if (verbose)
            {
                childArgs.Add("--verbose");
            }

            if (logFile is not null)
            {
                childArgs.AddRange(["--log", logFile]);
            }

            return Daemon.Spawn(childArgs, logFile);
        }

        bool daemonChild = Daemon.IsChild;
        if (daemonChild)
        {
            Daemon.Detach(logFile);
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
        return MountAsync(server, mountPoint, options, logging, daemonChild).GetAwaiter().GetResult();
    }

    /// <summary>
    /// The <c>-o</c> list of mount(8)/fstab. Options that concern mount(8) itself (when and whether
    /// to mount) or that CRFS applies anyway (nosuid, nodev) are ignored; an unknown one is an
    /// error, so a typo in fstab is reported rather than silently dropped.
    /// </summary>
    internal static void ParseMountOptions(string list, ref bool allowOther, ref bool readOnly)
    {
        foreach (string option in list.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            switch (option)
            {
                case "allow_other":
                    allowOther = true;
                    break;
                case "ro":
                    readOnly = true;
                    break;
                case "rw":
                    readOnly = false;
                    break;
                case "defaults" or "auto" or "noauto" or "_netdev" or "nofail" or "user" or "users" or "nosuid" or "nodev":
                    break;
                case { } when option.StartsWith("x-", StringComparison.Ordinal):
                    break;
                default:
                    throw new UsageException($"unknown mount option '{option}' (known: allow_other, ro, rw, defaults, auto, noauto, _netdev, nofail, user, users, nosuid, nodev, x-*)");
            }
        }
    }

    private static async Task<int> MountAsync(IPEndPoint server, string mountPoint, CrfsMountOptions options, ILoggerFactory logging, bool daemonChild)
    {
        CrfsMount mount;
        try
        {
            mount = await CrfsMount.MountAsync(server, mountPoint, options, logging, unmountOnTerminationSignals: true);
        }
        catch (SocketException e)
        {
            Daemon.Notify($"cannot connect to {server}: {e.Message}");
            throw new IOException($"cannot connect to {server}: {e.Message}", e);
        }
        catch (Exception e)
        {
            Daemon.Notify(e.Message);
            throw;
        }

        await using (mount)
        {
            if (daemonChild)
            {
                Daemon.Notify(null);
            }

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
