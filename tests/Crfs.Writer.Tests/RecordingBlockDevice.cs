// SPDX-License-Identifier: MIT
using Crfs.Volume.Devices;

namespace Crfs.Writer.Tests;

/// <summary>
/// A device in memory that records every write and flush, so a test can rebuild the device as
/// it would be after a power cut at any point of the stream.
/// </summary>
internal sealed class RecordingBlockDevice : IBlockDevice
{
    private readonly byte[] _bytes;

    public RecordingBlockDevice(byte[] bytes)
    {
        _bytes = bytes;
    }

    /// <summary>Writes (offset, data) and flushes (null data), in order.</summary>
    public List<(long Offset, byte[]? Data)> Events { get; } = [];

    public bool Recording { get; set; } = true;

    public string Name => "recording";

    public long Length => _bytes.Length;

    public bool CanWrite => true;

    public byte[] Bytes => _bytes;

    public void ReadAt(long offset, Span<byte> buffer) => _bytes.AsSpan((int)offset, buffer.Length).CopyTo(buffer);

    public void WriteAt(long offset, ReadOnlySpan<byte> data)
    {
        data.CopyTo(_bytes.AsSpan((int)offset));
        if (Recording)
        {
            Events.Add((offset, data.ToArray()));
        }
    }

    public void Flush()
    {
        if (Recording)
        {
            Events.Add((0, null));
        }
    }

    public void Dispose()
    {
    }

    /// <summary>
    /// <paramref name="baseline"/> after a cut before event <paramref name="cut"/>: every write before
    /// the last flush is kept; of the writes after it, those <paramref name="keep"/> selects.
    /// </summary>
    public byte[] CutAt(byte[] baseline, int cut, Func<int, bool> keep)
    {
        byte[] image = (byte[])baseline.Clone();
        int lastFlush = -1;
        for (int i = 0; i < cut; i++)
        {
            if (Events[i].Data is null)
            {
                lastFlush = i;
            }
        }

        for (int i = 0; i < cut; i++)
        {
            if (Events[i].Data is byte[] d && (i < lastFlush || keep(i)))
            {
                d.CopyTo(image, (int)Events[i].Offset);
            }
        }

        return image;
    }
}
