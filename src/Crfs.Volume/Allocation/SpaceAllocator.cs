// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;

namespace Crfs.Volume.Allocation;

/// <summary>The kind of space an allocation needs: which block groups may serve it.</summary>
public enum SpaceKind
{
    Data,
    Metadata,
    System,
}

/// <summary>
/// Hands out logical space from the block groups, first fit from a moving hint, and keeps the
/// <see cref="BlockGroup"/> sets exact (see there for the invariant).
/// </summary>
/// <remarks>
/// Tree blocks are nodesize-aligned, so with chunk starts 64 KiB-aligned a block never crosses a
/// 64 KiB stripe boundary (<c>btrfs check</c> reports such blocks). Data extents are
/// sector-aligned and may come back shorter than asked when the space is fragmented; the caller
/// then asks again for the rest. Freed space goes back to <see cref="BlockGroup.Free"/> at once
/// when it was allocated in the running transaction, and is pinned otherwise until
/// <see cref="Unpin"/> after the commit's superblock is durable. Not thread-safe: the writer
/// lock guards it.
/// </remarks>
public sealed class SpaceAllocator
{
    private readonly List<BlockGroup> _groups = [];
    private readonly ulong _nodeSize;
    private readonly ulong _sectorSize;
    private readonly Dictionary<SpaceKind, ulong> _hints = [];

    public SpaceAllocator(int nodeSize, int sectorSize)
    {
        _nodeSize = (ulong)nodeSize;
        _sectorSize = (ulong)sectorSize;
    }

    public IReadOnlyList<BlockGroup> Groups => _groups;

    public void AddGroup(BlockGroup group)
    {
        int i = _groups.FindIndex(g => g.Start > group.Start);
        _groups.Insert(i < 0 ? _groups.Count : i, group);
    }

    public BlockGroup? Find(ulong logical)
    {
        int lo = 0;
        int hi = _groups.Count - 1;
        while (lo <= hi)
        {
            int mid = (lo + hi) >>> 1;
            BlockGroup g = _groups[mid];
            if (logical < g.Start)
            {
                hi = mid - 1;
            }
            else if (logical >= g.End)
            {
                lo = mid + 1;
            }
            else
            {
                return g;
            }
        }

        return null;
    }

    public BlockGroup Get(ulong logical) =>
        Find(logical) ?? throw new InvalidOperationException($"logical {logical} is in no block group");

    /// <summary>Bytes that may still be handed out to <paramref name="kind"/>.</summary>
    public ulong FreeBytes(SpaceKind kind)
    {
        ulong total = 0;
        foreach (BlockGroup g in _groups)
        {
            if (Matches(g, kind))
            {
                total += g.Free.Total;
            }
        }

        return total;
    }

    /// <summary>One nodesize-aligned tree block, or null when every group of the kind is full.</summary>
    public ulong? AllocateTreeBlock(SpaceKind kind)
    {
        ulong hint = _hints.GetValueOrDefault(kind);
        foreach (bool wrapped in (ReadOnlySpan<bool>)[false, true])
        {
            foreach (BlockGroup g in _groups)
            {
                if (!Matches(g, kind) || (!wrapped && g.End <= hint))
                {
                    continue;
                }

                ulong? at = g.Free.FindFit(wrapped ? g.Start : Math.Max(hint, g.Start), _nodeSize, _nodeSize);
                if (at is ulong a)
                {
                    Take(g, a, _nodeSize);
                    _hints[kind] = a + _nodeSize;
                    return a;
                }
            }
        }

        return null;
    }

    /// <summary>
    /// A data extent of at most <paramref name="maxLength"/> bytes (sector multiple): the first run
    /// that holds it all, else the longest run there is. Null when data space is exhausted.
    /// </summary>
    public (ulong Start, ulong Length)? AllocateData(ulong maxLength)
    {
        ulong hint = _hints.GetValueOrDefault(SpaceKind.Data);
        (BlockGroup Group, ulong Start, ulong Length)? best = null;
        foreach (bool wrapped in (ReadOnlySpan<bool>)[false, true])
        {
            foreach (BlockGroup g in _groups)
            {
                if (!g.IsData || (!wrapped && g.End <= hint))
                {
                    continue;
                }

                var run = g.Free.FindLongest(wrapped ? g.Start : Math.Max(hint, g.Start), maxLength, _sectorSize);
                if (run is (ulong s, ulong len))
                {
                    if (len == maxLength)
                    {
                        Take(g, s, len);
                        _hints[SpaceKind.Data] = s + len;
                        return (s, len);
                    }

                    if (best is null || len > best.Value.Length)
                    {
                        best = (g, s, len);
                    }
                }
            }
        }

        if (best is (BlockGroup bg, ulong bs, ulong bl))
        {
            Take(bg, bs, bl);
            _hints[SpaceKind.Data] = bs + bl;
            return (bs, bl);
        }

        return null;
    }

    /// <summary>Records a range the extent tree already holds (loading), or a range allocated elsewhere.</summary>
    public void MarkUsed(ulong start, ulong length)
    {
        BlockGroup g = Get(start);
        g.Used.Add(start, length);
        g.Free.RemoveOverlap(start, length);
    }

    /// <summary>Frees a range allocated in the running transaction: reusable at once.</summary>
    public void FreeUncommitted(ulong start, ulong length)
    {
        BlockGroup g = Get(start);
        g.Used.Remove(start, length);
        g.Free.Add(start, length);
        g.FreeSpaceDirty = true;
    }

    /// <summary>Frees a committed range: unusable until <see cref="Unpin"/>.</summary>
    public void FreeCommitted(ulong start, ulong length)
    {
        BlockGroup g = Get(start);
        g.Used.Remove(start, length);
        g.Pinned.Add(start, length);
        g.FreeSpaceDirty = true;
    }

    /// <summary>After a commit is durable: pinned ranges become allocatable.</summary>
    public void Unpin()
    {
        foreach (BlockGroup g in _groups)
        {
            foreach ((ulong s, ulong e) in g.Pinned.Intervals)
            {
                g.Free.Add(s, e - s);
            }

            g.Pinned.Clear();
        }
    }

    /// <summary>Removes a range from what may be handed out without recording it (superblock stripes).</summary>
    public static void Exclude(BlockGroup group, ulong start, ulong length)
    {
        ulong s = Math.Max(start, group.Start);
        ulong e = Math.Min(start + length, group.End);
        if (s < e)
        {
            group.Free.RemoveOverlap(s, e - s);
        }
    }

    private static bool Matches(BlockGroup g, SpaceKind kind) => kind switch
    {
        SpaceKind.Data => g.IsData,
        SpaceKind.System => g.IsSystem,
        _ => g.IsMetadata,
    };

    private void Take(BlockGroup g, ulong start, ulong length)
    {
        g.Free.Remove(start, length);
        g.Used.Add(start, length);
        g.FreeSpaceDirty = true;
    }
}
