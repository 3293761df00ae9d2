// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using System.Runtime.InteropServices;
using Crfs.Format.Btrfs;

namespace Crfs.Volume.Mkfs;

/// <summary>What <c>statx</c> says about one source file (the fields the importer copies).</summary>
internal readonly record struct SourceStat(
    uint Mode,
    uint Uid,
    uint Gid,
    uint Nlink,
    ulong Size,
    ulong Device,
    ulong Inode,
    uint RdevMajor,
    uint RdevMinor,
    BtrfsTimespec Atime,
    BtrfsTimespec Btime,
    BtrfsTimespec Ctime,
    BtrfsTimespec Mtime);

/// <summary>
/// The Linux calls the <c>--rootdir</c> importer needs and .NET does not offer with byte paths:
/// statx without following links, readdir, readlink, xattrs, and SEEK_DATA/SEEK_HOLE. Paths
/// are NUL-terminated byte strings; names are never decoded.
/// </summary>
internal static class SourceFiles
{
    private const int AtFdCwd = -100;
    private const int AtSymlinkNoFollow = 0x100;
    private const uint StatxBasicStatsAndBtime = 0xFFF;
    private const int ORdOnly = 0;
    private const int ONoFollow = 0x20000;
    private const int OCloexec = 0x80000;
    private const int ONoAtime = 0x40000;
    private const int ODirectory = 0x10000;
    private const int EPerm = 1;
    private const int SeekData = 3;
    private const int SeekHole = 4;
    private const int ENxio = 6;
    private const int ENoData = 61;
    private const int ERange = 34;

    public static byte[] Z(ReadOnlySpan<byte> path) => [.. path, 0];

    public static byte[] Join(ReadOnlySpan<byte> dir, ReadOnlySpan<byte> name) => [.. dir, (byte)'/', .. name];

    public static SourceStat Stat(ReadOnlySpan<byte> path)
    {
        byte[] buf = new byte[256];
        if (statx(AtFdCwd, Z(path), AtSymlinkNoFollow, StatxBasicStatsAndBtime, buf) != 0)
        {
            throw Error("statx", path);
        }

        ReadOnlySpan<byte> s = buf;
        uint mask = BinaryPrimitives.ReadUInt32LittleEndian(s);
        return new SourceStat(
            BinaryPrimitives.ReadUInt16LittleEndian(s[28..]),
            BinaryPrimitives.ReadUInt32LittleEndian(s[20..]),
            BinaryPrimitives.ReadUInt32LittleEndian(s[24..]),
            BinaryPrimitives.ReadUInt32LittleEndian(s[16..]),
            BinaryPrimitives.ReadUInt64LittleEndian(s[40..]),
            ((ulong)BinaryPrimitives.ReadUInt32LittleEndian(s[136..]) << 32) | BinaryPrimitives.ReadUInt32LittleEndian(s[140..]),
            BinaryPrimitives.ReadUInt64LittleEndian(s[32..]),
            BinaryPrimitives.ReadUInt32LittleEndian(s[128..]),
            BinaryPrimitives.ReadUInt32LittleEndian(s[132..]),
            Time(s[64..]),
            (mask & 0x800) != 0 ? Time(s[80..]) : default,
            Time(s[96..]),
            Time(s[112..]));
    }

    private static BtrfsTimespec Time(ReadOnlySpan<byte> t) =>
        new(BinaryPrimitives.ReadInt64LittleEndian(t), BinaryPrimitives.ReadUInt32LittleEndian(t[8..]));

    /// <summary>The names in a directory, "." and ".." excluded, sorted bytewise.</summary>
    public static List<byte[]> ReadDirectory(ReadOnlySpan<byte> path)
    {
        // O_NOATIME: copying a tree must not change the source's access times.
        int fd = OpenNoAtime(path, ODirectory);
        nint dir = fd < 0 ? 0 : fdopendir(fd);
        if (dir == 0 && fd >= 0)
        {
            close(fd);
        }

        if (dir == 0)
        {
            throw Error("opendir", path);
        }

        var names = new List<byte[]>();
        try
        {
            while (true)
            {
                Marshal.SetLastPInvokeError(0);
                nint entry = readdir(dir);
                if (entry == 0)
                {
                    int e = Marshal.GetLastPInvokeError();
                    if (e != 0)
                    {
                        throw Error("readdir", path, e);
                    }

                    break;
                }

                byte[] raw = new byte[256];
                Marshal.Copy(entry + 19, raw, 0, raw.Length);
                ReadOnlySpan<byte> name = raw.AsSpan(0, raw.AsSpan().IndexOf((byte)0));
                if (!name.SequenceEqual("."u8) && !name.SequenceEqual(".."u8))
                {
                    names.Add(name.ToArray());
                }
            }
        }
        finally
        {
            closedir(dir);
        }

        names.Sort(static (a, b) => a.AsSpan().SequenceCompareTo(b));
        return names;
    }

    public static byte[] ReadLink(ReadOnlySpan<byte> path)
    {
        byte[] buf = new byte[4096];
        nint n = readlink(Z(path), buf, buf.Length);

        if (n < 0)
        {
            throw Error("readlink", path);
        }

        return buf[..(int)n];
    }

