// SPDX-License-Identifier: MIT
using Crfs.Volume.Chunks;
using Crfs.Volume.Devices;

namespace Crfs.Volume.Transactions;

/// <summary>The writer over a device that holds no file system yet (mkfs).</summary>
public sealed partial class VolumeWriter
{
    /// <summary>
    /// A writer whose committed state is empty: every tree must be created in the first
    /// transaction (<see cref="WriteTransaction.CreateTree"/>) and every chunk activated.
    /// It cannot read blocks it has not written itself, so after the first commit callers reopen
    /// the device with <see cref="Open(IBlockDevice, bool)"/>.
    /// </summary>
    internal static VolumeWriter CreateEmpty(IBlockDevice device, byte[] superblock, byte[] chunkTreeUuid)
    {
        var writer = new VolumeWriter(device, ownsDevice: false, superblock, new ChunkMap(), source: null, readerCache: null);
        writer.SetChunkTreeUuid(chunkTreeUuid);
        return writer;
    }

    /// <summary>Runs <paramref name="change"/> in the running transaction (for the formatter; no read-only handling).</summary>
    internal WriteTransaction RunningTransaction()
    {
        lock (_lock)
        {
            return Running();
        }
    }
}
