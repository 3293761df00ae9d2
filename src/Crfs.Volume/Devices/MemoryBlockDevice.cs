// SPDX-License-Identifier: MIT
namespace Crfs.Volume.Devices;

/// <summary>A device held in memory: for tests, and for images loaded whole.</summary>
public sealed class MemoryBlockDevice : IBlockDevice
{
    private readonly byte[] _bytes;

    public MemoryBlockDevice(byte[] bytes, string name = "memory", bool canWrite = true)
    {
        _bytes = bytes;
        Name = name;
        CanWrite = canWrite;
    }

    public string Name { get; }

    public long Length => _bytes.Length;

    public bool CanWrite { get; }

    /// <summary>The device's bytes, for tests that corrupt or inspect them directly.</summary>
    public byte[] Bytes => _bytes;

    public void ReadAt(long offset, Span<byte> buffer)
    {
        if (offset < 0 || offset > _bytes.Length - buffer.Length)
        {
            throw new IOException($"read of [{offset}, {offset + buffer.Length}) is outside {Name} (size {_bytes.Length})");
        }

        _bytes.AsSpan((int)offset, buffer.Length).CopyTo(buffer);
    }

    public void WriteAt(long offset, ReadOnlySpan<byte> data)
    {
        if (!CanWrite)
        {
            throw new InvalidOperationException($"{Name} is read-only");
        }

        if (offset < 0 || offset > _bytes.Length - data.Length)
        {
            throw new IOException($"write of [{offset}, {offset + data.Length}) is outside {Name} (size {_bytes.Length})");
        }

        data.CopyTo(_bytes.AsSpan((int)offset));
    }

    public void Flush()
    {
    }

    public void Dispose()
    {
    }
}
