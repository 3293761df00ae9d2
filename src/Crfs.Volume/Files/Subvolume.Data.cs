// SPDX-License-Identifier: MIT
using System.Buffers;
using Crfs.Format.Btrfs;
using Crfs.Format.Checksums;
using Crfs.Volume.Compression;
using Crfs.Volume.Trees;

namespace Crfs.Volume.Files;

/// <summary>File data: extent resolution, decompression and per-sector checksum verification.</summary>
public sealed partial class Subvolume
{
    // Uncompressed extents are read and verified in pieces of at most this size, so a huge extent
    // never needs a huge buffer; large enough that each piece is one efficient device read.
    private const int ReadPieceSize = 1 << 20;

    // BTRFS_MAX_EXTENT_SIZE: no extent, compressed or not, is larger; compressed ones hold at most
    // 128 KiB. A larger size in an item is corruption the tree checker cannot see (the fields are
    // merely aligned), and must not become a huge allocation.
    private const ulong MaxExtentSize = 128 << 20;

    /// <summary>
    /// Reads file bytes <c>[offset, offset + destination.Length)</c> of inode <paramref name="ino"/>,
    /// clamped to its size; <paramref name="bytesRead"/> is 0 at or past the end. Returns false when
    /// the inode does not exist. Holes and prealloc extents read as zeros. Throws
    /// <see cref="DataChecksumException"/> when a sector fails its checksum on every copy.
    /// </summary>
    public bool TryRead(ulong ino, long offset, Span<byte> destination, out int bytesRead)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(offset);
        bytesRead = 0;
        if (!TryGetInode(ino, out InodeItem inode))
        {
            return false;
        }

        ulong size = inode.Size;
        if ((ulong)offset >= size || destination.IsEmpty)
        {
            return true;
        }

        int length = (int)Math.Min((ulong)destination.Length, size - (ulong)offset);
        Span<byte> dst = destination[..length];
        ulong pos = (ulong)offset;
        ulong end = pos + (ulong)length;
        bool verify = (inode.Flags & InodeFlags.NoDataSum) == 0;

        TreeCursor cursor = Tree.OpenCursor();
        bool ok = cursor.SeekLastAtOrBefore(new BtrfsKey(ino, ItemType.ExtentData, pos));
        if (!ok || cursor.Key.ObjectId != ino || cursor.Key.Type != ItemType.ExtentData)
        {
            ok = cursor.Seek(new BtrfsKey(ino, ItemType.ExtentData, 0));
        }

        for (; ok && pos < end; ok = cursor.MoveNext())
        {
            BtrfsKey key = cursor.Key;
            if (key.ObjectId != ino || key.Type != ItemType.ExtentData || key.Offset >= end)
            {
                break;
            }

            FileExtent extent = FileExtent.FromItem(key.Offset, cursor.Data);
            if (extent.End <= pos)
            {
                continue;
            }

            if (extent.FileOffset > pos)
            {
                dst[(int)(pos - (ulong)offset)..(int)(extent.FileOffset - (ulong)offset)].Clear();
                pos = extent.FileOffset;
            }

            ulong copyEnd = Math.Min(end, extent.End);
            ReadExtent(ino, extent, pos, dst[(int)(pos - (ulong)offset)..(int)(copyEnd - (ulong)offset)], verify);
            pos = copyEnd;
        }

        if (pos < end)
        {
            dst[(int)(pos - (ulong)offset)..].Clear();
        }

