// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Volume.Trees;

namespace Crfs.Volume.Files;

/// <summary>
/// Looks up data checksums in the csum tree: items <c>(EXTENT_CSUM, EXTENT_CSUM, logical start)</c>
/// each holding one checksum per sector from that start. Items may split a range anywhere but
/// never overlap (the tree checker enforces that within a leaf; a cross-leaf overlap would only
/// make this read the first item's values).
/// </summary>
internal static class DataChecksums
{
    /// <summary>
    /// Copies the checksums of the <paramref name="sectors"/> sectors from <paramref name="start"/>
    /// into <paramref name="csums"/>. Returns -1 when all were found, else the index of the first
    /// sector without one.
    /// </summary>
    public static int Lookup(BtrfsVolume volume, ulong start, int sectors, Span<byte> csums)
    {
        BtrfsTree? tree = volume.CsumTree;
        if (tree is null)
        {
            return 0;
        }

        ulong sector = (ulong)volume.SectorSize;
        int csumSize = volume.ChecksumSize;
        ulong end = start + ((ulong)sectors * sector);
        ulong next = start;
        TreeCursor cursor = tree.OpenCursor();
        var startKey = new BtrfsKey(ObjectIds.ExtentCsum, ItemType.ExtentCsum, start);
        bool ok = cursor.SeekLastAtOrBefore(startKey);
        if (!ok || !IsCsumKey(cursor.Key))
        {
            ok = cursor.Seek(startKey);
        }

        for (; ok && next < end; ok = cursor.MoveNext())
        {
            BtrfsKey key = cursor.Key;
            if (!IsCsumKey(key) || key.Offset >= end)
            {
                break;
            }

            ReadOnlySpan<byte> data = cursor.Data;
            ulong itemEnd = key.Offset + ((ulong)(data.Length / csumSize) * sector);
            if (itemEnd <= next)
            {
                continue;
            }

            if (key.Offset > next)
            {
                break; // a gap: `next` has no checksum
            }

            ulong to = Math.Min(itemEnd, end);
            int first = (int)((next - key.Offset) / sector);
            int count = (int)((to - next) / sector);
            data.Slice(first * csumSize, count * csumSize).CopyTo(csums[((int)((next - start) / sector) * csumSize)..]);
            next = to;
        }

        return next >= end ? -1 : (int)((next - start) / sector);
    }

    private static bool IsCsumKey(BtrfsKey key) => key.ObjectId == ObjectIds.ExtentCsum && key.Type == ItemType.ExtentCsum;
}
