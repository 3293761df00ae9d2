// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Volume.Allocation;
using Crfs.Volume.Chunks;
using Crfs.Volume.Devices;
using Crfs.Volume.Trees;

namespace Crfs.Volume.Transactions;

/// <summary>Opening an existing volume for writing: what is refused, and the state loaded.</summary>
public sealed partial class VolumeWriter
{
    /// <summary>Incompat features the writer maintains correctly.</summary>
    public const IncompatFeatures WritableIncompat =
        IncompatFeatures.MixedBackref | IncompatFeatures.DefaultSubvol | IncompatFeatures.CompressLzo
        | IncompatFeatures.CompressZstd | IncompatFeatures.BigMetadata | IncompatFeatures.ExtendedIref
        | IncompatFeatures.SkinnyMetadata | IncompatFeatures.NoHoles;

    /// <summary>Opens the image file or block device at <paramref name="path"/> for writing.</summary>
    public static VolumeWriter Open(string path)
    {
        FileBlockDevice device = FileBlockDevice.Open(path, writable: true);
        return Open(device, ownsDevice: true);
    }

    /// <summary>
    /// Opens <paramref name="device"/> for writing. Throws <see cref="UnsupportedVolumeException"/>
    /// for volumes the writer must not change (see <c>docs/on-disk-writer.md</c>): an unreplayed
    /// log tree, several devices, features or profiles it does not maintain, a quota tree, an
    /// untrusted free space tree, inconsistent block group accounting.
    /// </summary>
    public static VolumeWriter Open(IBlockDevice device, bool ownsDevice = false)
    {
        var readerDevice = new NonOwningDevice(device);
        BtrfsVolume volume = BtrfsVolume.Open([readerDevice]);
        try
        {
            var writer = new VolumeWriter(device, ownsDevice, (byte[])volume.Superblock.Bytes.ToArray(), volume.ChunkMap, volume.BlockSource, volume.BlockSource.Cache);
            writer._reader = volume;
            writer.Load(volume);
            return writer;
        }
        catch
        {
            volume.Dispose();
            if (ownsDevice)
            {
                device.Dispose();
            }

            throw;
        }
    }

    private void Load(BtrfsVolume volume)
    {
        SuperblockView sb = volume.Superblock;
        string name = _device.Name;
        if (!_device.CanWrite)
        {
            throw new UnsupportedVolumeException($"{name} is not open for writing");
        }

        if (sb.LogRoot != 0)
        {
            throw new UnsupportedVolumeException($"{name} has an unreplayed log tree at {sb.LogRoot} (generation {sb.Generation + 1}): mount it once with the kernel, or run btrfs rescue zero-log, before writing");
        }

        if (sb.NumDevices != 1)
        {
            throw new UnsupportedVolumeException($"{name} belongs to a volume of {sb.NumDevices} devices; the writer handles single-device volumes only");
        }

        IncompatFeatures extra = sb.IncompatFlags & ~WritableIncompat;
        const IncompatFeatures required = IncompatFeatures.SkinnyMetadata | IncompatFeatures.NoHoles;
        if (extra != 0 || (sb.IncompatFlags & required) != required)
        {
            throw new UnsupportedVolumeException($"{name}: incompat features 0x{(ulong)sb.IncompatFlags:x} ({FeatureNames.Format(sb.IncompatFlags)}); the writer needs skinny-metadata and no-holes and supports 0x{(ulong)WritableIncompat:x}");
        }

        CompatRoFeatures ro = sb.CompatRoFlags;
        if ((ro & ~(CompatRoFeatures.FreeSpaceTree | CompatRoFeatures.FreeSpaceTreeValid)) != 0)
        {
            throw new UnsupportedVolumeException($"{name}: compat_ro features 0x{(ulong)ro:x} ({FeatureNames.Format(ro)}) are not maintained by the writer");
        }

        if ((ro & CompatRoFeatures.FreeSpaceTree) != 0 && (ro & CompatRoFeatures.FreeSpaceTreeValid) == 0)
        {
            throw new UnsupportedVolumeException($"{name}: the free space tree is marked invalid; mount once with the kernel to rebuild it");
        }

        const SuperblockFlags bad = SuperblockFlags.Error | SuperblockFlags.Seeding | SuperblockFlags.Metadump | SuperblockFlags.MetadumpV2
            | SuperblockFlags.ChangingFsid | SuperblockFlags.ChangingFsidV2;
        if ((sb.Flags & bad) != 0)
        {
            throw new UnsupportedVolumeException($"{name}: superblock flags 0x{(ulong)sb.Flags:x} ({FeatureNames.Format(sb.Flags)}) forbid writing");
        }

        if (volume.FindTree(ObjectIds.QuotaTree) is not null)
        {
            throw new UnsupportedVolumeException($"{name} has quotas enabled; the writer does not maintain qgroups");
        }

        foreach (Chunk chunk in Chunks.Chunks)
        {
            if (chunk.Profile is not (BlockGroupFlags.None or BlockGroupFlags.Dup))
            {
                throw new UnsupportedVolumeException($"{name}: chunk {chunk.Start} uses {BlockGroupNames.Profile(chunk.Type)}; the writer handles SINGLE and DUP only");
            }

            if ((chunk.Type & BlockGroupFlags.Data) != 0 && (chunk.Type & BlockGroupFlags.Metadata) != 0)
            {
                throw new UnsupportedVolumeException($"{name}: mixed block groups are not supported by the writer");
            }
        }

        LoadChunkTreeUuid(volume);
        LoadBlockGroups(volume);
        LoadDevExtents(volume);
        SizeReserves(sb.TotalBytes);

        // Rewrite (diff) every group's free space entries at the first commit: makes a stale or
        // foreign tree exact, and is a no-op for an exact one.
        foreach (BlockGroup g in Allocator.Groups)
        {
            g.FreeSpaceDirty = true;
        }
    }

