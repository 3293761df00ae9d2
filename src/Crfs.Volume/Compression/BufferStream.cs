// SPDX-License-Identifier: MIT
namespace Crfs.Volume.Compression;

/// <summary>
/// A reusable in-memory stream over one growable array, so the BCL's stream-only zlib can be fed
/// from and drained into spans without a fresh <see cref="MemoryStream"/> and array per call.
/// One instance per thread and direction; the array is kept for the thread's next call.
/// </summary>
internal sealed class BufferStream : Stream
{
    private byte[] _buffer = new byte[16 * 1024];
    private int _length;
    private int _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => _length;

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    /// <summary>The bytes written since the last <see cref="Reset"/>.</summary>
    public ReadOnlySpan<byte> Written => _buffer.AsSpan(0, _length);

    /// <summary>Empties the stream for writing.</summary>
    public void Reset()
    {
        _length = 0;
        _position = 0;
    }

    /// <summary>Replaces the content with a copy of <paramref name="data"/> and rewinds for reading.</summary>
    public void Load(ReadOnlySpan<byte> data)
    {
        Reset();
        EnsureCapacity(data.Length);
        data.CopyTo(_buffer);
        _length = data.Length;
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = Math.Min(buffer.Length, _length - _position);
        _buffer.AsSpan(_position, n).CopyTo(buffer);
        _position += n;
        return n;
    }

    public override void Write(byte[] buffer, int offset, int count) => Write(buffer.AsSpan(offset, count));

    public override void Write(ReadOnlySpan<byte> buffer)
    {
        EnsureCapacity(_length + buffer.Length);
        buffer.CopyTo(_buffer.AsSpan(_length));
        _length += buffer.Length;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    private void EnsureCapacity(int size)
    {
        if (size > _buffer.Length)
        {
            Array.Resize(ref _buffer, Math.Max(size, _buffer.Length * 2));
        }
    }
}
