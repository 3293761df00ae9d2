// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using Crfs.Format.Btrfs;
using Crfs.Format.Checksums;
using Crfs.Volume.Chunks;

namespace Crfs.Volume.Transactions;

/// <summary>Commit: settle, write blocks, flush, superblocks, unpin.</summary>
public sealed partial class VolumeWriter
{
    /// <summary>Raised after each durable commit with its generation (tests and metrics).</summary>
    public event Action<ulong>? Committed;

    private void CommitLocked()
    {
        WriteTransaction? tx = _running;
        if (tx is null || !tx.HasChanges)
        {
            tx?.DurableSource.TrySetResult();
            _running = null;
            return;
        }

        try
        {
            tx.Settle();
            WriteDirtyBlocks(tx);
            _device.Flush();
            byte[] super = BuildSuperblock(tx);
            WriteSuperblocks(super);
            _superblock = super;
            Generation = tx.Generation;
            Allocator.Unpin();
            foreach (TreeNode node in tx.DirtyNodes)
            {
                node.Dirty = false;
                if (_clean.Count < CleanCacheLimit)
                {
                    _clean[node.Logical] = node;
                }
            }

            _running = null;
        }
        catch (Exception e)
        {
            GoReadOnly(e);
            throw new VolumeReadOnlyException($"commit of transaction {tx.Generation} failed; the volume is now read-only: {e.Message}", e);
        }

        tx.DurableSource.TrySetResult();
        Committed?.Invoke(tx.Generation);
    }

    private void WriteDirtyBlocks(WriteTransaction tx)
    {
        // From here on blocks of this generation are on disk and may be read back through the
        // reader's checker once they leave the caches.
        _reader?.Checker.AdvanceSuperGeneration(tx.Generation);
        var sb = new SuperblockView(_superblock);
        byte[] fsid = sb.MetadataFsid.ToArray();
        byte[] chunkTreeUuid = ChunkTreeUuid();
        var checker = new TreeBlockChecker(NodeSize, SectorSize, ChecksumType, fsid, tx.Generation - 1, sb.IncompatFlags);
        TreeNode[] nodes = [.. tx.DirtyNodes.OrderBy(n => n.Logical)];
        byte[][] blocks = new byte[nodes.Length][];
        string?[] faults = new string?[nodes.Length];
        Parallel.For(0, nodes.Length, i =>
        {
            byte[] block = new byte[NodeSize];
            nodes[i].Serialize(block, fsid, chunkTreeUuid, ChecksumType);
            faults[i] = checker.Validate(block, nodes[i].Logical);
            blocks[i] = block;
        });
        for (int i = 0; i < nodes.Length; i++)
        {
            if (faults[i] is string fault)
            {
                throw new WriterFaultException($"refusing to write {nodes[i]}: {fault}");
            }
        }

        for (int i = 0; i < nodes.Length; i++)
        {
            WriteLogical(nodes[i].Logical, blocks[i]);
            _readerCache?.Remove(nodes[i].Logical);
        }
    }

    private byte[]? _chunkTreeUuid;

    // Every tree block carries the chunk tree UUID; the DEV_EXTENTs hold it too.
    internal byte[] ChunkTreeUuid()
    {
        if (_chunkTreeUuid is null)
        {
            throw new WriterFaultException("the chunk tree UUID is unknown");
        }

        return _chunkTreeUuid;
    }

    internal void SetChunkTreeUuid(byte[] uuid) => _chunkTreeUuid = uuid;

    private byte[] BuildSuperblock(WriteTransaction tx)
    {
        byte[] super = (byte[])_superblock.Clone();
        var old = new SuperblockView(_superblock);
        var w = new SuperblockWriter(super);
        TreeRoot root = Roots[ObjectIds.RootTree];
        TreeRoot chunk = Roots[ObjectIds.ChunkTree];
        if (root.Generation != tx.Generation)
        {
            throw new WriterFaultException($"commit {tx.Generation}: the root tree root {root.Bytenr} has generation {root.Generation}");
        }

        w.Generation = tx.Generation;
        w.Root = root.Bytenr;
        w.RootLevel = (byte)root.Level;
        w.ChunkRoot = chunk.Bytenr;
        w.ChunkRootLevel = (byte)chunk.Level;
        w.ChunkRootGeneration = chunk.Generation;
        w.LogRoot = 0;
        w.LogRootLevel = 0;
        w.Flags = old.Flags | SuperblockFlags.Written;
        ulong used = 0;
        foreach (Allocation.BlockGroup g in Allocator.Groups)
        {
            used += g.Used.Total;
        }

        w.BytesUsed = used;
        if (old.UuidTreeGeneration == old.Generation)
        {
            w.UuidTreeGeneration = tx.Generation;
        }

        if (tx.TryGet(ObjectIds.ChunkTree, new BtrfsKey(ObjectIds.DevItems, ItemType.DevItem, DevId), out byte[] devItem))
        {
            devItem.CopyTo(super.AsSpan(SuperblockLayout.DevItem, DevItemLayout.Size));

            // One device: the volume's size is that device's (it changes when the device grows).
            w.TotalBytes = new DevItemView(devItem).TotalBytes;
        }

        if (chunk.Generation == tx.Generation)
        {
            WriteSysChunkArray(tx, super);
        }

        FillBackupRoot(tx, super);
        return super;
    }

