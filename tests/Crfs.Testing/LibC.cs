// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Crfs.Testing;

/// <summary>
/// The few Linux calls the image builders and the manifest need and .NET does not offer with
/// byte-string paths: statx (nanosecond times, rdev, inode numbers), directory reading, xattrs,
/// SEEK_DATA/SEEK_HOLE, device nodes and symlink-safe time setting. Paths are NUL-terminated byte
/// arrays throughout so names that are not valid UTF-8 survive; every wrapper throws an
/// <see cref="IOException"/> naming the call, the errno and the path when the call fails.
/// </summary>
/// <remarks>
/// Plain <c>DllImport</c> with blittable arguments keeps this assembly free of unsafe code.
/// x86-64 and arm64 glibc layouts only (the machines CRFS runs on).
/// </remarks>
public static class LibC
{
    public const int AT_FDCWD = -100;
    public const int AT_SYMLINK_NOFOLLOW = 0x100;
    public const int O_RDONLY = 0;
    public const int O_WRONLY = 1;
    public const int O_CREAT = 0x40;
    public const int O_EXCL = 0x80;
    public const int O_DIRECTORY = 0x10000;
    public const int O_NOFOLLOW = 0x20000;
    public const int O_NOATIME = 0x40000;
    public const int O_CLOEXEC = 0x80000;
    public const int SEEK_DATA = 3;
    public const int SEEK_HOLE = 4;
    public const int EPERM = 1;
    public const int ENXIO = 6;

    public const uint IFMT = 0xF000;
    public const uint IFSOCK = 0xC000;
    public const uint IFLNK = 0xA000;
    public const uint IFREG = 0x8000;
    public const uint IFBLK = 0x6000;
    public const uint IFDIR = 0x4000;
    public const uint IFCHR = 0x2000;
    public const uint IFIFO = 0x1000;

    private const uint StatxBasicStats = 0x7FF;
    private const uint StatxBtime = 0x800;
    private const int StatxSize = 256;

    /// <summary>A path as the kernel wants it: its bytes and a terminating NUL.</summary>
    public static byte[] Z(ReadOnlySpan<byte> path)
    {
        byte[] z = new byte[path.Length + 1];
        path.CopyTo(z);
        return z;
    }

    public static byte[] Z(string path) => Z(Encoding.UTF8.GetBytes(path));

    public static StatxResult Lstat(ReadOnlySpan<byte> path)
    {
        byte[] buf = new byte[StatxSize];
        byte[] z = Z(path);
        if (statx(AT_FDCWD, z, AT_SYMLINK_NOFOLLOW, StatxBasicStats | StatxBtime, buf) != 0)
        {
            throw Error("statx", path);
        }

        return StatxResult.Parse(buf);
    }

    /// <summary>
    /// The names in a directory (without "." and ".."), in the order readdir returns them. The
    /// directory is opened with O_NOATIME where permitted, so reading it leaves its atime alone.
    /// </summary>
    public static List<byte[]> ReadDirectory(ReadOnlySpan<byte> path)
    {
        byte[] z = Z(path);
        int fd = open(z, O_RDONLY | O_DIRECTORY | O_NOATIME | O_CLOEXEC, 0);
        if (fd < 0 && Marshal.GetLastPInvokeError() == EPERM)
        {
            // O_NOATIME needs ownership or CAP_FOWNER.
            fd = open(z, O_RDONLY | O_DIRECTORY | O_CLOEXEC, 0);
        }

        if (fd < 0)
        {
            throw Error("open", path);
        }

        IntPtr dir = fdopendir(fd);
        if (dir == IntPtr.Zero)
        {
            IOException e = Error("fdopendir", path);
            _ = close(fd);
            throw e;
        }

        var names = new List<byte[]>();
        try
        {
            while (true)
            {
                Marshal.SetLastPInvokeError(0);
                IntPtr entry = readdir(dir);
                if (entry == IntPtr.Zero)
                {
                    int errno = Marshal.GetLastPInvokeError();
                    if (errno != 0)
                    {
                        throw Error("readdir", path, errno);
                    }

                    break;
                }

                // struct dirent64 on glibc: d_ino u64, d_off s64, d_reclen u16, d_type u8, d_name[].
                const int NameOffset = 19;
                int length = 0;
                while (Marshal.ReadByte(entry, NameOffset + length) != 0)
                {
                    length++;
                }

                byte[] name = new byte[length];
                Marshal.Copy(entry + NameOffset, name, 0, length);
                if (name is [(byte)'.'] or [(byte)'.', (byte)'.'])
                {
                    continue;
                }

                names.Add(name);
            }
        }
        finally
        {
            _ = closedir(dir);
        }

        return names;
    }

    public static SafeFileHandle Open(ReadOnlySpan<byte> path, int flags, uint mode = 0)
    {
        byte[] z = Z(path);
        int fd = open(z, flags | O_CLOEXEC, mode);
        if (fd < 0 && (flags & O_NOATIME) != 0 && Marshal.GetLastPInvokeError() == EPERM)
        {
            // O_NOATIME needs ownership or CAP_FOWNER.
            fd = open(z, (flags & ~O_NOATIME) | O_CLOEXEC, mode);
        }

        if (fd < 0)
        {
            throw Error("open", path);
        }

        return new SafeFileHandle(fd, ownsHandle: true);
    }

