// SPDX-License-Identifier: MIT
namespace Crfs.Fuse.Tests;

/// <summary>A read-only stream over one file of a <see cref="MemoryFileSystem"/>, read in process.</summary>
internal sealed class MemoryFileStream(MemoryFileSystem fs, ulong nodeId) : Stream
{
    private long _position;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => false;

    public override long Length => fs.SizeOf(nodeId);

    public override long Position
    {
        get => _position;
        set => throw new NotSupportedException();
    }

    public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

    public override int Read(Span<byte> buffer)
    {
        int n = fs.ReadContent(nodeId, _position, buffer);
        _position += n;
        return n;
    }

    public override void Flush()
    {
    }

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
}
