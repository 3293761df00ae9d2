// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;

namespace Crfs.Volume.Chunks;

/// <summary>Where one copy of a logical range lives: a device and a byte offset on it.</summary>
public readonly record struct PhysicalLocation(ulong DevId, ulong Offset);

/// <summary>
/// One chunk: the logical range <c>[Start, Start + Length)</c> and the stripes that store it. The
/// profile decides how logical offsets spread over stripes (<see cref="Map"/>).
/// </summary>
public sealed class Chunk
{
    public Chunk(ulong start, ulong length, BlockGroupFlags type, ulong stripeLength, int subStripes, PhysicalLocation[] stripes)
    {
        Start = start;
        Length = length;
        Type = type;
        StripeLength = stripeLength;
        SubStripes = Math.Max(subStripes, 1);
        Stripes = stripes;
    }

    public ulong Start { get; }

    public ulong Length { get; }

    public ulong End => Start + Length;

    public BlockGroupFlags Type { get; }

    public BlockGroupFlags Profile => Type & BlockGroupFlags.ProfileMask;

    public ulong StripeLength { get; }

    public int SubStripes { get; }

    public IReadOnlyList<PhysicalLocation> Stripes { get; }

    /// <summary>How many copies of each byte exist (1 for SINGLE and RAID0).</summary>
    public int CopyCount => Profile switch
    {
        BlockGroupFlags.None or BlockGroupFlags.Raid0 => 1,
        BlockGroupFlags.Raid10 => SubStripes,
        _ => Stripes.Count, // DUP, RAID1, RAID1C3, RAID1C4: every stripe is a full copy
    };

    /// <summary>
    /// Maps <paramref name="logical"/> (inside this chunk) to the locations of each copy, written to
    /// <paramref name="copies"/> (at least <see cref="CopyCount"/> long). Returns how many bytes
    /// from <paramref name="logical"/> stay contiguous in every copy: to the chunk end for mirrored
    /// profiles, to the end of the 64 KiB stripe for RAID0/RAID10. Throws
    /// <see cref="UnsupportedVolumeException"/> for RAID5/RAID6.
    /// </summary>
    public ulong Map(ulong logical, Span<PhysicalLocation> copies)
    {
        ulong offset = logical - Start;
        switch (Profile)
        {
            case BlockGroupFlags.Raid0:
                return MapStriped(logical, offset, 1, copies);
            case BlockGroupFlags.Raid10:
                return MapStriped(logical, offset, SubStripes, copies);
            case BlockGroupFlags.Raid5:
            case BlockGroupFlags.Raid6:
                throw new UnsupportedVolumeException($"chunk {Start} uses {BlockGroupNames.Profile(Type)}, which this reader does not support");
            default:
                for (int i = 0; i < Stripes.Count; i++)
                {
                    copies[i] = new PhysicalLocation(Stripes[i].DevId, Stripes[i].Offset + offset);
                }

                return End - logical;
        }
    }

    // RAID0 and RAID10: the chunk is cut into 64 KiB stripes dealt round-robin to groups of
    // `group` devices (1 for RAID0, the mirror pairs of RAID10); each group holds copies.
    private ulong MapStriped(ulong logical, ulong offset, int group, Span<PhysicalLocation> copies)
    {
        ulong factor = (ulong)(Stripes.Count / group);
        ulong stripeNr = offset / StripeLength;
        ulong inStripe = offset % StripeLength;
        int first = (int)(stripeNr % factor) * group;
        ulong physicalOffset = (stripeNr / factor * StripeLength) + inStripe;
        for (int i = 0; i < group; i++)
        {
            PhysicalLocation s = Stripes[first + i];
            copies[i] = new PhysicalLocation(s.DevId, s.Offset + physicalOffset);
        }

        return Math.Min(StripeLength - inStripe, End - logical);
    }

    /// <summary>Builds a chunk from a validated CHUNK_ITEM (chunk tree or system chunk array).</summary>
    public static Chunk FromItem(ulong start, ChunkItemView item)
    {
        var stripes = new PhysicalLocation[item.NumStripes];
        for (int i = 0; i < stripes.Length; i++)
        {
            StripeView s = item.Stripe(i);
            stripes[i] = new PhysicalLocation(s.DevId, s.Offset);
        }

        return new Chunk(start, item.Length, item.Type, item.StripeLength, item.SubStripes, stripes);
    }
}

/// <summary>
/// The logical→physical map of a volume: every chunk, sorted by start. Built once at open, first
/// from the superblock's system chunk array (enough to read the chunk tree) and then from the
/// chunk tree itself. Lookups are lock-free reads of an immutable array; <see cref="Add"/> swaps
/// in a new array and is meant for open time and, later, chunk allocation by the writer.
/// </summary>
public sealed class ChunkMap
{
    /// <summary>The most copies any profile keeps (RAID1C4).</summary>
    public const int MaxCopies = 4;

    private readonly Lock _writeLock = new();
    private Chunk[] _chunks = [];

    public IReadOnlyList<Chunk> Chunks => _chunks;

    /// <summary>Adds a chunk, replacing one with the same start (the chunk tree supersedes the system array).</summary>
    public void Add(Chunk chunk)
    {
        lock (_writeLock)
        {
            var list = new List<Chunk>(_chunks.Length + 1);
            foreach (Chunk c in _chunks)
            {
                if (c.Start == chunk.Start)
                {
                    continue;
                }

                if (c.Start < chunk.End && chunk.Start < c.End)
                {
                    throw new InvalidDataException($"chunk [{chunk.Start}, {chunk.End}) overlaps chunk [{c.Start}, {c.End})");
                }

                list.Add(c);
            }

            list.Add(chunk);
            list.Sort(static (a, b) => a.Start.CompareTo(b.Start));
            _chunks = [.. list];
        }
    }

    /// <summary>The chunk holding <paramref name="logical"/>, or null.</summary>
    public Chunk? Find(ulong logical)
    {
        Chunk[] chunks = _chunks;
        int lo = 0;
        int hi = chunks.Length - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            Chunk c = chunks[mid];
            if (logical < c.Start)
            {
                hi = mid - 1;
            }
            else if (logical >= c.End)
            {
                lo = mid + 1;
            }
            else
            {
                return c;
            }
        }

        return null;
    }
}
