// SPDX-License-Identifier: MIT
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using Crfs.Protocol.Transports;
using Crfs.Server;
using Crfs.Server.Locks;
using Microsoft.Extensions.Logging;

namespace Crfs.Cli.Commands;

/// <summary>
/// <c>crfs serve</c>: serves one btrfs volume (image file or block device) to CRFS clients over
/// TCP, in the foreground, logging one line per event to stderr. SIGTERM or Ctrl-C stops it
/// cleanly: commits in flight finish, a final commit makes every acknowledged change durable, and
/// the volume is closed. The engine is <see cref="CrfsServer"/>; this file parses arguments and
/// wires signals and logging.
/// </summary>
public sealed class ServeCommand : ICommand
{
    /// <summary>The default listen address: loopback only, so nothing is exposed by accident (there is no authentication yet).</summary>
    public const string DefaultListen = "127.0.0.1:7420";

    public string Name => "serve";

    public string Summary => "serve a btrfs volume to CRFS clients (foreground; stop with SIGTERM or Ctrl-C)";

    public string Usage => $"""
        usage: crfs serve VOLUME [--listen ADDR:PORT] [--revoke-timeout SECONDS] [--verbose]

          VOLUME        a btrfs image file or block device; nothing else may have it open
                        (not mounted by the kernel). A volume with an unreplayed tree log
                        (log_root set) is refused, as is anything the writer cannot maintain.
          --listen      address and port to accept clients on (default {DefaultListen}).
                        There is no authentication yet: listen on loopback or a trusted network.
          --revoke-timeout
                        evict a client that leaves a revoke unanswered this long (default 60):
                        its locks are released, its unwritten changes dropped, and it starts
                        a new session when it comes back.
          --verbose     also log debug events (every LOCK, revoke answer and ITEM_READ).
        """;

    public int Run(string[] args)
    {
        string? volume = null;
        IPEndPoint listen = IPEndPoint.Parse(DefaultListen);
        bool verbose = false;
        TimeSpan revokeTimeout = new LockServerOptions().RevokeTimeout;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--listen" or "-l":
                    if (i + 1 >= args.Length || !IPEndPoint.TryParse(args[++i], out IPEndPoint? parsed) || parsed.Port == 0)
                    {
                        throw new UsageException("--listen needs ADDR:PORT with a non-zero port, e.g. 127.0.0.1:7420");
                    }

                    listen = parsed;
                    break;
                case "--revoke-timeout":
                    if (i + 1 >= args.Length || !double.TryParse(args[++i], System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double seconds)
                        || !(seconds > 0) || seconds > TimeSpan.MaxValue.TotalSeconds / 2)
                    {
                        throw new UsageException("--revoke-timeout needs a positive number of seconds, e.g. 60");
                    }

                    revokeTimeout = TimeSpan.FromSeconds(seconds);
                    break;
                case "--verbose" or "-v":
                    verbose = true;
                    break;
                default:
                    if (args[i].StartsWith('-') || volume is not null)
                    {
                        throw new UsageException($"unexpected argument '{args[i]}'");
                    }

                    volume = args[i];
                    break;
            }
        }

        if (volume is null)
        {
            throw new UsageException("missing VOLUME");
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
        return ServeAsync(volume, listen, ServerOptions(revokeTimeout), logging).GetAwaiter().GetResult();
    }

    /// <summary>The server's options for a revoke timeout; the warning and the resend come earlier when it is short.</summary>
    public static CrfsServerOptions ServerOptions(TimeSpan revokeTimeout)
    {
        var locks = new LockServerOptions();
        locks = locks with
        {
            RevokeTimeout = revokeTimeout,
            RevokeWarning = TimeSpan.FromTicks(Math.Min(locks.RevokeWarning.Ticks, revokeTimeout.Ticks / 2)),
            RevokeResendInterval = TimeSpan.FromTicks(Math.Min(locks.RevokeResendInterval.Ticks, revokeTimeout.Ticks / 3)),
        };
        return new CrfsServerOptions { Locks = locks };
    }

    private static async Task<int> ServeAsync(string volume, IPEndPoint listen, CrfsServerOptions options, ILoggerFactory logging)
    {
        using var stop = new CancellationTokenSource();
        void OnSignal(PosixSignalContext context)
        {
            context.Cancel = true; // stop cleanly instead of dying
            stop.Cancel();
        }

        using PosixSignalRegistration term = PosixSignalRegistration.Create(PosixSignal.SIGTERM, OnSignal);
        using PosixSignalRegistration interrupt = PosixSignalRegistration.Create(PosixSignal.SIGINT, OnSignal);
        CrfsServer server = CrfsServer.Open(volume, options, logging);
        try
        {
            CrfsTcpListener listener;
            try
            {
                listener = CrfsTcpListener.Start(listen);
            }
            catch (SocketException e)
            {
                throw new IOException($"cannot listen on {listen}: {e.Message}", e);
            }

            await using (listener)
            {
                await server.ListenAsync(listener, stop.Token);
            }
        }
        finally
        {
            await server.DisposeAsync();
        }

        return 0;
    }
}
