// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using Crfs.Format.Btrfs;
using Crfs.Format.Checksums;
using Crfs.Volume.Allocation;
using Crfs.Volume.Chunks;
using Crfs.Volume.Devices;
using Crfs.Volume.Files;
using Crfs.Volume.Transactions;

namespace Crfs.Volume.Mkfs;

/// <summary>
/// Makes a fresh btrfs volume on a device: what <c>mkfs.btrfs</c> 6.2 makes by default (skinny
/// metadata, no-holes, extended inode refs, free space tree; system and metadata DUP, data
/// SINGLE), written by the same transaction engine that writes everything else.
/// </summary>
/// <remarks>
/// The formatter lays out three chunks, writes a superblock template with the features and
/// geometry, and runs one transaction in which every tree is created empty and filled with
/// its initial items: chunk and device items, block groups, the root tree's ROOT_ITEMs and its
/// directory 6 with the "default" entry, the root directories of the top-level subvolume and
/// of the data-relocation tree, and the UUID tree's entry for subvolume 5. Extent items, block
/// group usage and free space entries are not written here: the commit derives them as for any
/// other transaction, which is why a formatted volume is consistent by construction.
/// </remarks>
public static class VolumeFormatter
{
    private const ulong MiB = 1UL << 20;

    /// <summary>The smallest device the formatter accepts.</summary>
    public const ulong MinimumSize = 64 * MiB;