    private void LoadChunkTreeUuid(BtrfsVolume volume)
    {
        TreeBlock root = volume.ChunkTree.ReadRoot();
        SetChunkTreeUuid(new HeaderView(root.Bytes).ChunkTreeUuid.ToArray());
    }

    private void LoadBlockGroups(BtrfsVolume volume)
    {
        BtrfsTree extentTree = volume.GetTree(ObjectIds.ExtentTree);
        var extents = new List<(ulong Start, ulong Length)>();
        var groups = new List<BlockGroup>();
        TreeCursor cursor = extentTree.OpenCursor();
        for (bool ok = cursor.SeekFirst(); ok; ok = cursor.MoveNext())
        {
            BtrfsKey key = cursor.Key;
            switch (key.Type)
            {
                case ItemType.ExtentItem:
                    extents.Add((key.ObjectId, key.Offset));
                    break;
                case ItemType.MetadataItem:
                    extents.Add((key.ObjectId, (ulong)NodeSize));
                    break;
                case ItemType.BlockGroupItem:
                    var item = new BlockGroupItemView(cursor.Data);
                    groups.Add(new BlockGroup(key.ObjectId, key.Offset, item.Flags) { RecordedUsed = item.Used });
                    break;
            }
        }

        foreach (BlockGroup g in groups)
        {
            Chunk chunk = Chunks.Find(g.Start) ?? throw new UnsupportedVolumeException($"{g} has no chunk");
            if (chunk.Start != g.Start || chunk.Length != g.Length)
            {
                throw new UnsupportedVolumeException($"{g} does not match chunk [{chunk.Start}, {chunk.End})");
            }

            g.Free.Add(g.Start, g.Length);
            Allocator.AddGroup(g);
        }

        if (groups.Count != Chunks.Chunks.Count)
        {
            throw new UnsupportedVolumeException($"{groups.Count} block groups for {Chunks.Chunks.Count} chunks");
        }

        foreach ((ulong start, ulong length) in extents)
        {
            BlockGroup g = Allocator.Find(start) ?? throw new UnsupportedVolumeException($"extent [{start}, {start + length}) lies in no block group");
            g.Used.Add(start, length);
            g.Free.Remove(start, length);
        }

        foreach (BlockGroup g in Allocator.Groups)
        {
            if (g.Used.Total != g.RecordedUsed)
            {
                throw new UnsupportedVolumeException($"{g}: BLOCK_GROUP_ITEM says used {g.RecordedUsed} but the extents in it sum to {g.Used.Total}");
            }

            ExcludeSuperblockStripes(g, Chunks.Find(g.Start)!);
        }
    }

    private void LoadDevExtents(BtrfsVolume volume)
    {
        BtrfsTree devTree = volume.GetTree(ObjectIds.DevTree);
        TreeCursor cursor = devTree.OpenCursor();
        for (bool ok = cursor.Seek(new BtrfsKey(DevId, ItemType.DevExtent, 0)); ok; ok = cursor.MoveNext())
        {
            BtrfsKey key = cursor.Key;
            if (key.ObjectId != DevId || key.Type != ItemType.DevExtent)
            {
                break;
            }

            DevExtents.Add(key.Offset, new DevExtentView(cursor.Data).Length);
        }
    }

    // Chunk sizes as the kernel picks them for a device of this size, and the global reserve.
    internal void SizeReserves(ulong totalBytes)
    {
        const ulong MiB = 1UL << 20;
        DataChunkSize = Math.Clamp(totalBytes / 10 / MiB * MiB, 8 * MiB, 1024 * MiB);
        MetadataChunkSize = Math.Clamp(totalBytes / 20 / MiB * MiB, 8 * MiB, 256 * MiB);
        ulong metadata = 0;
        foreach (BlockGroup g in Allocator.Groups)
        {
            if (g.IsMetadata)
            {
                metadata += g.Length;
            }
        }

        GlobalReserve = Math.Clamp(Math.Max(metadata, MetadataChunkSize) / 8, 64 * (ulong)NodeSize, 32 * MiB);
    }

    /// <summary>Makes a new chunk's space known: chunk map, dev extents, block group (new, free).</summary>
    internal void ActivateChunk(ulong logical, ulong size, BlockGroupFlags type, PhysicalLocation[] locations)
    {
        var chunk = new Chunk(logical, size, type, ChunkItemLayout.StandardStripeLength, 1, locations);
        Chunks.Add(chunk);
        foreach (PhysicalLocation loc in locations)
        {
            DevExtents.Add(loc.Offset, size);
        }

        var group = new BlockGroup(logical, size, type) { IsNew = true, FreeSpaceDirty = true };
        group.Free.Add(logical, size);
        ExcludeSuperblockStripes(group, chunk);
        Allocator.AddGroup(group);
    }

    /// <summary>Lends a device to the reader without handing over its disposal.</summary>
    private sealed class NonOwningDevice : IBlockDevice
    {
        private readonly IBlockDevice _inner;

        public NonOwningDevice(IBlockDevice inner)
        {
            _inner = inner;
        }

        public string Name => _inner.Name;

        public long Length => _inner.Length;

        public bool CanWrite => _inner.CanWrite;

        public void ReadAt(long offset, Span<byte> buffer) => _inner.ReadAt(offset, buffer);

        public void WriteAt(long offset, ReadOnlySpan<byte> data) => _inner.WriteAt(offset, data);

        public void Flush() => _inner.Flush();

        public void Dispose()
        {
        }
    }
}
