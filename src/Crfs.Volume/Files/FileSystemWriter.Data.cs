// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Volume.Compression;
using Crfs.Volume.Transactions;

namespace Crfs.Volume.Files;

/// <summary>File data: write, read, truncate, fallocate, and the extent bookkeeping under them.</summary>
public sealed partial class FileSystemWriter
{
    /// <summary>The largest file size (the kernel's <c>MAX_LFS_FILESIZE</c> on 64-bit).</summary>
    public const ulong MaxFileSize = long.MaxValue;

    public WriteStatus Write(WriteTransaction tx, ulong ino, ulong offset, ReadOnlySpan<byte> data)
    {
        if (!TryGetInode(tx, ino, out InodeItem inode))
        {
            return WriteStatus.NoEntry;
        }

        if (!InodeMode.IsRegular(inode.Mode))
        {
            return InodeMode.IsDirectory(inode.Mode) ? WriteStatus.IsDirectory : WriteStatus.InvalidArgument;
        }

        ulong end = offset + (ulong)data.Length;
        if (end > MaxFileSize || end < offset)
        {
            return WriteStatus.FileTooLarge;
        }

        if (data.Length == 0)
        {
            return WriteStatus.Ok;
        }

        ulong newSize = Math.Max(inode.Size, end);
        ExtentShape shape = Shape(tx, ino);
        BtrfsTimespec now = Clock();
        if (newSize <= (ulong)MaxInlineFor(tx) && shape != ExtentShape.Regular)
        {
            if (!tx.TryReserveMetadata(4))
            {
                return WriteStatus.NoSpace;
            }

            byte[] content = new byte[newSize];
            ReadInto(tx, ino, inode.Size, 0, content);
            data.CopyTo(content.AsSpan((int)offset));
            long delta = DropExtents(tx, ino, 0, ulong.MaxValue);
            tx.Insert(TreeId, new BtrfsKey(ino, ItemType.ExtentData, 0), FsItemPayloads.InlineExtent(tx.Generation, content));
            PutInode(tx, ino, inode with { Size = newSize, Nbytes = (ulong)((long)inode.Nbytes + delta) + newSize, Mtime = now, Ctime = now });
            return WriteStatus.Ok;
        }

        ulong sector = (ulong)tx.SectorSize;
        ulong start = shape == ExtentShape.Inline ? 0 : offset / sector * sector;
        ulong stop = (end + sector - 1) / sector * sector;
        byte[] buffer = new byte[stop - start];
        if (start < offset)
        {
            ReadInto(tx, ino, inode.Size, start, buffer.AsSpan(0, (int)(offset - start)));
        }

        if (end < stop)
        {
            ReadInto(tx, ino, inode.Size, end, buffer.AsSpan((int)(end - start)));
        }

        data.CopyTo(buffer.AsSpan((int)(offset - start)));
        WriteStatus s = WriteSectors(tx, ino, inode, start, buffer, out inode);
        if (s != WriteStatus.Ok)
        {
            return s;
        }

        PutInode(tx, ino, inode with { Size = newSize, Mtime = now, Ctime = now });
        return WriteStatus.Ok;
    }

    /// <summary>Reads file bytes (zeros in holes and past end of file); returns how many were inside the file.</summary>
    public int Read(WriteTransaction tx, ulong ino, ulong offset, Span<byte> destination)
    {
        if (!TryGetInode(tx, ino, out InodeItem inode) || offset >= inode.Size)
        {
            destination.Clear();
            return 0;
        }

        ReadInto(tx, ino, inode.Size, offset, destination);
        return (int)Math.Min((ulong)destination.Length, inode.Size - offset);
    }

