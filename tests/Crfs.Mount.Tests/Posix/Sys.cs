// SPDX-License-Identifier: MIT
using System.Runtime.InteropServices;
using System.Text;
using Crfs.Testing;
using Errno = Crfs.Posix.Errno;

namespace Crfs.Mount.Tests.Posix;

/// <summary>
/// System calls against the mount from the test process, with the errno as the outcome. Each call
/// crosses the kernel's FUSE client into this process's own FUSE readers, so it is exactly what an
/// application sees. An INTERRUPT (the runtime signals a thread blocked in a FUSE request) is
/// answered EINTR by the bridge; like an application that installs SA_RESTART handlers, the probes
/// retry it.
/// </summary>
internal static class Sys
{
    public const int O_RDONLY = 0;
    public const int O_WRONLY = 1;
    public const int O_RDWR = 2;
    public const int O_CREAT = 0x40;
    public const int O_EXCL = 0x80;
    public const int O_TRUNC = 0x200;
    public const int O_APPEND = 0x400;
    public const int O_DIRECTORY = 0x10000;
    public const int O_NOFOLLOW = 0x20000;
    public const int O_CLOEXEC = 0x80000;

    public const uint RenameNoReplace = 1;
    public const uint RenameExchange = 2;

    public const int XattrCreate = 1;
    public const int XattrReplace = 2;

    public const int FallocKeepSize = 1;
    public const int FallocPunchHole = 2;

    public const int R_OK = 4;
    public const int W_OK = 2;
    public const int X_OK = 1;
    public const int F_OK = 0;

    private const int AtFdCwd = -100;

    /// <summary>Retries EINTR; returns 0 or the errno of a call that reports failure as a negative result.</summary>
    private static Errno Check(Func<long> call) => Check(call, out _);

    private static Errno Check(Func<long> call, out long value)
    {
        while (true)
        {
            value = call();
            if (value >= 0)
            {
                return Errno.Ok;
            }

            var errno = (Errno)Marshal.GetLastPInvokeError();
            if (errno != Errno.EINTR)
            {
                return errno;
            }
        }
    }

    private static byte[] Z(string path) => LibC.Z(path);

    public static Errno Open(string path, int flags, out int fd, uint mode = 0x1A4)
    {
        Errno e = Check(() => open(Z(path), flags | O_CLOEXEC, mode), out long v);
        fd = (int)v;
        return e;
    }

    /// <summary>Opens or fails the test with the path and errno.</summary>
    public static int OpenOk(string path, int flags, uint mode = 0x1A4)
    {
        Errno e = Open(path, flags, out int fd, mode);
        Assert.True(e == Errno.Ok, $"open '{path}' flags 0x{flags:x} failed: {e}");
        return fd;
    }

    public static void Close(int fd) => Assert.Equal(Errno.Ok, Check(() => close(fd)));

    public static Errno PWrite(int fd, ReadOnlySpan<byte> data, long offset)
    {
        byte[] copy = data.ToArray();
        Errno e = Check(() => pwrite(fd, copy, copy.Length, offset), out long n);
        return e == Errno.Ok && n != copy.Length ? Errno.EIO : e;
    }

    public static Errno Write(int fd, ReadOnlySpan<byte> data)
    {
        byte[] copy = data.ToArray();
        Errno e = Check(() => write(fd, copy, copy.Length), out long n);
        return e == Errno.Ok && n != copy.Length ? Errno.EIO : e;
    }

    public static void WriteOk(int fd, string text, long offset) => Assert.Equal(Errno.Ok, PWrite(fd, Encoding.ASCII.GetBytes(text), offset));

    public static Errno PRead(int fd, long offset, int length, out byte[] data)
    {
        byte[] buffer = new byte[length];
        Errno e = Check(() => pread(fd, buffer, length, offset), out long n);
        data = e == Errno.Ok ? buffer.AsSpan(0, (int)n).ToArray() : [];
        return e;
    }

    /// <summary>Reads the whole file from offset 0 as ASCII (fails the test on an error).</summary>
    public static string ReadText(int fd, int max = 1 << 16)
    {
        Assert.Equal(Errno.Ok, PRead(fd, 0, max, out byte[] data));
        return Encoding.ASCII.GetString(data);
    }

    public static string ReadText(string path, int max = 1 << 16)
    {
        int fd = OpenOk(path, O_RDONLY);
        try
        {
            return ReadText(fd, max);
        }
        finally
        {
            Close(fd);
        }
    }

