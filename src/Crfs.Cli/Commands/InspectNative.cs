// SPDX-License-Identifier: MIT
using System.Runtime.InteropServices;

namespace Crfs.Cli.Commands;

/// <summary>
/// The libc calls <c>crfs inspect get</c> needs to recreate files exactly: paths are
/// NUL-terminated byte arrays (file names on disk are bytes, not strings), and each call that
/// fails throws an <see cref="IOException"/> naming the operation, the path and the errno text.
/// Plain <c>DllImport</c> with blittable arguments: no unsafe code.
/// </summary>
internal static class InspectNative
{
    public const int EEXIST = 17;
    public const int EINTR = 4;
    public const int EPERM = 1;
    public const int ENOTSUP = 95;
    public const int ENOSPC = 28;
    public const int E2BIG = 7;
    public const int ERANGE = 34;

    private const int O_WRONLY = 0x1;
    private const int O_CREAT = 0x40;
    private const int O_TRUNC = 0x200;
    private const int O_NOFOLLOW = 0x20000;
    private const int O_CLOEXEC = 0x80000;
    private const int AT_FDCWD = -100;
    private const int AT_SYMLINK_NOFOLLOW = 0x100;

    /// <summary>Appends the NUL terminator libc expects.</summary>
    public static byte[] CPath(ReadOnlySpan<byte> path)
    {
        byte[] c = new byte[path.Length + 1];
        path.CopyTo(c);
        return c;
    }

    /// <summary>Creates (or truncates) a regular file for writing; returns its descriptor.</summary>
    public static int CreateFile(byte[] path)
    {
        while (true)
        {
            int fd = Open(path, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC, 0x180);
            if (fd >= 0)
            {
                return fd;
            }

            int errno = Marshal.GetLastPInvokeError();
            if (errno != EINTR)
            {
                throw Error("open", path, errno);
            }
        }
    }

    public static void Close(int fd) => _ = CloseFd(fd);

    public static void WriteAll(int fd, ReadOnlySpan<byte> data, long offset, byte[] pathForErrors)
    {
        while (!data.IsEmpty)
        {
            nint n = PWrite(fd, ref MemoryMarshal.GetReference(data), (nuint)data.Length, offset);
            if (n < 0)
            {
                int errno = Marshal.GetLastPInvokeError();
                if (errno == EINTR)
                {
                    continue;
                }

                throw Error("write", pathForErrors, errno);
            }

            data = data[(int)n..];
            offset += n;
        }
    }

    public static void Truncate(int fd, long length, byte[] path) => Check(FTruncate(fd, length), "ftruncate", path);

    public static void ChownFd(int fd, uint uid, uint gid, byte[] path) => Check(FChown(fd, uid, gid), "chown", path);

    public static void ChmodFd(int fd, uint mode, byte[] path) => Check(FChmod(fd, mode), "chmod", path);

    public static void SetXattrFd(int fd, byte[] name, byte[] value, byte[] path) =>
        Check(FSetXattr(fd, CPath(name), value, (nuint)value.Length, 0), "setxattr " + System.Text.Encoding.UTF8.GetString(name), path);

    public static void SetTimesFd(int fd, long[] times, byte[] path) => Check(FUtimens(fd, times), "futimens", path);

    public static void Lchown(byte[] path, uint uid, uint gid) => Check(LChown(path, uid, gid), "lchown", path);

    public static void Chmod(byte[] path, uint mode) => Check(ChmodPath(path, mode), "chmod", path);

    public static void Lsetxattr(byte[] path, byte[] name, byte[] value) =>
        Check(LSetXattr(path, CPath(name), value, (nuint)value.Length, 0), "setxattr " + System.Text.Encoding.UTF8.GetString(name), path);

    /// <summary>Sets atime and mtime (ns) without following a symlink. <paramref name="times"/> is {atime s, ns, mtime s, ns}.</summary>
    public static void Lutimes(byte[] path, long[] times) => Check(UtimensAt(AT_FDCWD, path, times, AT_SYMLINK_NOFOLLOW), "utimensat", path);