    /// <summary>
    /// SEEK_DATA / SEEK_HOLE: the next offset at or after <paramref name="offset"/> that starts data
    /// (or a hole); -1 when there is none before end of file.
    /// </summary>
    public static long Seek(SafeFileHandle handle, long offset, int whence, ReadOnlySpan<byte> pathForErrors)
    {
        long r = lseek((int)handle.DangerousGetHandle(), offset, whence);
        if (r < 0)
        {
            int errno = Marshal.GetLastPInvokeError();
            if (errno == ENXIO)
            {
                return -1;
            }

            throw Error("lseek", pathForErrors, errno);
        }

        return r;
    }

    public static byte[] ReadLink(ReadOnlySpan<byte> path)
    {
        byte[] buf = new byte[8192];
        nint n = readlink(Z(path), buf, buf.Length);
        if (n < 0)
        {
            throw Error("readlink", path);
        }

        return buf.AsSpan(0, (int)n).ToArray();
    }

    /// <summary>All extended attribute names and values of a path (not following symlinks).</summary>
    public static SortedDictionary<string, byte[]> ListXattrs(ReadOnlySpan<byte> path)
    {
        byte[] z = Z(path);
        var result = new SortedDictionary<string, byte[]>(StringComparer.Ordinal);
        nint size = llistxattr(z, null, 0);
        if (size < 0)
        {
            throw Error("llistxattr", path);
        }

        if (size == 0)
        {
            return result;
        }

        byte[] list = new byte[size + 1024];
        size = llistxattr(z, list, list.Length);
        if (size < 0)
        {
            throw Error("llistxattr", path);
        }

        int start = 0;
        for (int i = 0; i < size; i++)
        {
            if (list[i] != 0)
            {
                continue;
            }

            byte[] name = list.AsSpan(start, i - start).ToArray();
            start = i + 1;
            byte[] nameZ = Z(name);
            byte[] value = new byte[65536];
            nint n = lgetxattr(z, nameZ, value, value.Length);
            if (n < 0)
            {
                throw Error("lgetxattr " + ByteNames.Escape(name), path);
            }

            result[ByteNames.Escape(name)] = value.AsSpan(0, (int)n).ToArray();
        }

        return result;
    }

    public static void SetXattr(ReadOnlySpan<byte> path, string name, ReadOnlySpan<byte> value)
    {
        byte[] v = value.ToArray();
        if (lsetxattr(Z(path), Z(name), v, v.Length, 0) != 0)
        {
            throw Error("lsetxattr " + name, path);
        }
    }

    public static void MkDir(ReadOnlySpan<byte> path, uint mode)
    {
        if (mkdir(Z(path), mode) != 0)
        {
            throw Error("mkdir", path);
        }
    }

    public static void MkNod(ReadOnlySpan<byte> path, uint mode, uint major, uint minor)
    {
        if (mknod(Z(path), mode, MakeDev(major, minor)) != 0)
        {
            throw Error("mknod", path);
        }
    }

    public static void Symlink(ReadOnlySpan<byte> target, ReadOnlySpan<byte> path)
    {
        if (symlink(Z(target), Z(path)) != 0)
        {
            throw Error("symlink", path);
        }
    }

    public static void Link(ReadOnlySpan<byte> existing, ReadOnlySpan<byte> path)
    {
        if (linkat(AT_FDCWD, Z(existing), AT_FDCWD, Z(path), 0) != 0)
        {
            throw Error("link " + ByteNames.Escape(existing) + " ->", path);
        }
    }

    public static void Lchown(ReadOnlySpan<byte> path, uint uid, uint gid)
    {
        if (lchown(Z(path), uid, gid) != 0)
        {
            throw Error("lchown", path);
        }
    }

    /// <summary>chmod; never called on symlinks (their mode is fixed at 0777).</summary>
    public static void Chmod(ReadOnlySpan<byte> path, uint mode)
    {
        if (chmod(Z(path), mode) != 0)
        {
            throw Error("chmod", path);
        }
    }

    /// <summary>Sets atime and mtime to the nanosecond without following a final symlink.</summary>
    public static void SetTimes(ReadOnlySpan<byte> path, Timespec atime, Timespec mtime)
    {
        long[] times = [atime.Seconds, atime.Nanoseconds, mtime.Seconds, mtime.Nanoseconds];
        if (utimensat(AT_FDCWD, Z(path), times, AT_SYMLINK_NOFOLLOW) != 0)
        {
            throw Error("utimensat", path);
        }
    }

    /// <summary>A mode written as C writes it (C# has no octal literals): <c>Octal("4755")</c>.</summary>
    public static uint Octal(string digits) => Convert.ToUInt32(digits, 8);

