// SPDX-License-Identifier: MIT
using System.Text.Json;
using Crfs.Fuse;
using Crfs.Mount.Control;

namespace Crfs.Cli.Commands;

/// <summary>
/// <c>crfs umount</c>: unmounts a CRFS mount and returns only once the mount process's final commit
/// is durable on the server; other FUSE mounts it detaches the way <c>umount</c>/<c>fusermount3
/// -u</c> would, and it can abort the connection of a daemon that hangs or died.
/// </summary>
/// <remarks>
/// <para>Unmounting only ends the kernel connection; the data is safe only after the CRFS client's
/// final commit, which its own process makes. So for a CRFS mount with a control socket the
/// command asks that process to unmount (<c>unmount</c> on the control channel) and waits for its
/// answer, which comes after the final commit returned, and then for the process to exit.
/// Without a control socket (another FUSE file system, a CRFS mount made by a library user) it
/// falls back to umount2/fusermount3 and returns when the kernel has let go. A CRFS mount whose
/// process has gone is detached the same way, and the command says that nothing was committed.</para>
/// <para><c>--lazy</c> detaches at once and does not wait: the connection, and so the final commit,
/// ends only when the last open file is closed, which may be never.</para>
/// </remarks>
public sealed class UmountCommand : ICommand
{
    /// <summary>How long to wait for a mount process to exit after it answered the unmount.</summary>
    private static readonly TimeSpan s_exitTimeout = TimeSpan.FromSeconds(30);

    public string Name => "umount";

    public string Summary => "unmount a FUSE mount: plain, --lazy, --force, or --abort a hung daemon";

    public string Usage => """
        usage: crfs umount MOUNTPOINT [--lazy | --force | --abort]

          (none)    unmount; fails with "Device or resource busy" while files are open.
                    For a CRFS mount, returns once its final commit is durable.
          --lazy    detach now (MNT_DETACH, fusermount3 -uz); the connection ends when the
                    last open file is closed, and only then is the final commit made: the
                    command does not wait for it.
          --force   MNT_FORCE (root only): for FUSE this aborts the connection first, so
                    requests in flight fail, then unmounts.
          --abort   for a daemon that hangs or died: fail every pending and future request
                    through /sys/fs/fuse/connections/N/abort (fusectl is mounted if needed;
                    root only), then detach the mount lazily. Stuck processes get ENOTCONN.
        """;

    public int Run(string[] args)
    {
        string? mountPoint = null;
        FuseUnmountFlags flags = FuseUnmountFlags.None;
        bool abort = false;
        foreach (string a in args)
        {
            switch (a)
            {
                case "--lazy" or "-l":
                    flags |= FuseUnmountFlags.Lazy;
                    break;
                case "--force" or "-f":
                    flags |= FuseUnmountFlags.Force;
                    break;
                case "--abort":
                    abort = true;
                    break;
                case { } when a.StartsWith('-'):
                    throw new UsageException($"unknown option '{a}'");
                default:
                    if (mountPoint is not null)
                    {
                        throw new UsageException("only one MOUNTPOINT");
                    }

                    mountPoint = a;
                    break;
            }
        }

        if (mountPoint is null)
        {
            throw new UsageException("missing MOUNTPOINT");
        }

        if (abort && flags != FuseUnmountFlags.None)
        {
            throw new UsageException("--abort cannot be combined with --lazy or --force");
        }

        string path = Path.TrimEndingDirectorySeparator(Path.GetFullPath(mountPoint));
        if (!FuseMount.IsMounted(path))
        {
            throw new IOException($"'{path}' is not a FUSE mountpoint");
        }

        if (abort)
        {
            uint connection = FuseMount.Abort(path);
            FuseMount.Unmount(path, FuseUnmountFlags.Lazy);
            Console.Error.WriteLine($"crfs umount: aborted FUSE connection {connection} and detached {path}");
            return 0;
        }

        if ((flags & FuseUnmountFlags.Lazy) == 0 && MountControlClient.Locate(path, out _).IsOk)
        {
            return UnmountThroughControl(path, flags);
        }

        bool crfs = MountTable.Find(path)?.IsCrfs == true;
        FuseMount.Unmount(path, flags);
        if (crfs && (flags & FuseUnmountFlags.Lazy) == 0)
        {
            Console.Error.WriteLine($"crfs umount: {path} had no reachable control socket; unmounted without waiting for a final commit");
        }

        return 0;
    }

    private static int UnmountThroughControl(string path, FuseUnmountFlags flags)
    {
        // The pid first, so that after the answer the command can also wait for the exit.
        _ = MountControlClient.Locate(path, out string? socketPath);
        string socket = socketPath!;
        int? pid = null;
        ControlReply stat = MountControlClient.SendAsync(path, ControlVerb.Stat).GetAwaiter().GetResult();
        if (stat.IsOk && stat.Payload is not null)
        {
            using var json = JsonDocument.Parse(stat.Payload);
            pid = json.RootElement.GetProperty("pid").GetInt32();
        }

        ControlVerb verb = (flags & FuseUnmountFlags.Force) != 0 ? ControlVerb.UnmountForce : ControlVerb.Unmount;
        ControlReply reply = stat.Status == ControlStatus.MountProcessGone
            ? stat
            : MountControlClient.SendAsync(path, verb).GetAwaiter().GetResult();
        switch (reply.Status)
        {
            case ControlStatus.Ok:
                if (pid is int p && !ProcessWatch.WaitForExit(p, s_exitTimeout))
                {
                    Console.Error.WriteLine($"crfs umount: {path} is unmounted and committed, but its mount process {p} has not exited after {s_exitTimeout.TotalSeconds:0} s");
                }

                return 0;
            case ControlStatus.MountProcessGone:
                FuseMount.Unmount(path, flags | FuseUnmountFlags.Lazy);
                // Nobody listens on the socket a killed process left behind; with its mount gone
                // the name is free for the next mount that gets the same device number.
                if (MountControlClient.Locate(path, out _).Status == ControlStatus.NotMounted)
                {
                    File.Delete(socket);
                }

                throw new IOException($"{reply.Message}; detached it, but nothing was committed at unmount (writes since its last commit are lost)");
            default:
                throw new IOException(reply.Message);
        }
    }
}
