// SPDX-License-Identifier: MIT
using Crfs.Volume.Devices;

namespace Crfs.Volume.Chunks;

/// <summary>
/// Reads logical ranges through the chunk map, one chosen copy at a time. Ranges may span stripe
/// boundaries (RAID0/RAID10) and are split accordingly; they may not span chunks, since nothing
/// btrfs stores (a tree block, a data extent) does.
/// </summary>
public sealed class LogicalReader
{
    private readonly ChunkMap _chunks;
    private readonly DeviceSet _devices;

    public LogicalReader(ChunkMap chunks, DeviceSet devices)
    {
        _chunks = chunks;
        _devices = devices;
    }

    /// <summary>How many copies of <paramref name="logical"/> exist; 0 when no chunk maps it.</summary>
    public int CopyCount(ulong logical) => _chunks.Find(logical)?.CopyCount ?? 0;

    /// <summary>
    /// Fills <paramref name="destination"/> from copy <paramref name="mirror"/> (1-based) of the
    /// range at <paramref name="logical"/>. Throws <see cref="IOException"/> when the range is not
    /// mapped, leaves its chunk, or lies on a missing device.
    /// </summary>
    public void Read(ulong logical, Span<byte> destination, int mirror)
    {
        Span<PhysicalLocation> copies = stackalloc PhysicalLocation[ChunkMap.MaxCopies];
        while (!destination.IsEmpty)
        {
            Chunk chunk = _chunks.Find(logical)
                ?? throw new IOException($"logical address {logical} is not mapped by any chunk");
            ulong contiguous = chunk.Map(logical, copies);
            int count = chunk.CopyCount;
            if (mirror < 1 || mirror > count)
            {
                throw new ArgumentOutOfRangeException(nameof(mirror), mirror, $"chunk {chunk.Start} has {count} copies");
            }

            int n = (int)Math.Min((ulong)destination.Length, contiguous);
            PhysicalLocation at = copies[mirror - 1];
            IBlockDevice device = _devices.Find(at.DevId)
                ?? throw new MissingDeviceException(at.DevId, $"device {at.DevId} holding logical {logical} (mirror {mirror}) is missing");
            device.ReadAt((long)at.Offset, destination[..n]);
            destination = destination[n..];
            logical += (ulong)n;
        }
    }

    /// <summary>Where copy <paramref name="mirror"/> of <paramref name="logical"/> lives, or null when unmapped (for messages and tests).</summary>
    public PhysicalLocation? Locate(ulong logical, int mirror = 1)
    {
        Chunk? chunk = _chunks.Find(logical);
        if (chunk is null || mirror < 1 || mirror > chunk.CopyCount)
        {
            return null;
        }

        Span<PhysicalLocation> copies = stackalloc PhysicalLocation[ChunkMap.MaxCopies];
        chunk.Map(logical, copies);
        return copies[mirror - 1];
    }
}

/// <summary>
/// A copy lives on a device that was not given (a degraded multi-device volume). Not corruption:
/// readers fall back to another copy without reporting a bad one.
/// </summary>
public sealed class MissingDeviceException : IOException
{
    public MissingDeviceException(ulong devId, string message)
        : base(message)
    {
        DevId = devId;
    }

    public ulong DevId { get; }
}
