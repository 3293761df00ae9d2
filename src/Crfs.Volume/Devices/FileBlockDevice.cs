// SPDX-License-Identifier: MIT
using System.Runtime.InteropServices;
using Microsoft.Win32.SafeHandles;

namespace Crfs.Volume.Devices;

/// <summary>
/// An image file or a block device, read and written with positional I/O
/// (<see cref="RandomAccess"/>, i.e. pread/pwrite) on one handle shared by all threads.
/// </summary>
public sealed class FileBlockDevice : IBlockDevice
{
    private const int SeekEnd = 2;

    private readonly SafeFileHandle _handle;

    private FileBlockDevice(string path, SafeFileHandle handle, long length, bool canWrite)
    {
        Name = path;
        _handle = handle;
        Length = length;
        CanWrite = canWrite;
    }

    public string Name { get; }

    public long Length { get; }

    public bool CanWrite { get; }

    /// <summary>Opens <paramref name="path"/>; read-only unless <paramref name="writable"/>.</summary>
    public static FileBlockDevice Open(string path, bool writable = false)
    {
        SafeFileHandle handle = File.OpenHandle(
            path,
            FileMode.Open,
            writable ? FileAccess.ReadWrite : FileAccess.Read,
            FileShare.ReadWrite,
            FileOptions.RandomAccess);
        try
        {
            long length = RandomAccess.GetLength(handle);
            if (length == 0)
            {
                // Block devices report st_size 0; their size is where lseek(SEEK_END) lands.
                length = LSeek((int)handle.DangerousGetHandle(), 0, SeekEnd);
                if (length < 0)
                {
                    throw new IOException($"cannot determine the size of {path}: errno {Marshal.GetLastPInvokeError()}");
                }
            }

            return new FileBlockDevice(path, handle, length, writable);
        }
        catch
        {
            handle.Dispose();
            throw;
        }
    }

    public void ReadAt(long offset, Span<byte> buffer)
    {
        if (offset < 0 || offset > Length - buffer.Length)
        {
            throw new IOException($"read of [{offset}, {offset + buffer.Length}) is outside {Name} (size {Length})");
        }

        while (!buffer.IsEmpty)
        {
            int n = RandomAccess.Read(_handle, buffer, offset);
            if (n == 0)
            {
                throw new IOException($"unexpected end of {Name} at {offset}");
            }

            buffer = buffer[n..];
            offset += n;
        }
    }

    public void WriteAt(long offset, ReadOnlySpan<byte> data)
    {
        if (!CanWrite)
        {
            throw new InvalidOperationException($"{Name} is open read-only");
        }

        if (offset < 0 || offset > Length - data.Length)
        {
            throw new IOException($"write of [{offset}, {offset + data.Length}) is outside {Name} (size {Length})");
        }

        RandomAccess.Write(_handle, data, offset);
    }

    public void Flush() => RandomAccess.FlushToDisk(_handle);

    public void Dispose() => _handle.Dispose();

    [DllImport("libc", EntryPoint = "lseek", SetLastError = true)]
    private static extern long LSeek(int fd, long offset, int whence);
}