    /// <summary>Formats <paramref name="device"/> and returns the new volume's generation.</summary>
    public static ulong Format(IBlockDevice device, MkfsOptions options)
    {
        ulong size = (ulong)device.Length / MiB * MiB;
        if (size < MinimumSize)
        {
            throw new ArgumentException($"{device.Name} is {device.Length} bytes; a volume needs at least {MinimumSize}", nameof(device));
        }

        if (options.Label.Length > 255)
        {
            throw new ArgumentException($"the label is {options.Label.Length} bytes; at most 255 fit", nameof(options));
        }

        byte[] fsid = (options.Fsid ?? Guid.NewGuid()).ToByteArray();
        byte[] devUuid = Guid.NewGuid().ToByteArray();
        byte[] chunkTreeUuid = Guid.NewGuid().ToByteArray();
        byte[] fsUuid = Guid.NewGuid().ToByteArray();
        BtrfsTimespec now = options.Time ?? CurrentTime();

        // Zero the superblock copies first: a crash mid-format must not leave an old volume
        // that looks valid over the new layout.
        byte[] zeros = new byte[SuperblockLayout.Size];
        for (int mirror = 0; mirror < SuperblockLayout.MirrorCount; mirror++)
        {
            ulong at = SuperblockLayout.MirrorOffset(mirror);
            if (at + SuperblockLayout.Size <= (ulong)device.Length)
            {
                device.WriteAt((long)at, zeros);
            }
        }

        byte[] super = SuperblockTemplate(size, fsid, devUuid, options);
        VolumeWriter writer = VolumeWriter.CreateEmpty(device, super, chunkTreeUuid);

        ulong systemSize = 4 * MiB;
        ulong metadataSize = Math.Clamp(size / 20 / MiB * MiB, 8 * MiB, 256 * MiB);
        ulong dataSize = Math.Clamp(size / 10 / MiB * MiB, 8 * MiB, 1024 * MiB);
        ulong phys = MiB;
        ulong logical = MiB;
        var layout = new List<(ulong Logical, ulong Size, BlockGroupFlags Type, PhysicalLocation[] Stripes)>();
        foreach ((ulong len, BlockGroupFlags type) in new[]
        {
            (systemSize, BlockGroupFlags.System | BlockGroupFlags.Dup),
            (metadataSize, BlockGroupFlags.Metadata | BlockGroupFlags.Dup),
            (dataSize, BlockGroupFlags.Data),
        })
        {
            int copies = (type & BlockGroupFlags.Dup) != 0 ? 2 : 1;
            var stripes = new PhysicalLocation[copies];
            for (int i = 0; i < copies; i++)
            {
                stripes[i] = new PhysicalLocation(1, phys);
                phys += len;
            }

            layout.Add((logical, len, type, stripes));
            writer.ActivateChunk(logical, len, type, stripes);
            logical += len;
        }

        if (phys > size)
        {
            throw new ArgumentException($"{device.Name} ({size} bytes) is too small for the initial chunks ({phys} bytes)", nameof(device));
        }

        writer.SizeReserves(size);
        WriteTransaction tx = writer.RunningTransaction();
        ulong t = tx.Generation;
        foreach (ulong tree in (ReadOnlySpan<ulong>)[ObjectIds.RootTree, ObjectIds.ChunkTree, ObjectIds.ExtentTree, ObjectIds.DevTree, ObjectIds.FsTree, ObjectIds.CsumTree, ObjectIds.UuidTree, ObjectIds.FreeSpaceTree, ObjectIds.DataRelocTree])
        {
            tx.CreateTree(tree);
        }

        byte[] devItem = new byte[DevItemLayout.Size];
        super.AsSpan(SuperblockLayout.DevItem, DevItemLayout.Size).CopyTo(devItem);
        new DevItemWriter(devItem).BytesUsed = 0; // each chunk's items add its stripes
        tx.Insert(ObjectIds.ChunkTree, new BtrfsKey(ObjectIds.DevItems, ItemType.DevItem, 1), devItem);
        foreach (var chunk in layout)
        {
            tx.InsertChunkItems(chunk.Logical, chunk.Size, chunk.Type, chunk.Stripes, activate: false);
        }

        foreach (ulong tree in (ReadOnlySpan<ulong>)[ObjectIds.ExtentTree, ObjectIds.DevTree, ObjectIds.FsTree, ObjectIds.CsumTree, ObjectIds.UuidTree, ObjectIds.FreeSpaceTree, ObjectIds.DataRelocTree])
        {
            bool isFs = tree is ObjectIds.FsTree or ObjectIds.DataRelocTree;
            tx.Insert(ObjectIds.RootTree, new BtrfsKey(tree, ItemType.RootItem, 0), RootItem(tx, tree, isFs, tree == ObjectIds.FsTree ? fsUuid : null, now));
        }

        // Root tree directory 6 with "default" -> subvolume 5, and the subvolume's back name.
        byte[] defaultName = "default"u8.ToArray();
        tx.Insert(ObjectIds.RootTree, new BtrfsKey(ObjectIds.FsTree, ItemType.InodeRef, ObjectIds.RootTreeDir), FsItemPayloads.InodeRefEntry(0, defaultName));
        tx.Insert(ObjectIds.RootTree, new BtrfsKey(ObjectIds.RootTreeDir, ItemType.InodeItem, 0), FsItemPayloads.Inode(DirInode(t, now, (ulong)options.NodeSize)));
        tx.Insert(ObjectIds.RootTree, new BtrfsKey(ObjectIds.RootTreeDir, ItemType.InodeRef, ObjectIds.RootTreeDir), FsItemPayloads.InodeRefEntry(0, ".."u8));
        tx.Insert(ObjectIds.RootTree, new BtrfsKey(ObjectIds.RootTreeDir, ItemType.DirItem, NameHash.DirItem(defaultName)),
            FsItemPayloads.DirEntry(new BtrfsKey(ObjectIds.FsTree, ItemType.RootItem, ulong.MaxValue), 0, DirEntryType.Directory, defaultName, []));

        foreach (ulong tree in (ReadOnlySpan<ulong>)[ObjectIds.FsTree, ObjectIds.DataRelocTree])
        {
            tx.Insert(tree, new BtrfsKey(ObjectIds.FirstFree, ItemType.InodeItem, 0), FsItemPayloads.Inode(DirInode(t, now, tree == ObjectIds.FsTree ? (ulong)options.NodeSize : 0)));
            tx.Insert(tree, new BtrfsKey(ObjectIds.FirstFree, ItemType.InodeRef, ObjectIds.FirstFree), FsItemPayloads.InodeRefEntry(0, ".."u8));
        }

        byte[] subvol = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(subvol, ObjectIds.FsTree);
        tx.Insert(ObjectIds.UuidTree, new BtrfsKey(BinaryPrimitives.ReadUInt64LittleEndian(fsUuid), ItemType.UuidKeySubvol, BinaryPrimitives.ReadUInt64LittleEndian(fsUuid.AsSpan(8))), subvol);

        writer.Commit();
        ulong generation = writer.Generation;
        writer.Dispose();
        return generation;
    }