    /// <summary>Creates (or truncates) a file holding <paramref name="text"/>.</summary>
    public static void WriteFile(string path, string text, uint mode = 0x1A4)
    {
        int fd = OpenOk(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
        try
        {
            if (text.Length > 0)
            {
                WriteOk(fd, text, 0);
            }
        }
        finally
        {
            Close(fd);
        }
    }

    public static Errno FSync(int fd) => Check(() => fsync(fd));

    public static Errno FTruncate(int fd, long size) => Check(() => ftruncate(fd, size));

    public static Errno Truncate(string path, long size) => Check(() => truncate(Z(path), size));

    public static Errno Fallocate(int fd, int mode, long offset, long length) => Check(() => fallocate(fd, mode, offset, length));

    public static Errno Unlink(string path) => Check(() => unlink(Z(path)));

    public static Errno RmDir(string path) => Check(() => rmdir(Z(path)));

    public static Errno MkDir(string path, uint mode = 0x1ED) => Check(() => mkdir(Z(path), mode));

    public static Errno MkNod(string path, uint mode, ulong dev = 0) => Check(() => mknod(Z(path), mode, dev));

    public static Errno Symlink(string target, string path) => Check(() => symlink(Z(target), Z(path)));

    public static Errno ReadLink(string path, out string target)
    {
        byte[] buffer = new byte[4096];
        Errno e = Check(() => readlink(Z(path), buffer, buffer.Length), out long n);
        target = e == Errno.Ok ? Encoding.UTF8.GetString(buffer, 0, (int)n) : "";
        return e;
    }

    public static Errno Link(string existing, string path) => Check(() => link(Z(existing), Z(path)));

    public static Errno Rename(string from, string to) => Check(() => rename(Z(from), Z(to)));

    public static Errno Rename2(string from, string to, uint flags) => Check(() => renameat2(AtFdCwd, Z(from), AtFdCwd, Z(to), flags));

    public static Errno Chmod(string path, uint mode) => Check(() => chmod(Z(path), mode));

    public static Errno Chown(string path, uint uid, uint gid) => Check(() => chown(Z(path), uid, gid));

    /// <summary>utimensat with explicit times (seconds, nanoseconds); null sets both to now.</summary>
    public static Errno Utimens(string path, (long S, long Ns)? atime, (long S, long Ns)? mtime)
    {
        long[]? times = atime is null && mtime is null ? null : [atime!.Value.S, atime.Value.Ns, mtime!.Value.S, mtime.Value.Ns];
        return Check(() => utimensat(AtFdCwd, Z(path), times, 0));
    }

    public static Errno Access(string path, int mode) => Check(() => access(Z(path), mode));

    public static StatxResult Stat(string path)
    {
        int e = StatxProbe.Stat(StatxProbe.AtFdCwd, path, StatxProbe.AtSymlinkNoFollow, out StatxResult r);
        Assert.True(e == 0, $"stat '{path}' failed: {(Errno)e}");
        return r;
    }

    public static Errno TryStat(string path, bool follow = false) =>
        (Errno)StatxProbe.Stat(StatxProbe.AtFdCwd, path, follow ? 0 : StatxProbe.AtSymlinkNoFollow, out _);

    public static StatxResult FStat(int fd)
    {
        int e = StatxProbe.Stat(fd, "", StatxProbe.AtEmptyPath, out StatxResult r);
        Assert.True(e == 0, $"fstat {fd} failed: {(Errno)e}");
        return r;
    }

    public static Errno SetXattr(string path, string name, string value, int flags)
    {
        byte[] v = Encoding.ASCII.GetBytes(value);
        return Check(() => lsetxattr(Z(path), Z(name), v, v.Length, flags));
    }

    public static Errno GetXattr(string path, string name, out string value)
    {
        byte[] buffer = new byte[4096];
        Errno e = Check(() => lgetxattr(Z(path), Z(name), buffer, buffer.Length), out long n);
        value = e == Errno.Ok ? Encoding.ASCII.GetString(buffer, 0, (int)n) : "";
        return e;
    }

    /// <summary>getxattr into a buffer of exactly <paramref name="size"/> bytes (0 = the size probe); returns the length.</summary>
    public static Errno GetXattrSize(string path, string name, int size, out long length)
    {
        byte[]? buffer = size == 0 ? null : new byte[size];
        return Check(() => lgetxattr(Z(path), Z(name), buffer, size), out length);
    }

    public static Errno RemoveXattr(string path, string name) => Check(() => lremovexattr(Z(path), Z(name)));

    public static List<string> ListXattr(string path)
    {
        byte[] buffer = new byte[8192];
        Assert.Equal(Errno.Ok, Check(() => llistxattr(Z(path), buffer, buffer.Length), out long n));
        return [.. Encoding.ASCII.GetString(buffer, 0, (int)n).Split('\0', StringSplitOptions.RemoveEmptyEntries)];
    }

    /// <summary>statfs(2): (f_bsize, f_blocks, f_bfree, f_bavail, f_files, f_ffree, f_namelen).</summary>
    public static (long BlockSize, long Blocks, long Free, long Available, long Files, long FreeFiles, long NameMax) StatFs(string path)
    {
        // struct statfs on 64-bit Linux: f_type, f_bsize, then u64 counts, f_fsid (8 bytes), f_namelen.
        byte[] b = new byte[120];
        Assert.Equal(Errno.Ok, Check(() => statfs(Z(path), b)));
        long At(int offset) => BitConverter.ToInt64(b, offset);
        return (At(8), At(16), At(24), At(32), At(40), At(48), At(64));
    }

    /// <summary>Every name readdir returns, "." and ".." included, in order.</summary>
    public static List<string> ReadDir(string path) => [.. ReadDirTyped(path).Select(e => e.Name)];

    /// <summary>Every entry readdir returns with its d_type (DT_DIR = 4, DT_REG = 8, DT_LNK = 10, ...).</summary>
    public static List<(string Name, byte Type)> ReadDirTyped(string path)
    {
        int fd = OpenOk(path, O_RDONLY | O_DIRECTORY);
        IntPtr dir = fdopendir(fd);
        Assert.NotEqual(IntPtr.Zero, dir);
        var names = new List<(string, byte)>();
        try
        {
            while (true)
            {
                Marshal.SetLastPInvokeError(0);
                IntPtr entry = readdir(dir);
                if (entry == IntPtr.Zero)
                {
                    Assert.Equal(0, Marshal.GetLastPInvokeError());
                    return names;
                }

                // struct dirent64: d_ino, d_off, d_reclen (2), d_type (1), d_name.
                names.Add((Marshal.PtrToStringUTF8(entry + 19)!, Marshal.ReadByte(entry, 18)));
            }
        }
        finally
        {
            _ = closedir(dir);
        }
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int open(byte[] path, int flags, uint mode);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern nint pread(int fd, byte[] buffer, nint count, long offset);

    [DllImport("libc", SetLastError = true)]
    private static extern nint pwrite(int fd, byte[] buffer, nint count, long offset);

    [DllImport("libc", SetLastError = true)]
    private static extern nint write(int fd, byte[] buffer, nint count);

    [DllImport("libc", SetLastError = true)]
    private static extern int fsync(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int ftruncate(int fd, long size);

    [DllImport("libc", SetLastError = true)]
    private static extern int truncate(byte[] path, long size);

    [DllImport("libc", SetLastError = true)]
    private static extern int fallocate(int fd, int mode, long offset, long length);

    [DllImport("libc", SetLastError = true)]
    private static extern int unlink(byte[] path);

    [DllImport("libc", SetLastError = true)]
    private static extern int rmdir(byte[] path);

    [DllImport("libc", SetLastError = true)]
    private static extern int mkdir(byte[] path, uint mode);

    [DllImport("libc", SetLastError = true)]
    private static extern int mknod(byte[] path, uint mode, ulong dev);

    [DllImport("libc", SetLastError = true)]
    private static extern int symlink(byte[] target, byte[] path);

    [DllImport("libc", SetLastError = true)]
    private static extern nint readlink(byte[] path, byte[] buffer, nint size);

    [DllImport("libc", SetLastError = true)]
    private static extern int link(byte[] existing, byte[] path);

    [DllImport("libc", SetLastError = true)]
    private static extern int rename(byte[] from, byte[] to);

    [DllImport("libc", SetLastError = true)]
    private static extern int renameat2(int fromDir, byte[] from, int toDir, byte[] to, uint flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int chmod(byte[] path, uint mode);

    [DllImport("libc", SetLastError = true)]
    private static extern int chown(byte[] path, uint uid, uint gid);

    [DllImport("libc", SetLastError = true)]
    private static extern int utimensat(int dirfd, byte[] path, long[]? times, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int access(byte[] path, int mode);

    [DllImport("libc", SetLastError = true)]
    private static extern int lsetxattr(byte[] path, byte[] name, byte[] value, nint size, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern nint lgetxattr(byte[] path, byte[] name, byte[]? value, nint size);

    [DllImport("libc", SetLastError = true)]
    private static extern int lremovexattr(byte[] path, byte[] name);

    [DllImport("libc", SetLastError = true)]
    private static extern nint llistxattr(byte[] path, byte[] list, nint size);

    [DllImport("libc", SetLastError = true)]
    private static extern int statfs(byte[] path, byte[] buffer);

    [DllImport("libc", SetLastError = true)]
    private static extern IntPtr fdopendir(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern IntPtr readdir(IntPtr dir);

    [DllImport("libc", SetLastError = true)]
    private static extern int closedir(IntPtr dir);
}