    public WriteStatus Truncate(WriteTransaction tx, ulong ino, ulong size)
    {
        if (!TryGetInode(tx, ino, out InodeItem inode))
        {
            return WriteStatus.NoEntry;
        }

        if (!InodeMode.IsRegular(inode.Mode))
        {
            return InodeMode.IsDirectory(inode.Mode) ? WriteStatus.IsDirectory : WriteStatus.InvalidArgument;
        }

        if (size > MaxFileSize)
        {
            return WriteStatus.FileTooLarge;
        }

        if (!tx.TryReserveMetadata(8, isRemoval: size < inode.Size))
        {
            return WriteStatus.NoSpace;
        }

        BtrfsTimespec now = Clock();
        ulong sector = (ulong)tx.SectorSize;
        ExtentShape shape = Shape(tx, ino);
        if (shape == ExtentShape.Inline)
        {
            // Keep it inline when it shrinks; make it a regular sector when it grows past the inline data.
            byte[] content = new byte[Math.Min(size, inode.Size)];
            ReadInto(tx, ino, inode.Size, 0, content);
            long delta = DropExtents(tx, ino, 0, ulong.MaxValue);
            inode = inode with { Nbytes = (ulong)((long)inode.Nbytes + delta) };
            if (size <= inode.Size && content.Length > 0)
            {
                tx.Insert(TreeId, new BtrfsKey(ino, ItemType.ExtentData, 0), FsItemPayloads.InlineExtent(tx.Generation, content));
                inode = inode with { Nbytes = inode.Nbytes + (ulong)content.Length };
            }
            else if (content.Length > 0)
            {
                byte[] block = new byte[sector];
                content.CopyTo(block, 0);
                WriteStatus s = WriteSectors(tx, ino, inode, 0, block, out inode);
                if (s != WriteStatus.Ok)
                {
                    return s;
                }
            }
        }
        else if (size < inode.Size)
        {
            ulong keep = (size + sector - 1) / sector * sector;
            if (size % sector != 0)
            {
                // Zero the tail of the new last sector so a later extension reads zeros there.
                ulong first = size / sector * sector;
                byte[] block = new byte[sector];
                ReadInto(tx, ino, inode.Size, first, block.AsSpan(0, (int)(size - first)));
                if (HasDataIn(tx, ino, first, keep))
                {
                    WriteStatus s = WriteSectors(tx, ino, inode, first, block, out inode);
                    if (s != WriteStatus.Ok)
                    {
                        return s;
                    }
                }
            }

            long delta = DropExtents(tx, ino, keep, ulong.MaxValue);
            inode = inode with { Nbytes = (ulong)((long)inode.Nbytes + delta) };
        }

        PutInode(tx, ino, inode with { Size = size, Mtime = now, Ctime = now });
        return WriteStatus.Ok;
    }

    /// <summary>fallocate(2) mode 0 or KEEP_SIZE: preallocated extents over the holes of the range.</summary>
    public WriteStatus Fallocate(WriteTransaction tx, ulong ino, ulong offset, ulong length, bool keepSize)
    {
        if (!TryGetInode(tx, ino, out InodeItem inode))
        {
            return WriteStatus.NoEntry;
        }

        if (!InodeMode.IsRegular(inode.Mode))
        {
            return InodeMode.IsDirectory(inode.Mode) ? WriteStatus.IsDirectory : WriteStatus.InvalidArgument;
        }

        ulong end = offset + length;
        if (length == 0 || end > MaxFileSize || end < offset)
        {
            return length == 0 ? WriteStatus.InvalidArgument : WriteStatus.FileTooLarge;
        }

        ulong sector = (ulong)tx.SectorSize;
        BtrfsTimespec originalMtime = inode.Mtime;
        if (Shape(tx, ino) == ExtentShape.Inline)
        {
            // Prealloc extents cannot follow inline data: make the data a regular sector first.
            WriteStatus t = Truncate(tx, ino, Math.Max(inode.Size, (ulong)MaxInlineFor(tx) + 1));
            if (t != WriteStatus.Ok)
            {
                return t;
            }

            WriteStatus back = Truncate(tx, ino, inode.Size);
            if (back != WriteStatus.Ok)
            {
                return back;
            }

            TryGetInode(tx, ino, out inode);
        }

        ulong start = offset / sector * sector;
        ulong stop = (end + sector - 1) / sector * sector;
        var holes = new List<(ulong Start, ulong End)>();
        ulong cursor = start;
        foreach ((BtrfsKey key, byte[] item) in ExtentsOverlapping(tx, ino, start, stop))
        {
            var v = new FileExtentItemView(item);
            ulong s = key.Offset;
            ulong e = s + v.NumBytes;
            if (s > cursor)
            {
                holes.Add((cursor, Math.Min(s, stop)));
            }

            cursor = Math.Max(cursor, e);
        }

        if (cursor < stop)
        {
            holes.Add((cursor, stop));
        }

        if (!tx.TryReserveMetadata(4 + (3 * holes.Count)))
        {
            return WriteStatus.NoSpace;
        }

        var pieces = new List<(ulong FileOffset, ulong Disk, ulong Length)>();
        foreach ((ulong hs, ulong he) in holes)
        {
            for (ulong pos = hs; pos < he;)
            {
                if (tx.AllocateData(he - pos) is not (ulong disk, ulong len))
                {
                    foreach (var p in pieces)
                    {
                        tx.ReleaseData(p.Disk, p.Length);
                    }

                    return WriteStatus.NoSpace;
                }

                pieces.Add((pos, disk, len));
                pos += len;
            }
        }

        ulong added = 0;
        foreach ((ulong pos, ulong disk, ulong len) in pieces)
        {
            tx.Insert(TreeId, new BtrfsKey(ino, ItemType.ExtentData, pos), FsItemPayloads.RegularExtent(tx.Generation, FileExtentType.Prealloc, disk, len, 0, len, len));
            tx.AddDataRef(disk, len, TreeId, ino, pos);
            added += len;
        }

        BtrfsTimespec now = Clock();
        ulong size = keepSize ? inode.Size : Math.Max(inode.Size, end);
        PutInode(tx, ino, inode with { Size = size, Nbytes = inode.Nbytes + added, Ctime = now, Mtime = size != inode.Size ? now : originalMtime });
        return WriteStatus.Ok;
    }

