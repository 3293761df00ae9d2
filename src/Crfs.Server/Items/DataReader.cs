// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Format.Checksums;
using Crfs.Volume.Files;
using Crfs.Volume.Transactions;

namespace Crfs.Server.Items;

/// <summary>The outcome of a DATA_READ: the bytes, or why there are none.</summary>
internal readonly record struct DataReadOutcome(byte[]? Data, string? Corruption)
{
    public bool NotFound => Data is null && Corruption is null;
}

/// <summary>
/// DATA_READ: file bytes through the running transaction (holes as zeros, short at end of file),
/// with the data checksums of every extent sector the read touches verified first.
/// <para>
/// The bytes themselves come from <see cref="FileSystemWriter.Read"/>, which knows every extent
/// shape (inline, regular, prealloc, compressed) but reads without checking. Before trusting it,
/// each EXTENT_DATA item overlapping the range is visited: for an uncompressed extent the disk
/// sectors under the requested bytes, for a compressed one its whole disk extent (the checksums
/// cover the compressed bytes), are read and compared with the csum tree. Sectors without a
/// checksum (NODATASUM files, prealloc extents never written) are not checked, as in the kernel.
/// Must run inside the writer's change callback.
/// </para>
/// </summary>
internal static class DataReader
{
    public static DataReadOutcome Read(WriteTransaction tx, ulong tree, ulong ino, ulong offset, int length)
    {
        var files = new FileSystemWriter(tree);
        if (!tx.TreeExists(tree) || !files.TryGetInode(tx, ino, out InodeItem inode))
        {
            return default;
        }

        ulong end = Math.Min(offset + (ulong)length, inode.Size);
        if (offset < end && tx.TreeExists(ObjectIds.CsumTree) && Verify(tx, tree, ino, offset, end) is string corruption)
        {
            return new DataReadOutcome(null, corruption);
        }

        byte[] buffer = new byte[length];
        int n = files.Read(tx, ino, offset, buffer);
        return new DataReadOutcome(buffer.AsSpan(0, n).ToArray(), null);
    }

    /// <summary>Null when every checksummed sector under <c>[offset, end)</c> matches, else which one does not.</summary>
    private static string? Verify(WriteTransaction tx, ulong tree, ulong ino, ulong offset, ulong end)
    {
        ulong sector = (ulong)tx.SectorSize;
        ChecksumType type = tx.Writer.ChecksumType;
        int size = BtrfsChecksum.Size(type);
        byte[] block = new byte[sector];
        byte[] actual = new byte[size];

        // The extent covering offset starts at or before it; later ones start before end.
        BtrfsKey first = tx.TryFindLast(tree, new BtrfsKey(ino, ItemType.ExtentData, offset), out BtrfsKey before, out _)
            && before.ObjectId == ino && before.Type == ItemType.ExtentData ? before : new BtrfsKey(ino, ItemType.ExtentData, 0);
        foreach ((BtrfsKey key, byte[] item) in tx.Scan(tree, first, new BtrfsKey(ino, ItemType.ExtentData, end - 1)))
        {
            var extent = new FileExtentItemView(item);
            if (extent.Type == FileExtentType.Inline || extent.DiskBytenr == 0 || key.Offset + extent.NumBytes <= offset)
            {
                continue;
            }

            ulong from, to;
            if (extent.Compression != CompressionType.None)
            {
                (from, to) = (extent.DiskBytenr, extent.DiskBytenr + extent.DiskNumBytes);
            }
            else
            {
                ulong lo = Math.Max(offset, key.Offset) - key.Offset + extent.Offset;
                ulong hi = Math.Min(end, key.Offset + extent.NumBytes) - key.Offset + extent.Offset;
                (from, to) = (extent.DiskBytenr + (lo / sector * sector), extent.DiskBytenr + ((hi + sector - 1) / sector * sector));
            }

            for (ulong logical = from; logical < to; logical += sector)
            {
                if (!TryFindChecksum(tx, logical, sector, size, out byte[] expected))
                {
                    continue;
                }

                tx.ReadData(logical, block);
                BtrfsChecksum.Compute(type, block, actual);
                if (!actual.AsSpan().SequenceEqual(expected))
                {
                    return $"data checksum mismatch in tree {tree} inode {ino} at logical {logical}: expected {BtrfsChecksum.ToHex(type, expected)}, found {BtrfsChecksum.ToHex(type, actual)}";
                }
            }
        }

        return null;
    }

    private static bool TryFindChecksum(WriteTransaction tx, ulong logical, ulong sector, int size, out byte[] checksum)
    {
        checksum = [];
        if (!tx.TryFindLast(ObjectIds.CsumTree, new BtrfsKey(ObjectIds.ExtentCsum, ItemType.ExtentCsum, logical), out BtrfsKey key, out byte[] item)
            || key.ObjectId != ObjectIds.ExtentCsum || key.Type != ItemType.ExtentCsum)
        {
            return false;
        }

        ulong index = (logical - key.Offset) / sector;
        if ((index + 1) * (ulong)size > (ulong)item.Length)
        {
            return false;
        }

        checksum = item.AsSpan((int)index * size, size).ToArray();
        return true;
    }
}
