// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Volume.Allocation;
using Crfs.Volume.Chunks;
using Crfs.Volume.Files;

namespace Crfs.Volume.Transactions;

/// <summary>Adding chunks (and their block groups) as space fills.</summary>
public sealed partial class WriteTransaction
{
    private const ulong MiB = 1UL << 20;

    /// <summary>
    /// Adds a chunk for <paramref name="kind"/> (data SINGLE, metadata and system DUP) in the
    /// first free stretch of the device: CHUNK_ITEM, DEV_EXTENT per stripe, DEV_ITEM usage,
    /// BLOCK_GROUP_ITEM, and (at commit) its free space entries and the system chunk array.
    /// False when the device has no room left.
    /// </summary>
    internal bool TryAddChunk(SpaceKind kind, ulong minLength)
    {
        int stripes = kind == SpaceKind.Data ? 1 : 2;
        ulong size = kind switch
        {
            SpaceKind.Data => Math.Max(_writer.DataChunkSize, (minLength + MiB - 1) / MiB * MiB),
            SpaceKind.System => 8 * MiB,
            _ => _writer.MetadataChunkSize,
        };

        ulong[]? physical = null;
        for (; size >= MiB && physical is null; size = size / 2 / MiB * MiB)
        {
            physical = FindDeviceSpace(size, stripes);
        }

        if (physical is null)
        {
            return false;
        }

        size = physical[^1];
        ulong logical = 0;
        foreach (Chunk c in _writer.Chunks.Chunks)
        {
            logical = Math.Max(logical, c.End);
        }

        logical = Math.Max((logical + MiB - 1) / MiB * MiB, MiB);
        BlockGroupFlags type = kind switch
        {
            SpaceKind.Data => BlockGroupFlags.Data,
            SpaceKind.System => BlockGroupFlags.System | BlockGroupFlags.Dup,
            _ => BlockGroupFlags.Metadata | BlockGroupFlags.Dup,
        };
        var locations = new PhysicalLocation[stripes];
        for (int i = 0; i < stripes; i++)
        {
            locations[i] = new PhysicalLocation(_writer.DevId, physical[i]);
        }

        InsertChunkItems(logical, size, type, locations);
        return true;
    }

    /// <summary>Inserts the items of a new chunk and makes its space available.</summary>
    internal void InsertChunkItems(ulong logical, ulong size, BlockGroupFlags type, PhysicalLocation[] locations, bool activate = true)
    {
        byte[] devItem = DevItem(out BtrfsKey devKey);
        byte[] devUuid = new DevItemView(devItem).Uuid.ToArray();
        byte[] chunkItem = new byte[ChunkItemLayout.ItemSize(locations.Length)];
        var cw = new ChunkItemWriter(chunkItem);
        cw.Length = size;
        cw.Owner = ObjectIds.ExtentTree;
        cw.StripeLength = ChunkItemLayout.StandardStripeLength;
        cw.Type = type;
        cw.IoAlign = (uint)ChunkItemLayout.StandardStripeLength;
        cw.IoWidth = (uint)ChunkItemLayout.StandardStripeLength;
        cw.SectorSize = (uint)SectorSize;
        cw.NumStripes = (ushort)locations.Length;
        cw.SubStripes = 1;
        for (int i = 0; i < locations.Length; i++)
        {
            StripeWriter s = cw.Stripe(i);
            s.DevId = locations[i].DevId;
            s.Offset = locations[i].Offset;
            devUuid.CopyTo(s.DevUuid);
        }

        Insert(ObjectIds.ChunkTree, new BtrfsKey(ObjectIds.FirstChunkTree, ItemType.ChunkItem, logical), chunkItem);
        foreach (PhysicalLocation loc in locations)
        {
            byte[] ext = new byte[DevExtentLayout.Size];
            var ew = new DevExtentWriter(ext);
            ew.ChunkTree = ObjectIds.ChunkTree;
            ew.ChunkObjectId = ObjectIds.FirstChunkTree;
            ew.ChunkOffset = logical;
            ew.Length = size;
            _writer.ChunkTreeUuid().CopyTo(ew.ChunkTreeUuid);
            Insert(ObjectIds.DevTree, new BtrfsKey(_writer.DevId, ItemType.DevExtent, loc.Offset), ext);
        }

        byte[] newDevItem = (byte[])devItem.Clone();
        var dw = new DevItemWriter(newDevItem);
        dw.BytesUsed += size * (ulong)locations.Length;
        Update(ObjectIds.ChunkTree, devKey, newDevItem);

        byte[] bg = new byte[BlockGroupItemLayout.Size];
        var bw = new BlockGroupItemWriter(bg);
        bw.Used = 0;
        bw.ChunkObjectId = ObjectIds.FirstChunkTree;
        bw.Flags = type;
        Insert(ObjectIds.ExtentTree, new BtrfsKey(logical, ItemType.BlockGroupItem, size), bg);

        if (activate)
        {
            _writer.ActivateChunk(logical, size, type, locations);
        }
    }

