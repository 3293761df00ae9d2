// SPDX-License-Identifier: MIT
namespace Crfs.Volume.Devices;

/// <summary>
/// One device (block device or image file) of a btrfs volume, addressed by physical byte offset.
/// Implementations must allow concurrent <see cref="ReadAt"/> calls from several threads (the
/// reader copies files in parallel); they need not serialise writes against reads, because the
/// volume never reads a range it is writing.
/// </summary>
public interface IBlockDevice : IDisposable
{
    /// <summary>A name for messages: the path, or a test label.</summary>
    string Name { get; }

    /// <summary>The device size in bytes.</summary>
    long Length { get; }

    bool CanWrite { get; }

    /// <summary>
    /// Fills <paramref name="buffer"/> from <paramref name="offset"/>. A range that is not wholly
    /// inside the device throws <see cref="IOException"/> naming the device and the range.
    /// </summary>
    void ReadAt(long offset, Span<byte> buffer);

    void WriteAt(long offset, ReadOnlySpan<byte> data);

    /// <summary>Makes every completed write durable (fsync).</summary>
    void Flush();
}
