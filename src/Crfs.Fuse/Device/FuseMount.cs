// SPDX-License-Identifier: MIT
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Crfs.Posix;

namespace Crfs.Fuse;

/// <summary>
/// Mounting, unmounting and aborting FUSE connections.
/// </summary>
/// <remarks>
/// <para><b>Mount.</b> As root: open /dev/fuse, then mount(2) with
/// <c>fd=N,rootmode=…,user_id=…,group_id=…</c> plus default_permissions/allow_other/max_read in
/// the data string and nosuid/nodev/noexec/ro as flags (the kernel rejects unknown data options).
/// mount(2) returns before INIT is answered; the first read of the descriptor is INIT, and any
/// access to the mountpoint blocks until it is answered. Not root: fusermount3 is spawned with one
/// end of a socketpair in <c>_FUSE_COMMFD</c>, does the mount, and sends the /dev/fuse descriptor
/// back with SCM_RIGHTS.</para>
/// <para><b>Unmount.</b> umount2(2) (MNT_DETACH for lazy, MNT_FORCE for forced) as root,
/// <c>fusermount3 -u [-z]</c> otherwise. The kernel then ends the connection and the readers see
/// ENODEV. A plain <c>fuse</c> mount gets no DESTROY.</para>
/// <para><b>Abort.</b> A daemon that hangs or died with requests outstanding leaves callers in
/// uninterruptible sleep. Writing to <c>/sys/fs/fuse/connections/N/abort</c> (N is the mount's
/// device number, found in /proc/self/mountinfo without touching the mount) fails every pending
/// and future request with ENOTCONN; the mount then needs a (lazy) unmount. fusectl is mounted on
/// demand, and unmounted again if it was not mounted before.</para>
/// </remarks>
public static class FuseMount
{
    public const string DevicePath = "/dev/fuse";
    public const string ConnectionsPath = "/sys/fs/fuse/connections";

    private static readonly Lazy<bool> s_isRoot = new(() => Libc.GetEuid() == 0);

    /// <summary>Whether this process mounts with mount(2) itself.</summary>
    public static bool IsRoot => s_isRoot.Value;

    /// <summary>Opens /dev/fuse and mounts it on <paramref name="mountPoint"/>; returns the descriptor.</summary>
    /// <exception cref="IOException">The mount failed; the message names the path and errno.</exception>
    internal static MountedDevice Mount(string mountPoint, FuseMountOptions options)
    {
        string path = Path.GetFullPath(mountPoint);
        bool kernel = options.Method switch
        {
            FuseMountMethod.Kernel => true,
            FuseMountMethod.Fusermount => false,
            _ => IsRoot,
        };
        return kernel ? MountKernel(path, options) : MountFusermount(path, options);
    }

    /// <summary>Unmounts <paramref name="mountPoint"/> (root: umount2; otherwise fusermount3 -u).</summary>
    /// <exception cref="IOException">The unmount failed (EBUSY without Lazy, EINVAL if not a mountpoint, ...).</exception>
    public static void Unmount(string mountPoint, FuseUnmountFlags flags = FuseUnmountFlags.None)
    {
        string path = Path.GetFullPath(mountPoint);
        if (IsRoot)
        {
            int f = Libc.UMOUNT_NOFOLLOW;
            f |= (flags & FuseUnmountFlags.Lazy) != 0 ? Libc.MNT_DETACH : 0;
            f |= (flags & FuseUnmountFlags.Force) != 0 ? Libc.MNT_FORCE : 0;
            if (Libc.Umount2(path, f) != 0)
            {
                Errno e = Libc.LastErrno;
                throw new IOException($"umount2 '{path}' (flags {flags}) failed: {e}", (int)e);
            }

            return;
        }

        if ((flags & FuseUnmountFlags.Force) != 0)
        {
            throw new IOException($"forced unmount of '{path}' needs root; use Abort then a lazy unmount");
        }

        var arguments = new List<string> { (flags & FuseUnmountFlags.Lazy) != 0 ? "-uz" : "-u", "--", path };
        (int exit, string stderr) = RunTool("fusermount3", arguments);
        if (exit != 0)
        {
            throw new IOException($"fusermount3 -u '{path}' failed (exit {exit}): {stderr.Trim()}");
        }
    }