    private void WriteSysChunkArray(WriteTransaction tx, byte[] super)
    {
        Span<byte> array = super.AsSpan(SuperblockLayout.SysChunkArray, SuperblockLayout.SysChunkArrayCapacity);
        array.Clear();
        int used = 0;
        var from = new BtrfsKey(ObjectIds.FirstChunkTree, ItemType.ChunkItem, 0);
        var to = new BtrfsKey(ObjectIds.FirstChunkTree, ItemType.ChunkItem, ulong.MaxValue);
        foreach ((BtrfsKey key, byte[] item) in tx.Scan(ObjectIds.ChunkTree, from, to))
        {
            if ((new ChunkItemView(item).Type & BlockGroupFlags.System) == 0)
            {
                continue;
            }

            if (used + DiskKeyLayout.Size + item.Length > array.Length)
            {
                throw new WriterFaultException($"the system chunk array cannot hold chunk {key.Offset}");
            }

            DiskKeyLayout.Write(array[used..], key);
            item.CopyTo(array[(used + DiskKeyLayout.Size)..]);
            used += DiskKeyLayout.Size + item.Length;
        }

        BinaryPrimitives.WriteUInt32LittleEndian(super.AsSpan(SuperblockLayout.SysChunkArraySize), (uint)used);
    }

    // The backup slot after the newest one (or the newest itself if it already holds this generation).
    private void FillBackupRoot(WriteTransaction tx, byte[] super)
    {
        var view = new SuperblockView(super);
        int newest = -1;
        ulong newestGen = 0;
        for (int i = 0; i < SuperblockLayout.BackupRootCount; i++)
        {
            ulong g = view.Backup(i).TreeRootGen;
            if (newest < 0 || g > newestGen)
            {
                newest = i;
                newestGen = g;
            }
        }

        int slot = newestGen == tx.Generation ? newest : (newest + 1) % SuperblockLayout.BackupRootCount;
        super.AsSpan(SuperblockLayout.SuperRoots + (slot * RootBackupLayout.Size), RootBackupLayout.Size).Clear();
        RootBackupWriter b = new SuperblockWriter(super).Backup(slot);
        TreeRoot root = Roots[ObjectIds.RootTree];
        TreeRoot chunk = Roots[ObjectIds.ChunkTree];
        b.TreeRoot = root.Bytenr;
        b.TreeRootGen = root.Generation;
        b.TreeRootLevel = (byte)root.Level;
        b.ChunkRoot = chunk.Bytenr;
        b.ChunkRootGen = chunk.Generation;
        b.ChunkRootLevel = (byte)chunk.Level;
        TreeRoot extent = tx.Root(ObjectIds.ExtentTree);
        b.ExtentRoot = extent.Bytenr;
        b.ExtentRootGen = extent.Generation;
        b.ExtentRootLevel = (byte)extent.Level;
        TreeRoot fs = tx.Root(ObjectIds.FsTree);
        b.FsRoot = fs.Bytenr;
        b.FsRootGen = fs.Generation;
        b.FsRootLevel = (byte)fs.Level;
        TreeRoot dev = tx.Root(ObjectIds.DevTree);
        b.DevRoot = dev.Bytenr;
        b.DevRootGen = dev.Generation;
        b.DevRootLevel = (byte)dev.Level;
        TreeRoot csum = tx.Root(ObjectIds.CsumTree);
        b.CsumRoot = csum.Bytenr;
        b.CsumRootGen = csum.Generation;
        b.CsumRootLevel = (byte)csum.Level;
        var sb = new SuperblockView(super);
        b.TotalBytes = sb.TotalBytes;
        b.BytesUsed = sb.BytesUsed;
        b.NumDevices = sb.NumDevices;
    }

    // Primary first and flushed: it alone decides which generation the volume opens at. Mirrors
    // follow; a cut between them leaves a newer primary, which is what readers use.
    private void WriteSuperblocks(byte[] super)
    {
        byte[] copy = (byte[])super.Clone();
        for (int mirror = 0; mirror < SuperblockLayout.MirrorCount; mirror++)
        {
            ulong offset = SuperblockLayout.MirrorOffset(mirror);
            if (offset + SuperblockLayout.Size > (ulong)_device.Length)
            {
                break;
            }

            var w = new SuperblockWriter(copy);
            w.Bytenr = offset;
            BtrfsChecksum.Compute(ChecksumType, copy.AsSpan(SuperblockLayout.ChecksumStart), copy.AsSpan(0, BtrfsChecksum.Size(ChecksumType)));
            _device.WriteAt((long)offset, copy);
            if (mirror == 0)
            {
                _device.Flush();
            }
        }

        _device.Flush();
        var primary = new SuperblockWriter(super);
        primary.Bytenr = SuperblockLayout.MirrorOffset(0);
        BtrfsChecksum.Compute(ChecksumType, super.AsSpan(SuperblockLayout.ChecksumStart), super.AsSpan(0, BtrfsChecksum.Size(ChecksumType)));
    }
}