    /// <summary>Every extended attribute, in the order the source lists them.</summary>
    public static List<(byte[] Name, byte[] Value)> Xattrs(ReadOnlySpan<byte> path)
    {
        byte[] z = Z(path);
        var result = new List<(byte[], byte[])>();
        byte[] list = new byte[65536];
        nint n = llistxattr(z, list, list.Length);

        if (n < 0)
        {
            int e = Marshal.GetLastPInvokeError();
            if (e is 95 or ENoData)
            {
                return result; // EOPNOTSUPP: the source file system has none
            }

            throw Error("llistxattr", path, e);
        }

        foreach (Range r in list.AsSpan(0, (int)n).Split((byte)0))
        {
            byte[] name = list[r];
            if (name.Length == 0)
            {
                continue;
            }

            byte[] value = new byte[65536];
            nint len = lgetxattr(z, Z(name), value, value.Length);

            if (len < 0)
            {
                int e = Marshal.GetLastPInvokeError();
                if (e == ENoData)
                {
                    continue;
                }

                throw Error(e == ERange ? "lgetxattr (value too large)" : "lgetxattr", path, e);
            }

            result.Add((name, value[..(int)len]));
        }

        return result;
    }

    /// <summary>A source file opened for reading its data and its map of holes.</summary>
    public sealed class DataFile : IDisposable
    {
        private readonly int _fd;

        public DataFile(ReadOnlySpan<byte> path)
        {
            _fd = OpenNoAtime(path, ONoFollow);

            if (_fd < 0)
            {
                throw Error("open", path);
            }
        }

        /// <summary>The data ranges <c>[start, end)</c> of a file of <paramref name="size"/> bytes (all of it when the source cannot tell).</summary>
        public List<(ulong Start, ulong End)> DataRanges(ulong size)
        {
            var ranges = new List<(ulong, ulong)>();
            long pos = 0;
            while ((ulong)pos < size)
            {
                long data = lseek(_fd, pos, SeekData);
                if (data < 0)
                {
                    if (Marshal.GetLastPInvokeError() == ENxio)
                    {
                        break; // no data after pos
                    }

                    return [(0, size)];
                }

                long hole = lseek(_fd, data, SeekHole);
                if (hole < 0)
                {
                    hole = (long)size;
                }

                ranges.Add(((ulong)data, Math.Min((ulong)hole, size)));
                pos = hole;
            }

            return ranges;
        }

        /// <summary>Fills <paramref name="buffer"/> from <paramref name="offset"/> (zeros past the end).</summary>
        public void Read(ulong offset, byte[] buffer)
        {
            int done = 0;
            byte[] part = buffer;
            while (done < buffer.Length)
            {
                if (done > 0)
                {
                    part = new byte[buffer.Length - done];
                }

                nint n = pread(_fd, part, part.Length, (long)offset + done);
                if (n > 0 && done > 0)
                {
                    part.AsSpan(0, (int)n).CopyTo(buffer.AsSpan(done));
                }

                if (n < 0)
                {
                    throw new IOException($"pread at {offset + (ulong)done} failed: errno {Marshal.GetLastPInvokeError()}");
                }

                if (n == 0)
                {
                    buffer.AsSpan(done).Clear(); // the file shrank under us
                    return;
                }

                done += (int)n;
            }
        }

        public void Dispose() => close(_fd);
    }

    // Opens read-only without updating atime; falls back when O_NOATIME is not permitted (not the owner, not root).
    private static int OpenNoAtime(ReadOnlySpan<byte> path, int flags)
    {
        byte[] z = Z(path);
        int fd = open(z, ORdOnly | OCloexec | ONoAtime | flags, 0);
        return fd >= 0 || Marshal.GetLastPInvokeError() != EPerm ? fd : open(z, ORdOnly | OCloexec | flags, 0);
    }

    private static IOException Error(string call, ReadOnlySpan<byte> path, int? errno = null)
    {
        int e = errno ?? Marshal.GetLastPInvokeError();
        return new IOException($"{call} '{System.Text.Encoding.UTF8.GetString(path)}' failed: errno {e} ({Marshal.GetPInvokeErrorMessage(e)})");
    }

#pragma warning disable SYSLIB1054 // LibraryImport needs unsafe code, which this project does not enable
    [DllImport("libc", SetLastError = true)]
    private static extern int statx(int dirfd, byte[] path, int flags, uint mask, byte[] buf);

    [DllImport("libc", SetLastError = true)]
    private static extern nint opendir(byte[] path);

    [DllImport("libc", SetLastError = true)]
    private static extern nint fdopendir(int fd);

    [DllImport("libc", SetLastError = true)]
    private static extern nint readdir(nint dir);

    [DllImport("libc", SetLastError = true)]
    private static extern int closedir(nint dir);

    [DllImport("libc", SetLastError = true)]
    private static extern nint readlink(byte[] path, byte[] buf, nint size);

    [DllImport("libc", SetLastError = true)]
    private static extern nint llistxattr(byte[] path, byte[] list, nint size);

    [DllImport("libc", SetLastError = true)]
    private static extern nint lgetxattr(byte[] path, byte[] name, byte[] value, nint size);

    [DllImport("libc", SetLastError = true)]
    private static extern int open(byte[] path, int flags, uint mode);

    [DllImport("libc", SetLastError = true)]
    private static extern long lseek(int fd, long offset, int whence);

    [DllImport("libc", SetLastError = true)]
    private static extern nint pread(int fd, byte[] buf, nint count, long offset);

    [DllImport("libc", SetLastError = true)]
    private static extern int close(int fd);
#pragma warning restore SYSLIB1054
}