    /// <summary>
    /// Grows the volume's one device to <paramref name="newTotalBytes"/> (rounded down to a whole
    /// sector), as <c>btrfs filesystem resize</c> does: the DEV_ITEM's total_bytes, and at commit
    /// the superblock's total_bytes and its copy of the DEV_ITEM. No chunk moves; the new space is
    /// unallocated and chunks are added there as space fills. The backing file or device must
    /// already be that long.
    /// </summary>
    /// <returns><see cref="WriteStatus.InvalidArgument"/>, changing nothing, when the size is
    /// smaller than the device's current size or larger than the backing file or device.</returns>
    public WriteStatus GrowDevice(ulong newTotalBytes)
    {
        ulong size = newTotalBytes / (ulong)SectorSize * (ulong)SectorSize;
        byte[] devItem = DevItem(out BtrfsKey devKey);
        if (size < new DevItemView(devItem).TotalBytes || size > (ulong)_writer.Device.Length)
        {
            return WriteStatus.InvalidArgument;
        }

        byte[] grown = (byte[])devItem.Clone();
        new DevItemWriter(grown).TotalBytes = size;
        Update(ObjectIds.ChunkTree, devKey, grown);
        _writer.SizeReserves(size);
        return WriteStatus.Ok;
    }

    /// <summary>The one device's DEV_ITEM; its total_bytes is the device's size as the volume records it, which may be less than the backing file.</summary>
    private byte[] DevItem(out BtrfsKey key)
    {
        key = new BtrfsKey(ObjectIds.DevItems, ItemType.DevItem, _writer.DevId);
        if (!TryGet(ObjectIds.ChunkTree, key, out byte[] devItem))
        {
            throw new WriterFaultException($"the chunk tree has no DEV_ITEM {key}");
        }

        return devItem;
    }

    // Physical offsets for each stripe, with the stripe size last; first fit above 1 MiB. Only
    // the device's recorded size counts: a backing file longer than that (an image truncated
    // up, a partition bigger than the volume) is not the volume's to use until it is grown.
    private ulong[]? FindDeviceSpace(ulong size, int stripes)
    {
        ulong deviceEnd = Math.Min((ulong)_writer.Device.Length, new DevItemView(DevItem(out _)).TotalBytes) / MiB * MiB;
        var free = new RangeSet();
        if (deviceEnd > MiB)
        {
            free.Add(MiB, deviceEnd - MiB);
        }

        foreach ((ulong s, ulong e) in _writer.DevExtents.Intervals)
        {
            free.RemoveOverlap(s, e - s);
        }

        ulong[] result = new ulong[stripes + 1];
        for (int i = 0; i < stripes; i++)
        {
            ulong? at = free.FindFit(MiB, size, MiB);
            if (at is not ulong a)
            {
                return null;
            }

            free.Remove(a, size);
            result[i] = a;
        }

        result[stripes] = size;
        return result;
    }
}