    /// <summary>
    /// Aborts the FUSE connection mounted at <paramref name="mountPoint"/> through fusectl: every
    /// waiting and future request fails with ENOTCONN and the daemon's readers stop. Needs root.
    /// The mountpoint itself is not touched (a hung mount would block the caller).
    /// </summary>
    /// <returns>The connection id that was aborted.</returns>
    public static uint Abort(string mountPoint)
    {
        string path = Path.GetFullPath(mountPoint);
        uint connection = FindConnection(path)
            ?? throw new IOException($"'{path}' is not a FUSE mountpoint (no fuse entry in /proc/self/mountinfo)");
        AbortConnection(connection);
        return connection;
    }

    /// <summary>Writes 1 to /sys/fs/fuse/connections/<paramref name="connection"/>/abort, mounting fusectl first if needed.</summary>
    public static void AbortConnection(uint connection)
    {
        string abortFile = Path.Combine(ConnectionsPath, connection.ToString(CultureInfo.InvariantCulture), "abort");
        bool mountedHere = !File.Exists(abortFile) && MountFusectl();
        try
        {
            if (!File.Exists(abortFile))
            {
                throw new IOException($"FUSE connection {connection} not found under {ConnectionsPath}");
            }

            File.WriteAllText(abortFile, "1");
        }
        finally
        {
            if (mountedHere)
            {
                // Leave the system as found: fusectl was not mounted before this call.
                Libc.Umount2(ConnectionsPath, Libc.MNT_DETACH);
            }
        }
    }

    /// <summary>
    /// The fusectl connection id (the device number of the mount's anonymous superblock) of the
    /// FUSE mount at <paramref name="mountPoint"/>, from /proc/self/mountinfo; null if none. With
    /// stacked mounts the topmost wins.
    /// </summary>
    public static uint? FindConnection(string mountPoint)
    {
        string path = Path.GetFullPath(mountPoint);
        uint? found = null;
        foreach (string line in File.ReadLines("/proc/self/mountinfo"))
        {
            // id parent major:minor root mountpoint options [optional...] - fstype source superoptions
            string[] fields = line.Split(' ');
            int separator = Array.IndexOf(fields, "-");
            if (fields.Length < 5 || separator < 0 || separator + 1 >= fields.Length)
            {
                continue;
            }

            string type = fields[separator + 1];
            if (type != "fuse" && !type.StartsWith("fuse.", StringComparison.Ordinal) && type != "fuseblk")
            {
                continue;
            }

            if (UnescapeMountInfo(fields[4]) != path)
            {
                continue;
            }

            string[] dev = fields[2].Split(':');
            uint major = uint.Parse(dev[0], CultureInfo.InvariantCulture);
            uint minor = uint.Parse(dev[1], CultureInfo.InvariantCulture);
            found = (major << 20) | minor;
        }

        return found;
    }

    /// <summary>Whether <paramref name="mountPoint"/> is currently a FUSE mountpoint (from mountinfo; never touches it).</summary>
    public static bool IsMounted(string mountPoint) => FindConnection(mountPoint) is not null;