    // ---- extent bookkeeping ----

    private enum ExtentShape
    {
        None,
        Inline,
        Regular,
    }

    private ExtentShape Shape(WriteTransaction tx, ulong ino)
    {
        if (tx.TryFindFirst(TreeId, new BtrfsKey(ino, ItemType.ExtentData, 0), out BtrfsKey key, out byte[] item)
            && key.ObjectId == ino && key.Type == ItemType.ExtentData)
        {
            return new FileExtentItemView(item).Type == FileExtentType.Inline ? ExtentShape.Inline : ExtentShape.Regular;
        }

        return ExtentShape.None;
    }

    // Allocates new extents for whole sectors at `start` (all before any change: ENOSPC leaves
    // the file untouched), replaces what they cover, writes data and checksums.
    private WriteStatus WriteSectors(WriteTransaction tx, ulong ino, InodeItem inode, ulong start, ReadOnlySpan<byte> buffer, out InodeItem updated)
    {
        updated = inode;
        ulong total = (ulong)buffer.Length;
        if (!tx.TryReserveMetadata(8 + (int)(total / (1UL << 20))))
        {
            return WriteStatus.NoSpace;
        }

        var pieces = new List<(ulong Disk, ulong Length)>();
        for (ulong done = 0; done < total;)
        {
            if (tx.AllocateData(total - done) is not (ulong disk, ulong len))
            {
                foreach (var p in pieces)
                {
                    tx.ReleaseData(p.Disk, p.Length);
                }

                return WriteStatus.NoSpace;
            }

            pieces.Add((disk, len));
            done += len;
        }

        long delta = DropExtents(tx, ino, start, start + total);
        bool checksums = (inode.Flags & InodeFlags.NoDataSum) == 0;
        ulong at = 0;
        foreach ((ulong disk, ulong len) in pieces)
        {
            ReadOnlySpan<byte> chunk = buffer.Slice((int)at, (int)len);
            tx.WriteData(disk, chunk);
            if (checksums)
            {
                tx.InsertChecksums(disk, chunk);
            }

            tx.Insert(TreeId, new BtrfsKey(ino, ItemType.ExtentData, start + at), FsItemPayloads.RegularExtent(tx.Generation, FileExtentType.Regular, disk, len, 0, len, len));
            tx.AddDataRef(disk, len, TreeId, ino, start + at);
            at += len;
        }

        updated = inode with { Nbytes = (ulong)((long)inode.Nbytes + delta + (long)total) };
        return WriteStatus.Ok;
    }

    private List<(BtrfsKey Key, byte[] Item)> ExtentsOverlapping(WriteTransaction tx, ulong ino, ulong from, ulong to)
    {
        var result = new List<(BtrfsKey, byte[])>();
        if (tx.TryFindLast(TreeId, new BtrfsKey(ino, ItemType.ExtentData, from), out BtrfsKey k, out byte[] d)
            && k.ObjectId == ino && k.Type == ItemType.ExtentData && k.Offset < from && ExtentEnd(tx, k, d) > from)
        {
            result.Add((k, d));
        }

        if (to > from)
        {
            result.AddRange(tx.Scan(TreeId, new BtrfsKey(ino, ItemType.ExtentData, from), new BtrfsKey(ino, ItemType.ExtentData, to - 1)));
        }

        return result;
    }

    // Inline extents count as covering their whole first sector.
    private static ulong ExtentEnd(WriteTransaction tx, BtrfsKey key, byte[] item)
    {
        var v = new FileExtentItemView(item);
        return v.Type == FileExtentType.Inline ? key.Offset + (ulong)tx.SectorSize : key.Offset + v.NumBytes;
    }

    private bool HasDataIn(WriteTransaction tx, ulong ino, ulong from, ulong to)
    {
        foreach ((BtrfsKey _, byte[] item) in ExtentsOverlapping(tx, ino, from, to))
        {
            var v = new FileExtentItemView(item);
            if (v.Type == FileExtentType.Inline || (v.Type == FileExtentType.Regular && v.DiskBytenr != 0))
            {
                return true;
            }
        }

        return false;
    }