    private static byte[] SuperblockTemplate(ulong size, byte[] fsid, byte[] devUuid, MkfsOptions options)
    {
        byte[] super = new byte[SuperblockLayout.Size];
        var w = new SuperblockWriter(super);
        fsid.CopyTo(w.Fsid);
        w.Bytenr = SuperblockLayout.MirrorOffset(0);
        w.Flags = SuperblockFlags.Written;
        w.Magic = SuperblockLayout.MagicValue;
        w.Generation = 0;
        w.TotalBytes = size;
        w.RootDirObjectId = ObjectIds.RootTreeDir;
        w.NumDevices = 1;
        w.SectorSize = (uint)options.SectorSize;
        w.NodeSize = (uint)options.NodeSize;
        w.LeafSize = (uint)options.NodeSize;
        w.StripeSize = (uint)options.SectorSize;
        w.CompatRoFlags = CompatRoFeatures.FreeSpaceTree | CompatRoFeatures.FreeSpaceTreeValid;
        w.IncompatFlags = IncompatFeatures.MixedBackref | IncompatFeatures.ExtendedIref | IncompatFeatures.SkinnyMetadata | IncompatFeatures.NoHoles;
        w.CsumType = options.ChecksumType;
        options.Label.CopyTo(w.Label);
        DevItemWriter d = w.DevItem;
        d.DevId = 1;
        d.TotalBytes = size;
        d.IoAlign = (uint)options.SectorSize;
        d.IoWidth = (uint)options.SectorSize;
        d.SectorSize = (uint)options.SectorSize;
        devUuid.CopyTo(d.Uuid);
        fsid.CopyTo(d.Fsid);
        return super;
    }

    private static InodeItem DirInode(ulong generation, BtrfsTimespec now, ulong nbytes) =>
        new(generation, generation, 0, nbytes, 0, 1, 0, 0, InodeMode.Directory | 0x1ED, 0, InodeFlags.None, 0, now, now, now, now);

    private static byte[] RootItem(WriteTransaction tx, ulong tree, bool isFs, byte[]? uuid, BtrfsTimespec now)
    {
        TreeRoot root = tx.Root(tree);
        byte[] item = new byte[RootItemLayout.Size];
        var w = new RootItemWriter(item);
        w.Inode.Set(new InodeItem(1, 0, 3, (ulong)tx.NodeSize, 0, 1, 0, 0, InodeMode.Directory | 0x1ED, 0, isFs ? InodeFlags.RootItemInit : InodeFlags.None, 0, default, default, default, default));
        w.Generation = root.Generation;
        w.GenerationV2 = root.Generation;
        w.RootDirId = isFs ? ObjectIds.FirstFree : 0;
        w.Bytenr = root.Bytenr;
        w.Level = (byte)root.Level;
        w.BytesUsed = (ulong)tx.NodeSize;
        w.Refs = 1;
        if (uuid is not null)
        {
            uuid.CopyTo(w.Uuid);
            w.Ctime = now;
            w.Otime = now;
        }

        root.RecordedBytenr = root.Bytenr;
        root.RecordedGeneration = root.Generation;
        root.BytesUsedDelta = 0;
        return item;
    }

    private static BtrfsTimespec CurrentTime()
    {
        long ticks = DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks;
        return new BtrfsTimespec(ticks / TimeSpan.TicksPerSecond, (uint)(ticks % TimeSpan.TicksPerSecond * 100));
    }
}
