// SPDX-License-Identifier: MIT
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Crfs.Fuse;
using Crfs.Fuse.Abi;
using Microsoft.Extensions.Logging;

namespace Crfs.Bench.Passthrough;

/// <summary>
/// <c>Crfs.Bench.Passthrough SOURCE MOUNTPOINT [options]</c>: mounts a passthrough of SOURCE and
/// serves it until unmounted (Ctrl-C and SIGTERM unmount). SIGUSR1 writes the request counters
/// to the --counters file (atomically: temp file + rename), which the benchmark script reads
/// between phases; the final counters are written at exit.
/// </summary>
public static class Program
{
    private const int Sigusr1 = 10;

    public static int Main(string[] args)
    {
        if (args.Length < 2)
        {
            Console.Error.WriteLine("""
                usage: Crfs.Bench.Passthrough SOURCE MOUNTPOINT [--uring] [--timeout SECONDS] [--counters FILE]
                                              [--readers N] [--no-killpriv] [--writeback] [--allow-other] [--trace]
                  --uring        FUSE-over-io_uring when the kernel offers it (enable_uring=Y)
                  --timeout      entry/attribute cache timeout (default 86400, like passthrough_hp)
                  --counters     where SIGUSR1 and exit write requests by opcode
                  --readers      minimum /dev/fuse reader threads (default 2)
                  --no-killpriv  do not negotiate HANDLE_KILLPRIV_V2
                  --writeback    kernel writeback cache (write-only opens become read-write)
                  --allow-other  let other users in; the kernel then checks permissions (default_permissions)
                  --trace        log every request and reply (slow)
                """);
            return 2;
        }

        string source = args[0];
        string mountPoint = args[1];
        bool uring = args.Contains("--uring");
        bool killPriv = !args.Contains("--no-killpriv");
        bool writeback = args.Contains("--writeback");
        bool allowOther = args.Contains("--allow-other");
        double timeoutSeconds = double.Parse(Option(args, "--timeout") ?? "86400", CultureInfo.InvariantCulture);
        int readers = int.Parse(Option(args, "--readers") ?? "2", CultureInfo.InvariantCulture);
        string? countersFile = Option(args, "--counters");

        using ILoggerFactory loggers = LoggerFactory.Create(b => b
            .AddSimpleConsole(o => o.SingleLine = true)
            .SetMinimumLevel(args.Contains("--trace") ? LogLevel.Trace : LogLevel.Information));
        ILogger logger = loggers.CreateLogger("passthrough");

        // Modes arrive with the caller's umask already applied; ours must not apply a second one.
        Native.Umask(0);
        var fs = new PassthroughFileSystem(source, TimeSpan.FromSeconds(timeoutSeconds), writeback);
        var options = new FuseOptions
        {
            AtomicOTrunc = true,
            HandleKillPrivV2 = killPriv,
            WritebackCache = writeback,
            MinReaders = readers,
            Transport = uring ? FuseTransportKind.IoUring : FuseTransportKind.DevFuse,
        };
        var mountOptions = new FuseMountOptions
        {
            FsName = Path.GetFullPath(source),
            Subtype = "crfs-passthrough",
            // Like libfuse's passthrough_hp: a private mount, and the kernel leaves permission checks
            // to the backing file system (the daemon's, so only the mounting user may be let in).
            // With other users, the kernel must check modes itself: default_permissions, which
            // costs a GETATTR of the parent directory after every change in it.
            AllowOther = allowOther,
            DefaultPermissions = allowOther,
            UnmountOnTerminationSignals = true,
        };

        using FuseServer server = FuseServer.Mount(fs, mountPoint, mountOptions, options, logger);
        Console.Error.WriteLine($"passthrough: {source} on {server.MountPoint} over {server.TransportName}; negotiated 7.{server.Connection.Minor} {server.Connection.Flags}");
        using PosixSignalRegistration? dump = countersFile is null ? null : PosixSignalRegistration.Create((PosixSignal)Sigusr1, context =>
        {
            context.Cancel = true;
            WriteCounters(countersFile, server.Counters, fs);
        });

        server.Completion.Wait();
        if (countersFile is not null)
        {
            WriteCounters(countersFile, server.Counters, fs);
        }

        return 0;
    }

    private static string? Option(string[] args, string name)
    {
        int i = Array.IndexOf(args, name);
        return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
    }

    private static void WriteCounters(string file, FuseCounters counters, PassthroughFileSystem fs)
    {
        var text = new StringBuilder();
        foreach ((FuseOpcode opcode, long count) in counters.Snapshot())
        {
            text.Append(CultureInfo.InvariantCulture, $"{opcode} {count}\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"TOTAL {counters.TotalRequests}\nRING {counters.RingRequests}\nERRORS {counters.ErrorReplies}\nNODES {fs.NodeCount}\n");
        string temp = file + ".tmp";
        File.WriteAllText(temp, text.ToString());
        File.Move(temp, file, overwrite: true);
    }
}