        bytesRead = length;
        return true;
    }

    /// <summary>
    /// Reads file bytes <c>[offset, offset + destination.Length)</c> of a loaded inode from its
    /// extent list; the caller clamps to the file size. Gaps between extents read as zeros.
    /// </summary>
    public void ReadRange(InodeSnapshot inode, long offset, Span<byte> destination)
    {
        ulong pos = (ulong)offset;
        ulong end = pos + (ulong)destination.Length;
        bool verify = (inode.Item.Flags & InodeFlags.NoDataSum) == 0;
        List<FileExtent> extents = inode.Extents;
        int i = FirstExtentEndingAfter(extents, pos);
        for (; i < extents.Count && pos < end; i++)
        {
            FileExtent extent = extents[i];
            if (extent.FileOffset >= end)
            {
                break;
            }

            if (extent.FileOffset > pos)
            {
                destination[(int)(pos - (ulong)offset)..(int)(extent.FileOffset - (ulong)offset)].Clear();
                pos = extent.FileOffset;
            }

            ulong copyEnd = Math.Min(end, extent.End);
            if (copyEnd > pos)
            {
                ReadExtent(inode.Inode, extent, pos, destination[(int)(pos - (ulong)offset)..(int)(copyEnd - (ulong)offset)], verify);
                pos = copyEnd;
            }
        }

        if (pos < end)
        {
            destination[(int)(pos - (ulong)offset)..].Clear();
        }
    }

    private static int FirstExtentEndingAfter(List<FileExtent> extents, ulong pos)
    {
        int lo = 0;
        int hi = extents.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (extents[mid].End <= pos)
            {
                lo = mid + 1;
            }
            else
            {
                hi = mid;
            }
        }

        return lo;
    }

    /// <summary>Fills <paramref name="destination"/> with file bytes starting at <paramref name="from"/>, all inside <paramref name="extent"/>.</summary>
    private void ReadExtent(ulong ino, in FileExtent extent, ulong from, Span<byte> destination, bool verify)
    {
        ulong within = from - extent.FileOffset;
        if (extent.Type == FileExtentType.Inline)
        {
            ReadInline(ino, extent, within, destination);
        }
        else if (extent.ReadsAsZeros)
        {
            destination.Clear();
        }
        else if (extent.Compression == CompressionType.None)
        {
            ulong logical = extent.DiskBytenr + extent.Offset + within;
            ReadVerified(ino, logical, destination, verify, extent, compressed: false);
        }
        else
        {
            ReadCompressed(ino, extent, within, destination, verify);
        }
    }

    private void ReadInline(ulong ino, in FileExtent extent, ulong within, Span<byte> destination)
    {
        byte[] data = extent.InlineData!;
        if (extent.Compression == CompressionType.None)
        {
            CopyOrZero(data, within, destination);
            return;
        }

        CheckSize(ino, extent, extent.RamBytes, (ulong)Volume.NodeSize);

        byte[] plain = ArrayPool<byte>.Shared.Rent((int)extent.RamBytes);
        try
        {
            int n = Decompress(ino, extent, data, plain.AsSpan(0, (int)extent.RamBytes));
            CopyOrZero(plain.AsSpan(0, n), within, destination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(plain);
        }
    }

    private void ReadCompressed(ulong ino, in FileExtent extent, ulong within, Span<byte> destination, bool verify)
    {
        CheckSize(ino, extent, extent.DiskNumBytes, MaxExtentSize);
        CheckSize(ino, extent, extent.RamBytes, MaxExtentSize);
        int diskBytes = checked((int)extent.DiskNumBytes);
        int ramBytes = checked((int)extent.RamBytes);
        byte[] raw = ArrayPool<byte>.Shared.Rent(diskBytes);
        byte[] plain = ArrayPool<byte>.Shared.Rent(ramBytes);
        try
        {
            ReadVerified(ino, extent.DiskBytenr, raw.AsSpan(0, diskBytes), verify, extent, compressed: true);
            int n = Decompress(ino, extent, raw.AsSpan(0, diskBytes), plain.AsSpan(0, ramBytes));
            CopyOrZero(plain.AsSpan(0, n), extent.Offset + within, destination);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(raw);
            ArrayPool<byte>.Shared.Return(plain);
        }
    }

    private void CheckSize(ulong ino, in FileExtent extent, ulong size, ulong limit)
    {
        if (size > limit)
        {
            throw new InvalidDataException(
                $"corrupt {extent.Compression} extent: subvolume {Id} inode {ino} file offset {extent.FileOffset}: size {size} exceeds {limit} (ram_bytes {extent.RamBytes}, disk_num_bytes {extent.DiskNumBytes})");
        }
    }

    private int Decompress(ulong ino, in FileExtent extent, ReadOnlySpan<byte> source, Span<byte> destination)
    {
        try
        {
            return Decompressor.Decompress(extent.Compression, source, destination, Volume.SectorSize);
        }
        catch (InvalidDataException e)
        {
            throw new InvalidDataException(
                $"corrupt {extent.Compression} extent: subvolume {Id} inode {ino} file offset {extent.FileOffset} (logical {extent.DiskBytenr}): {e.Message}", e);
        }
    }

    // Copies source[start..] into destination; bytes beyond the source (a short decompression,
    // an inline extent shorter than i_size) read as zeros, as the kernel shows them.
    private static void CopyOrZero(ReadOnlySpan<byte> source, ulong start, Span<byte> destination)
    {
        int available = start >= (ulong)source.Length ? 0 : Math.Min(source.Length - (int)start, destination.Length);
        if (available > 0)
        {
            source.Slice((int)start, available).CopyTo(destination);
        }

        destination[available..].Clear();
    }

    /// <summary>
    /// Reads <paramref name="destination"/> from <paramref name="logical"/>, verifying whole sectors
    /// against the checksum tree. Reads the first copy; sectors that fail are re-read from the other
    /// copies, and each bad copy that another one replaced is reported.
    /// </summary>
    private void ReadVerified(ulong ino, ulong logical, Span<byte> destination, bool verify, in FileExtent extent, bool compressed)
    {
        ulong sector = (ulong)Volume.SectorSize;
        ulong end = logical + (ulong)destination.Length;
        ulong alignedStart = logical / sector * sector;
        ulong alignedEnd = (end + sector - 1) / sector * sector;
        byte[] buffer = ArrayPool<byte>.Shared.Rent((int)Math.Min(alignedEnd - alignedStart, ReadPieceSize));
        byte[]? csums = null;
        try
        {
            for (ulong piece = alignedStart; piece < alignedEnd;)
            {
                int pieceLength = (int)Math.Min(alignedEnd - piece, (ulong)ReadPieceSize);
                Span<byte> data = buffer.AsSpan(0, pieceLength);
                int mirror = ReadAnyCopy(piece, data);
                if (verify)
                {
                    int sectors = pieceLength / (int)sector;
                    int csumBytes = sectors * Volume.ChecksumSize;
                    if (csums is null || csums.Length < csumBytes)
                    {
                        if (csums is not null)
                        {
                            ArrayPool<byte>.Shared.Return(csums);
                        }

                        csums = ArrayPool<byte>.Shared.Rent(csumBytes);
                    }

                    VerifyPiece(ino, piece, data, mirror, csums.AsSpan(0, csumBytes), extent, compressed);
                }

                ulong copyFrom = Math.Max(piece, logical);
                ulong copyTo = Math.Min(piece + (ulong)pieceLength, end);
                data[(int)(copyFrom - piece)..(int)(copyTo - piece)].CopyTo(destination[(int)(copyFrom - logical)..]);
                piece += (ulong)pieceLength;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(buffer);
            if (csums is not null)
            {
                ArrayPool<byte>.Shared.Return(csums);
            }
        }
    }

    // Reads a range from the first copy that can be read at all (a RAID1 volume may be missing a
    // device); returns the mirror used. Checksums are verified by the caller.
    private int ReadAnyCopy(ulong logical, Span<byte> data)
    {
        int copies = Math.Max(Volume.Reader.CopyCount(logical), 1);
        List<string>? errors = null;
        for (int mirror = 1; mirror <= copies; mirror++)
        {
            try
            {
                Volume.Reader.Read(logical, data, mirror);
                return mirror;
            }
            catch (IOException e) when (mirror < copies || errors is not null)
            {
                (errors ??= []).Add($"mirror {mirror}: {e.Message}");
                if (mirror == copies)
                {
                    throw new IOException($"cannot read data at logical {logical} from any copy: {string.Join("; ", errors)}", e);
                }
            }
        }

        throw new IOException($"no copy of data at logical {logical}");
    }

    private void VerifyPiece(ulong ino, ulong start, Span<byte> data, int mirror, Span<byte> csums, in FileExtent extent, bool compressed)
    {
        int sector = Volume.SectorSize;
        int csumSize = Volume.ChecksumSize;
        int sectors = data.Length / sector;
        int missing = DataChecksums.Lookup(Volume, start, sectors, csums);
        if (missing >= 0)
        {
            ulong at = start + ((ulong)missing * (ulong)sector);
            throw new DataChecksumException(Id, ino, FileOffsetOf(extent, at, compressed), at, null, []);
        }

        Span<byte> actual = stackalloc byte[BtrfsChecksum.MaxSize];
        for (int s = 0; s < sectors; s++)
        {
            Span<byte> bytes = data.Slice(s * sector, sector);
            ReadOnlySpan<byte> expected = csums.Slice(s * csumSize, csumSize);
            BtrfsChecksum.Compute(Volume.ChecksumType, bytes, actual);
            if (!actual[..csumSize].SequenceEqual(expected))
            {
                ulong at = start + ((ulong)s * (ulong)sector);
                RepairFromOtherCopies(ino, at, bytes, mirror, expected, Convert.ToHexStringLower(actual[..csumSize]), extent, compressed);
            }
        }
    }

    // The copy `firstMirror` of one sector failed its checksum: try the others, use the first good
    // one, report the bad copies; throw when none is good.
    private void RepairFromOtherCopies(ulong ino, ulong logical, Span<byte> sectorBytes, int firstMirror, ReadOnlySpan<byte> expected, string firstActual, in FileExtent extent, bool compressed)
    {
        int copies = Math.Max(Volume.Reader.CopyCount(logical), firstMirror);
        var actuals = new string[copies];
        actuals[firstMirror - 1] = firstActual;
        Span<byte> candidate = stackalloc byte[sectorBytes.Length];
        Span<byte> sum = stackalloc byte[BtrfsChecksum.MaxSize];
        int csumSize = expected.Length;
        for (int mirror = 1; mirror <= copies; mirror++)
        {
            if (mirror == firstMirror)
            {
                continue;
            }

            try
            {
                Volume.Reader.Read(logical, candidate, mirror);
            }
            catch (IOException e)
            {
                actuals[mirror - 1] = $"unreadable ({e.Message})";
                continue;
            }

            BtrfsChecksum.Compute(Volume.ChecksumType, candidate, sum);
            if (sum[..csumSize].SequenceEqual(expected))
            {
                candidate.CopyTo(sectorBytes);
                for (int bad = 0; bad < copies; bad++)
                {
                    if (actuals[bad] is string fault && !fault.StartsWith("unreadable", StringComparison.Ordinal))
                    {
                        Volume.ReportBadCopy(new BadCopyEventArgs(
                            "data", logical, bad + 1, $"checksum mismatch: expected 0x{Convert.ToHexStringLower(expected)}, actual 0x{fault}"));
                    }
                }

                return;
            }

            actuals[mirror - 1] = Convert.ToHexStringLower(sum[..csumSize]);
        }

        throw new DataChecksumException(Id, ino, FileOffsetOf(extent, logical, compressed), logical, Convert.ToHexStringLower(expected),
            [.. actuals.Select(a => a ?? "unread")]);
    }

    // The file offset a bad sector belongs to; for compressed extents the sector has no single
    // file offset, so it is the extent's.
    private static ulong FileOffsetOf(in FileExtent extent, ulong logical, bool compressed) =>
        compressed ? extent.FileOffset : extent.FileOffset + (logical - extent.DiskBytenr - extent.Offset);
}