    /// <summary>
    /// Removes file extent items over <c>[from, to)</c> (sector-aligned), keeping the parts outside
    /// as bookends that still reference their extents. Returns the change in <c>nbytes</c>.
    /// </summary>
    private long DropExtents(WriteTransaction tx, ulong ino, ulong from, ulong to)
    {
        long delta = 0;
        foreach ((BtrfsKey key, byte[] item) in ExtentsOverlapping(tx, ino, from, to))
        {
            var v = new FileExtentItemView(item);
            tx.Delete(TreeId, key);
            if (v.Type == FileExtentType.Inline)
            {
                delta -= (long)v.RamBytes;
                continue;
            }

            ulong s = key.Offset;
            ulong e = s + v.NumBytes;
            ulong disk = v.DiskBytenr;
            ulong refOffset = s - v.Offset;
            if (disk != 0)
            {
                tx.DropDataRef(disk, v.DiskNumBytes, TreeId, ino, refOffset);
                delta -= (long)v.NumBytes;
            }

            if (s < from)
            {
                tx.Insert(TreeId, key, FsItemPayloads.RegularExtent(v.Generation, v.Type, disk, v.DiskNumBytes, v.Offset, from - s, v.RamBytes, v.Compression));
                if (disk != 0)
                {
                    tx.AddDataRef(disk, v.DiskNumBytes, TreeId, ino, refOffset);
                    delta += (long)(from - s);
                }
            }

            if (e > to)
            {
                tx.Insert(TreeId, new BtrfsKey(ino, ItemType.ExtentData, to), FsItemPayloads.RegularExtent(v.Generation, v.Type, disk, v.DiskNumBytes, v.Offset + (to - s), e - to, v.RamBytes, v.Compression));
                if (disk != 0)
                {
                    tx.AddDataRef(disk, v.DiskNumBytes, TreeId, ino, refOffset);
                    delta += (long)(e - to);
                }
            }
        }

        return delta;
    }

    // Fills `destination` with the file's bytes from `offset`: zeros in holes, prealloc and past `size`.
    private void ReadInto(WriteTransaction tx, ulong ino, ulong size, ulong offset, Span<byte> destination)
    {
        destination.Clear();
        ulong end = Math.Min(offset + (ulong)destination.Length, size);
        if (offset >= end)
        {
            return;
        }

        foreach ((BtrfsKey key, byte[] item) in ExtentsOverlapping(tx, ino, offset, end))
        {
            var v = new FileExtentItemView(item);
            ulong s = key.Offset;
            if (v.Type == FileExtentType.Inline)
            {
                byte[] content = v.Compression == CompressionType.None
                    ? v.InlineData.ToArray()
                    : Decompress(v.Compression, v.InlineData, (int)v.RamBytes, tx.SectorSize);
                CopyOverlap(content, s, offset, end, destination);
                continue;
            }

            if (v.Type != FileExtentType.Regular || v.DiskBytenr == 0)
            {
                continue;
            }

            ulong a = Math.Max(s, offset);
            ulong b = Math.Min(s + v.NumBytes, end);
            if (a >= b)
            {
                continue;
            }

            if (v.Compression == CompressionType.None)
            {
                tx.ReadData(v.DiskBytenr + v.Offset + (a - s), destination.Slice((int)(a - offset), (int)(b - a)));
            }
            else
            {
                byte[] disk = new byte[v.DiskNumBytes];
                tx.ReadData(v.DiskBytenr, disk);
                byte[] plain = Decompress(v.Compression, disk, (int)v.RamBytes, tx.SectorSize);
                plain.AsSpan((int)(v.Offset + (a - s)), (int)(b - a)).CopyTo(destination[(int)(a - offset)..]);
            }
        }
    }

    private static void CopyOverlap(byte[] content, ulong contentStart, ulong offset, ulong end, Span<byte> destination)
    {
        ulong a = Math.Max(contentStart, offset);
        ulong b = Math.Min(contentStart + (ulong)content.Length, end);
        if (a < b)
        {
            content.AsSpan((int)(a - contentStart), (int)(b - a)).CopyTo(destination[(int)(a - offset)..]);
        }
    }

    private static byte[] Decompress(CompressionType type, ReadOnlySpan<byte> source, int ramBytes, int sectorSize)
    {
        byte[] plain = new byte[ramBytes];
        Decompressor.Decompress(type, source, plain, sectorSize);
        return plain;
    }
}