    /// <summary>Creates a directory; an existing directory is fine.</summary>
    public static void MkdirIfMissing(byte[] path, uint mode)
    {
        if (Mkdir(path, mode) != 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno != EEXIST || !Directory.Exists(System.Text.Encoding.UTF8.GetString(path.AsSpan(0, path.Length - 1))))
            {
                throw Error("mkdir", path, errno);
            }
        }
    }

    public static void Mknod(byte[] path, uint mode, ulong dev) => Replace(path, () => MknodPath(path, mode, dev), "mknod");

    public static void Symlink(byte[] target, byte[] path) => Replace(path, () => SymlinkPath(target, path), "symlink");

    public static void Link(byte[] existing, byte[] path) => Replace(path, () => LinkPath(existing, path), "link");

    /// <summary>The Linux <c>dev_t</c> encoding of a device number (glibc's <c>makedev</c>).</summary>
    public static ulong MakeDev(uint major, uint minor) =>
        ((ulong)(major & 0xFFFFF000) << 32) | ((ulong)(major & 0xFFF) << 8) | ((ulong)(minor & 0xFFFFFF00) << 12) | (minor & 0xFF);

    // Creates a name, replacing whatever a previous run left there.
    private static void Replace(byte[] path, Func<int> create, string op)
    {
        if (create() == 0)
        {
            return;
        }

        int errno = Marshal.GetLastPInvokeError();
        if (errno == EEXIST && Unlink(path) == 0 && create() == 0)
        {
            return;
        }

        throw Error(op, path, errno == EEXIST ? Marshal.GetLastPInvokeError() : errno);
    }

    private static void Check(int result, string op, byte[] path)
    {
        if (result != 0)
        {
            throw Error(op, path, Marshal.GetLastPInvokeError());
        }
    }

    public static NativeIOException Error(string op, byte[] path, int errno) =>
        new($"{op} {System.Text.Encoding.UTF8.GetString(path.AsSpan(0, Math.Max(path.Length - 1, 0)))}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})", errno);

    [DllImport("libc", EntryPoint = "open", SetLastError = true)]
    private static extern int Open(byte[] path, int flags, uint mode);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int CloseFd(int fd);

    [DllImport("libc", EntryPoint = "pwrite", SetLastError = true)]
    private static extern nint PWrite(int fd, ref byte buffer, nuint count, long offset);

    [DllImport("libc", EntryPoint = "ftruncate", SetLastError = true)]
    private static extern int FTruncate(int fd, long length);

    [DllImport("libc", EntryPoint = "fchown", SetLastError = true)]
    private static extern int FChown(int fd, uint uid, uint gid);

    [DllImport("libc", EntryPoint = "fchmod", SetLastError = true)]
    private static extern int FChmod(int fd, uint mode);

    [DllImport("libc", EntryPoint = "fsetxattr", SetLastError = true)]
    private static extern int FSetXattr(int fd, byte[] name, byte[] value, nuint size, int flags);

    [DllImport("libc", EntryPoint = "futimens", SetLastError = true)]
    private static extern int FUtimens(int fd, long[] times);

    [DllImport("libc", EntryPoint = "lchown", SetLastError = true)]
    private static extern int LChown(byte[] path, uint uid, uint gid);

    [DllImport("libc", EntryPoint = "chmod", SetLastError = true)]
    private static extern int ChmodPath(byte[] path, uint mode);

    [DllImport("libc", EntryPoint = "lsetxattr", SetLastError = true)]
    private static extern int LSetXattr(byte[] path, byte[] name, byte[] value, nuint size, int flags);

    [DllImport("libc", EntryPoint = "utimensat", SetLastError = true)]
    private static extern int UtimensAt(int dirfd, byte[] path, long[] times, int flags);

    [DllImport("libc", EntryPoint = "mkdir", SetLastError = true)]
    private static extern int Mkdir(byte[] path, uint mode);

    [DllImport("libc", EntryPoint = "mknod", SetLastError = true)]
    private static extern int MknodPath(byte[] path, uint mode, ulong dev);

    [DllImport("libc", EntryPoint = "symlink", SetLastError = true)]
    private static extern int SymlinkPath(byte[] target, byte[] path);

    [DllImport("libc", EntryPoint = "link", SetLastError = true)]
    private static extern int LinkPath(byte[] existing, byte[] path);

    [DllImport("libc", EntryPoint = "unlink", SetLastError = true)]
    private static extern int Unlink(byte[] path);
}

/// <summary>A failed libc call, with its errno for callers that tolerate some failures.</summary>
internal sealed class NativeIOException(string message, int errno) : IOException(message)
{
    public int Errno { get; } = errno;
}