    /// <summary>glibc's <c>makedev</c>: 12 bits of major and 20 of minor in the classic positions.</summary>
    public static ulong MakeDev(uint major, uint minor) =>
        (minor & 0xFFUL) | ((major & 0xFFFUL) << 8) | ((minor & ~0xFFUL) << 12) | ((major & ~0xFFFUL) << 32);

    private static IOException Error(string call, ReadOnlySpan<byte> path, int? errno = null)
    {
        int e = errno ?? Marshal.GetLastPInvokeError();
        return new IOException($"{call} '{ByteNames.Escape(path)}' failed: errno {e} ({Marshal.GetPInvokeErrorMessage(e)})");
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int statx(int dirfd, byte[] path, int flags, uint mask, byte[] buffer);

    [DllImport("libc", SetLastError = true)]
    private static extern IntPtr fdopendir(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern IntPtr readdir(IntPtr dir);

    [DllImport("libc", SetLastError = true)]
    private static extern int closedir(IntPtr dir);

    [DllImport("libc", SetLastError = true)]
    private static extern int open(byte[] path, int flags, uint mode);

    [DllImport("libc", SetLastError = true)]
    private static extern long lseek(int fd, long offset, int whence);

    [DllImport("libc", SetLastError = true)]
    private static extern nint readlink(byte[] path, byte[] buffer, nint size);

    [DllImport("libc", SetLastError = true)]
    private static extern nint llistxattr(byte[] path, byte[]? list, nint size);

    [DllImport("libc", SetLastError = true)]
    private static extern nint lgetxattr(byte[] path, byte[] name, byte[] value, nint size);

    [DllImport("libc", SetLastError = true)]
    private static extern int lsetxattr(byte[] path, byte[] name, byte[] value, nint size, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int mkdir(byte[] path, uint mode);

    [DllImport("libc", SetLastError = true)]
    private static extern int mknod(byte[] path, uint mode, ulong dev);

    [DllImport("libc", SetLastError = true)]
    private static extern int symlink(byte[] target, byte[] path);

    [DllImport("libc", SetLastError = true)]
    private static extern int linkat(int olddirfd, byte[] oldpath, int newdirfd, byte[] newpath, int flags);

    [DllImport("libc", SetLastError = true)]
    private static extern int lchown(byte[] path, uint uid, uint gid);

    [DllImport("libc", SetLastError = true)]
    private static extern int chmod(byte[] path, uint mode);

    [DllImport("libc", SetLastError = true)]
    private static extern int utimensat(int dirfd, byte[] path, long[] times, int flags);
}

/// <summary>A POSIX timestamp: seconds since the epoch (may be negative) and nanoseconds.</summary>
public readonly record struct Timespec(long Seconds, uint Nanoseconds) : IComparable<Timespec>
{
    public int CompareTo(Timespec other) =>
        Seconds != other.Seconds ? Seconds.CompareTo(other.Seconds) : Nanoseconds.CompareTo(other.Nanoseconds);

    public override string ToString() => $"{Seconds}.{Nanoseconds:D9}";
}

/// <summary>The fields of <c>struct statx</c> the manifest uses.</summary>
public readonly record struct StatxResult(
    uint Mode,
    uint Nlink,
    uint Uid,
    uint Gid,
    ulong Inode,
    long Size,
    long Blocks,
    Timespec Atime,
    Timespec Btime,
    Timespec Ctime,
    Timespec Mtime,
    uint RdevMajor,
    uint RdevMinor,
    uint DevMajor,
    uint DevMinor)
{
    public uint FileType => Mode & LibC.IFMT;

    // struct statx (include/uapi/linux/stat.h): fixed layout, 256 bytes, host byte order.
    internal static StatxResult Parse(ReadOnlySpan<byte> b) => new(
        Mode: BinaryPrimitives.ReadUInt16LittleEndian(b[28..]),
        Nlink: BinaryPrimitives.ReadUInt32LittleEndian(b[16..]),
        Uid: BinaryPrimitives.ReadUInt32LittleEndian(b[20..]),
        Gid: BinaryPrimitives.ReadUInt32LittleEndian(b[24..]),
        Inode: BinaryPrimitives.ReadUInt64LittleEndian(b[32..]),
        Size: BinaryPrimitives.ReadInt64LittleEndian(b[40..]),
        Blocks: BinaryPrimitives.ReadInt64LittleEndian(b[48..]),
        Atime: Time(b[64..]),
        Btime: Time(b[80..]),
        Ctime: Time(b[96..]),
        Mtime: Time(b[112..]),
        RdevMajor: BinaryPrimitives.ReadUInt32LittleEndian(b[128..]),
        RdevMinor: BinaryPrimitives.ReadUInt32LittleEndian(b[132..]),
        DevMajor: BinaryPrimitives.ReadUInt32LittleEndian(b[136..]),
        DevMinor: BinaryPrimitives.ReadUInt32LittleEndian(b[140..]));

    private static Timespec Time(ReadOnlySpan<byte> b) =>
        new(BinaryPrimitives.ReadInt64LittleEndian(b), BinaryPrimitives.ReadUInt32LittleEndian(b[8..]));
}