    private static MountedDevice MountKernel(string path, FuseMountOptions options)
    {
        string rootMode = Directory.Exists(path) ? "40000"
            : File.Exists(path) ? "100000"
            : throw new DirectoryNotFoundException($"mountpoint '{path}' does not exist");

        int fd = Libc.Open(DevicePath, Libc.O_RDWR | Libc.O_CLOEXEC);
        if (fd < 0)
        {
            Errno e = Libc.LastErrno;
            throw new IOException($"open {DevicePath} failed: {e}", (int)e);
        }

        var data = new StringBuilder();
        data.Append(CultureInfo.InvariantCulture, $"fd={fd},rootmode={rootMode},user_id={Libc.GetEuid()},group_id={Libc.GetEgid()}");
        if (options.DefaultPermissions)
        {
            data.Append(",default_permissions");
        }

        if (options.AllowOther)
        {
            data.Append(",allow_other");
        }

        if (options.MaxRead is uint maxRead)
        {
            data.Append(CultureInfo.InvariantCulture, $",max_read={maxRead}");
        }

        ulong flags = (options.ReadOnly ? Libc.MS_RDONLY : 0) | (options.NoSuid ? Libc.MS_NOSUID : 0)
            | (options.NoDev ? Libc.MS_NODEV : 0) | (options.NoExec ? Libc.MS_NOEXEC : 0)
            | (options.NoAtime ? Libc.MS_NOATIME : 0);
        string type = string.IsNullOrEmpty(options.Subtype) ? "fuse" : "fuse." + options.Subtype;
        if (Libc.Mount(options.FsName, path, type, flags, data.ToString()) != 0)
        {
            Errno e = Libc.LastErrno;
            Libc.Close(fd);
            throw new IOException($"mount {type} on '{path}' ({data}) failed: {e}", (int)e);
        }

        return new MountedDevice(fd, path, null);
    }

    private static unsafe MountedDevice MountFusermount(string path, FuseMountOptions options)
    {
        int* pair = stackalloc int[2];
        if (Libc.SocketPair(Libc.AF_UNIX, Libc.SOCK_STREAM | Libc.SOCK_CLOEXEC, 0, pair) != 0)
        {
            Errno e = Libc.LastErrno;
            throw new IOException($"socketpair for fusermount3 failed: {e}", (int)e);
        }

        int childEnd = pair[0];
        int ourEnd = pair[1];
        Process? helper = null;
        try
        {
            // The child end must survive exec. .NET starts children without closing inherited
            // descriptors, so clearing FD_CLOEXEC on it is enough; it is closed again right after.
            Libc.Fcntl(childEnd, Libc.F_SETFD, 0);
            var psi = new ProcessStartInfo("fusermount3")
            {
                UseShellExecute = false,
                RedirectStandardError = true,
                RedirectStandardOutput = true,
            };
            psi.Environment["_FUSE_COMMFD"] = childEnd.ToString(CultureInfo.InvariantCulture);
            psi.ArgumentList.Add("-o");
            psi.ArgumentList.Add(FusermountOptions(options));
            psi.ArgumentList.Add("--");
            psi.ArgumentList.Add(path);
            helper = Process.Start(psi) ?? throw new IOException("could not start fusermount3");
            Libc.Close(childEnd);
            childEnd = -1;

            int fd = ReceiveDescriptor(ourEnd);
            if (fd < 0)
            {
                helper.WaitForExit();
                throw new IOException($"fusermount3 mount of '{path}' failed (exit {helper.ExitCode}): {helper.StandardError.ReadToEnd().Trim()}");
            }

            Libc.Fcntl(fd, Libc.F_SETFD, Libc.FD_CLOEXEC);
            if (options.AutoUnmount)
            {
                // fusermount3 stays and unmounts when our end of the socket closes (at exit).
                return new MountedDevice(fd, path, new FusermountKeepAlive(ourEnd, helper));
            }

            helper.WaitForExit();
            Libc.Close(ourEnd);
            ourEnd = -1;
            return new MountedDevice(fd, path, null);
        }
        catch
        {
            if (ourEnd >= 0)
            {
                Libc.Close(ourEnd);
            }

            helper?.Dispose();
            throw;
        }
        finally
        {
            if (childEnd >= 0)
            {
                Libc.Close(childEnd);
            }
        }
    }

