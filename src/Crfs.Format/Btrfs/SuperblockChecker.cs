// SPDX-License-Identifier: MIT
using Crfs.Format.Checksums;

namespace Crfs.Format.Btrfs;

/// <summary>
/// Validates one superblock copy (btrfs-format.md §1.6, the kernel's <c>btrfs_validate_super</c>):
/// magic, checksum type and checksum, that the copy sits where it says, sane sizes and levels,
/// aligned root addresses, the device's fsid, and every chunk of the system chunk array. After it
/// passes, <see cref="SuperblockView"/> and <see cref="SysChunkArrayEnumerator"/> are safe to use.
/// </summary>
/// <remarks>
/// A bad copy is an expected outcome when choosing among mirrors, so faults are returned as
/// values; the caller decides whether another copy will do.
/// </remarks>
public static class SuperblockChecker
{
    /// <summary>Returns null when the copy read at <paramref name="offset"/> is sound, else what is wrong.</summary>
    public static string? Validate(ReadOnlySpan<byte> copy, ulong offset)
    {
        if (copy.Length < SuperblockLayout.Size)
        {
            return $"superblock is {copy.Length} bytes, expected {SuperblockLayout.Size}";
        }

        var sb = new SuperblockView(copy);
        if (sb.Magic != SuperblockLayout.MagicValue)
        {
            return $"bad magic 0x{sb.Magic:x16}";
        }

        ChecksumType csumType = sb.CsumType;
        if ((ushort)csumType > (ushort)ChecksumType.Blake2b)
        {
            return $"unknown checksum type {(ushort)csumType}";
        }

        int csumSize = BtrfsChecksum.Size(csumType);
        Span<byte> computed = stackalloc byte[BtrfsChecksum.MaxSize];
        BtrfsChecksum.Compute(csumType, sb.ChecksummedBytes, computed);
        if (!sb.Csum[..csumSize].SequenceEqual(computed[..csumSize]))
        {
            return $"checksum mismatch: stored 0x{Convert.ToHexStringLower(sb.Csum[..csumSize])} computed 0x{Convert.ToHexStringLower(computed[..csumSize])}";
        }

        if (sb.Bytenr != offset)
        {
            return $"bytenr {sb.Bytenr} does not match the copy's offset {offset}";
        }

        uint sector = sb.SectorSize;
        uint node = sb.NodeSize;
        if (!uint.IsPow2(sector) || sector < 4096 || sector > 65536)
        {
            return $"invalid sectorsize {sector}";
        }

        if (!uint.IsPow2(node) || node < sector || node < 4096 || node > 65536)
        {
            return $"invalid nodesize {node} for sectorsize {sector}";
        }

        if (sb.StripeSize != 0 && !uint.IsPow2(sb.StripeSize))
        {
            return $"invalid stripesize {sb.StripeSize}";
        }

        if (sb.RootLevel >= HeaderLayout.MaxLevel || sb.ChunkRootLevel >= HeaderLayout.MaxLevel || sb.LogRootLevel >= HeaderLayout.MaxLevel)
        {
            return $"invalid root levels: root {sb.RootLevel} chunk {sb.ChunkRootLevel} log {sb.LogRootLevel}";
        }

        if (sb.Root % sector != 0 || sb.ChunkRoot % sector != 0 || sb.LogRoot % sector != 0)
        {
            return $"unaligned root addresses: root {sb.Root} chunk {sb.ChunkRoot} log {sb.LogRoot}";
        }

        if (sb.TotalBytes == 0 || sb.NumDevices == 0)
        {
            return $"invalid totals: total_bytes {sb.TotalBytes} num_devices {sb.NumDevices}";
        }

        if (sb.BytesUsed < 6UL * node)
        {
            return $"bytes_used {sb.BytesUsed} is below the minimum {6UL * node}";
        }

        if (!sb.DevItem.Fsid.SequenceEqual(sb.MetadataFsid))
        {
            return $"dev_item fsid {UuidFormat.ToString(sb.DevItem.Fsid)} does not match the volume's {UuidFormat.ToString(sb.MetadataFsid)}";
        }

        return ValidateSysChunkArray(sb);
    }

    private static string? ValidateSysChunkArray(SuperblockView sb)
    {
        uint size = sb.SysChunkArraySize;
        if (size > SuperblockLayout.SysChunkArrayCapacity || size < DiskKeyLayout.Size + ChunkItemLayout.Size)
        {
            return $"invalid sys_chunk_array_size {size}";
        }

        ReadOnlySpan<byte> array = sb.SysChunkArray[..(int)size];
        int pos = 0;
        while (pos < array.Length)
        {
            if (pos + DiskKeyLayout.Size + ChunkItemLayout.Size > array.Length)
            {
                return $"sys_chunk_array entry at {pos} is truncated";
            }

            BtrfsKey key = DiskKeyLayout.Read(array[pos..]);
            if (key.Type != ItemType.ChunkItem)
            {
                return $"sys_chunk_array entry at {pos} has key {key}, expected a CHUNK_ITEM";
            }

            var chunk = new ChunkItemView(array[(pos + DiskKeyLayout.Size)..]);
            int itemSize = ChunkItemLayout.ItemSize(chunk.NumStripes);
            if (chunk.NumStripes == 0 || pos + DiskKeyLayout.Size + itemSize > array.Length)
            {
                return $"sys_chunk_array chunk {key.Offset} with {chunk.NumStripes} stripes does not fit the array";
            }

            chunk = new ChunkItemView(array.Slice(pos + DiskKeyLayout.Size, itemSize));
            string? fault = TreeBlockChecker.ValidateChunk(chunk, key.Offset, (int)sb.SectorSize, sb.IncompatFlags);
            if (fault is not null)
            {
                return $"sys_chunk_array chunk {key.Offset}: {fault}";
            }

            if ((chunk.Type & BlockGroupFlags.System) == 0)
            {
                return $"sys_chunk_array chunk {key.Offset} is not a SYSTEM chunk: {BlockGroupNames.Format(chunk.Type)}";
            }

            pos += DiskKeyLayout.Size + itemSize;
        }

        return null;
    }
}

/// <summary>One (key, chunk) pair of the system chunk array.</summary>
public readonly ref struct SysChunkEntry
{
    public SysChunkEntry(BtrfsKey key, ChunkItemView chunk)
    {
        Key = key;
        Chunk = chunk;
    }

    public BtrfsKey Key { get; }

    public ChunkItemView Chunk { get; }
}

/// <summary>
/// Iterates the superblock's system chunk array. Only valid over a superblock that passed
/// <see cref="SuperblockChecker"/>.
/// </summary>
public ref struct SysChunkArrayEnumerator
{
    private ReadOnlySpan<byte> _rest;

    public SysChunkArrayEnumerator(SuperblockView superblock)
    {
        _rest = superblock.SysChunkArrayUsed;
        Current = default;
    }

    public SysChunkEntry Current { get; private set; }

    public readonly SysChunkArrayEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_rest.Length < DiskKeyLayout.Size + ChunkItemLayout.Size)
        {
            return false;
        }

        BtrfsKey key = DiskKeyLayout.Read(_rest);
        ReadOnlySpan<byte> body = _rest[DiskKeyLayout.Size..];
        int size = ChunkItemLayout.ItemSize(new ChunkItemView(body).NumStripes);
        Current = new SysChunkEntry(key, new ChunkItemView(body[..size]));
        _rest = body[size..];
        return true;
    }
}
