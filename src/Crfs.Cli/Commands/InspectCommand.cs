// SPDX-License-Identifier: MIT
using System.Text;
using Crfs.Volume;
using Crfs.Volume.Files;
using Microsoft.Extensions.Logging;

namespace Crfs.Cli.Commands;

/// <summary>
/// <c>crfs inspect</c>: reads a btrfs volume offline, with no kernel mount, through the same reader
/// the server uses (btrfs-progs' <c>inspect-internal</c> and <c>restore</c> in one place). Each
/// subcommand lives in its own <c>Inspect*.cs</c> file; this one parses arguments, opens the
/// volume, and turns failures into one line on stderr prefixed with the subcommand.
/// </summary>
public sealed class InspectCommand : ICommand
{
    public string Name => "inspect";

    public string Summary => "read a volume offline: dump-super, dump-tree, ls, cat, get";

    public string Usage => """
        usage: crfs inspect dump-super VOLUME
               crfs inspect dump-tree VOLUME [TREE]
               crfs inspect ls VOLUME [PATH]
               crfs inspect cat VOLUME PATH
               crfs inspect get VOLUME PATH DEST

          VOLUME  an image file or block device; a volume on several devices is named by
                  all of them joined with commas (a.img,b.img), in any order: devices are
                  matched by the fsid and devid in their superblocks.
          TREE    root, extent, chunk, dev, fs, csum, quota, uuid, free-space, block-group,
                  data-reloc, a tree id, or the path of a subvolume; all trees when omitted.
          PATH    a path from the root of the default subvolume ("/" for the root);
                  subvolumes are entered like directories.

          dump-super  prints the superblock (all fields, backup roots, system chunk array).
          dump-tree   prints every node and leaf of a tree with each item decoded.
          ls          lists a directory (or one file) like ls -la, with nanosecond mtimes.
          cat         writes a file's bytes to stdout.
          get         copies PATH (a file, or a directory tree with its subvolumes) to DEST,
                      keeping modes, owners, ns times, xattrs, hard links, symlinks, device
                      nodes, fifos and holes. An existing DEST directory receives PATH's
                      contents, as with cp -a PATH/. DEST.

        Every block and data sector read is verified; a bad copy of mirrored metadata or data is
        reported on stderr and the good copy used. Corruption that no copy repairs ends the command
        with exit status 1 and one line naming the address or inode and offset.
        """;

    public int Run(string[] args)
    {
        if (args.Length == 0)
        {
            throw new UsageException("missing subcommand");
        }

        string sub = args[0];
        string[] rest = args[1..];
        try
        {
            return sub switch
            {
                "dump-super" => WithVolume(sub, rest, 1, 1, InspectDumpSuper.Run),
                "dump-tree" => WithVolume(sub, rest, 1, 2, InspectDumpTree.Run),
                "ls" => WithVolume(sub, rest, 1, 2, InspectBrowse.RunLs),
                "cat" => WithVolume(sub, rest, 2, 2, InspectBrowse.RunCat),
                "get" => WithVolume(sub, rest, 3, 3, InspectGet.Run),
                _ => throw new UsageException($"unknown subcommand '{sub}'"),
            };
        }
        catch (Exception e) when (e is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            // One line naming what was wrong; the reader's messages already carry the addresses.
            Console.Out.Flush();
            Console.Error.WriteLine($"crfs inspect {sub}: {e.Message}");
            return 1;
        }
    }

    /// <summary>Splits a VOLUME argument into device paths.</summary>
    public static string[] DevicePaths(string volume) =>
        volume.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Resolves a PATH argument, or throws an <see cref="IOException"/> naming the failing prefix.</summary>
    public static ResolvedPath Resolve(BtrfsVolume volume, string path)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(path);
        if (volume.TryResolvePath(bytes, out ResolvedPath resolved, out PathError error, out int failedAt))
        {
            return resolved;
        }

        string prefix = Encoding.UTF8.GetString(bytes, 0, failedAt);
        throw new IOException(error == PathError.NotADirectory ? $"{prefix}: not a directory" : $"{prefix}: no such file or directory");
    }

    private static int WithVolume(string sub, string[] args, int min, int max, Func<BtrfsVolume, string[], int> run)
    {
        if (args.Length < min || args.Length > max)
        {
            throw new UsageException($"{sub} takes {(min == max ? $"{min}" : $"{min} to {max}")} arguments, got {args.Length}");
        }

        var options = new VolumeOptions { Logger = new StderrLogger($"crfs inspect {sub}") };
        using BtrfsVolume volume = BtrfsVolume.Open(DevicePaths(args[0]), options);
        return run(volume, args[1..]);
    }

    /// <summary>Warnings as single stderr lines: <c>crfs inspect get: warning: ...</c>.</summary>
    private sealed class StderrLogger(string prefix) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (IsEnabled(logLevel))
            {
                string level = logLevel >= LogLevel.Error ? "error" : "warning";
                Console.Error.WriteLine($"{prefix}: {level}: {formatter(state, exception)}");
            }
        }
    }
}