    private static string FusermountOptions(FuseMountOptions o)
    {
        var list = new List<string> { "fsname=" + o.FsName };
        if (!string.IsNullOrEmpty(o.Subtype))
        {
            list.Add("subtype=" + o.Subtype);
        }

        list.Add(o.ReadOnly ? "ro" : "rw");
        list.Add(o.NoSuid ? "nosuid" : "suid");
        list.Add(o.NoDev ? "nodev" : "dev");
        list.Add(o.NoExec ? "noexec" : "exec");
        if (o.NoAtime)
        {
            list.Add("noatime");
        }

        if (o.DefaultPermissions)
        {
            list.Add("default_permissions");
        }

        if (o.AllowOther)
        {
            list.Add("allow_other");
        }

        if (o.AutoUnmount)
        {
            list.Add("auto_unmount");
        }

        if (o.MaxRead is uint maxRead)
        {
            list.Add("max_read=" + maxRead.ToString(CultureInfo.InvariantCulture));
        }

        return string.Join(',', list);
    }

    /// <summary>Receives one descriptor sent with SCM_RIGHTS; -1 if the peer closed without sending one.</summary>
    private static unsafe int ReceiveDescriptor(int socket)
    {
        byte data;
        var iov = new Libc.IoVec { Base = &data, Length = 1 };

        // CMSG_SPACE(sizeof(int)) = 16-byte header + 4 bytes, padded to 8.
        const int controlLength = 24;
        byte* control = stackalloc byte[controlLength];
        new Span<byte>(control, controlLength).Clear();
        var message = new Libc.MsgHdr { Iov = &iov, IovLength = 1, Control = control, ControlLength = controlLength };
        nint received;
        do
        {
            received = Libc.RecvMsg(socket, &message, 0);
        }
        while (received < 0 && Libc.LastErrno == Errno.EINTR);

        if (received <= 0 || message.ControlLength < (nuint)sizeof(Libc.CmsgHdr) + sizeof(int))
        {
            return -1;
        }

        var header = (Libc.CmsgHdr*)control;
        if (header->Level != Libc.SOL_SOCKET || header->Type != Libc.SCM_RIGHTS)
        {
            return -1;
        }

        return *(int*)(control + sizeof(Libc.CmsgHdr));
    }

    /// <summary>Mounts fusectl on /sys/fs/fuse/connections; true if this call mounted it, false if it already was.</summary>
    private static bool MountFusectl()
    {
        if (Libc.Mount("fusectl", ConnectionsPath, "fusectl", 0, "") == 0)
        {
            return true;
        }

        Errno e = Libc.LastErrno;
        return e == Errno.EBUSY ? false : throw new IOException($"mount fusectl on {ConnectionsPath} failed: {e}", (int)e);
    }

    private static string UnescapeMountInfo(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var sb = new StringBuilder(field.Length);
        for (int i = 0; i < field.Length; i++)
        {
            if (field[i] == '\\' && i + 3 < field.Length)
            {
                sb.Append((char)Convert.ToInt32(field.Substring(i + 1, 3), 8));
                i += 3;
            }
            else
            {
                sb.Append(field[i]);
            }
        }

        return sb.ToString();
    }

    private static (int ExitCode, string StdErr) RunTool(string fileName, IEnumerable<string> arguments)
    {
        var psi = new ProcessStartInfo(fileName) { UseShellExecute = false, RedirectStandardError = true, RedirectStandardOutput = true };
        foreach (string a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        using Process p = Process.Start(psi) ?? throw new IOException($"could not start {fileName}");
        string stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stderr);
    }
}

/// <summary>A mounted /dev/fuse descriptor and what keeps the mount alive.</summary>
internal sealed record MountedDevice(int Fd, string MountPoint, FusermountKeepAlive? KeepAlive);

/// <summary>fusermount3 with auto_unmount: closing the socket makes the helper unmount and exit.</summary>
internal sealed class FusermountKeepAlive(int socket, Process helper) : IDisposable
{
    public void Dispose()
    {
        Libc.Close(socket);
        helper.WaitForExit(5000);
        helper.Dispose();
    }
}
