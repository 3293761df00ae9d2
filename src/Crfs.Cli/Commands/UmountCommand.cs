// SPDX-License-Identifier: MIT
using Crfs.Fuse;

namespace Crfs.Cli.Commands;

/// <summary>
/// <c>crfs umount</c>: detaches a FUSE mount the way <c>umount</c>/<c>fusermount3 -u</c> would
/// (umount2 as root, fusermount3 otherwise), and can abort the connection of a daemon that hangs
/// or died. The kernel work is <see cref="FuseMount"/>'s; this file parses arguments.
/// </summary>
/// <remarks>
/// Unmounting only ends the kernel connection. A daemon that still has work to do afterwards (the
/// CRFS client's final commit) finishes it in its own process once its readers see the connection
/// end; <see cref="_afterUnmount"/> is where <c>crfs umount</c> waits for that, so the command
/// returns only when the data is safe. Without a hook it returns as soon as the kernel has let go.
/// </remarks>
public sealed class UmountCommand : ICommand
{
    private readonly Action<string, FuseUnmountFlags>? _afterUnmount;

    /// <param name="afterUnmount">
    /// Called with the mountpoint after a successful unmount (not after --abort): the hook for a
    /// daemon-specific wait, e.g. the CRFS client's final commit.
    /// </param>
    public UmountCommand(Action<string, FuseUnmountFlags>? afterUnmount = null)
    {
        _afterUnmount = afterUnmount;
    }

    public string Name => "umount";

    public string Summary => "unmount a FUSE mount: plain, --lazy, --force, or --abort a hung daemon";

    public string Usage => """
        usage: crfs umount MOUNTPOINT [--lazy | --force | --abort]

          (none)    unmount; fails with "Device or resource busy" while files are open.
          --lazy    detach now (MNT_DETACH, fusermount3 -uz); the connection ends when the
                    last open file is closed.
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

        string path = Path.GetFullPath(mountPoint);
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

        FuseMount.Unmount(path, flags);
        _afterUnmount?.Invoke(path, flags);
        return 0;
    }
}
