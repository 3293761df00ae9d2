// SPDX-License-Identifier: MIT
namespace Crfs.Volume.Allocation;

/// <summary>
/// A set of byte ranges kept as sorted, disjoint, maximally merged intervals <c>[start, end)</c>.
/// The allocator keeps one per block group for the space in use (what the extent tree records)
/// and one for the space it may hand out. Intervals live in two parallel sorted lists: lookups
/// are binary searches and an insert or removal moves at most the tail of the lists, which is
/// cheap for the few thousand fragments a block group holds in practice.
/// </summary>
/// <remarks>
/// Adding a range that overlaps the set, or removing one that is not wholly inside it, is a
/// bookkeeping bug (a double allocation or a double free) and throws, naming the range.
/// </remarks>
public sealed class RangeSet
{
    private readonly List<ulong> _starts = [];
    private readonly List<ulong> _ends = [];

    /// <summary>Bytes covered by the set.</summary>
    public ulong Total { get; private set; }

    public int Count => _starts.Count;

    public (ulong Start, ulong End) this[int index] => (_starts[index], _ends[index]);

    public IEnumerable<(ulong Start, ulong End)> Intervals
    {
        get
        {
            for (int i = 0; i < _starts.Count; i++)
            {
                yield return (_starts[i], _ends[i]);
            }
        }
    }

    public void Clear()
    {
        _starts.Clear();
        _ends.Clear();
        Total = 0;
    }

    /// <summary>Adds <c>[start, start + length)</c>, which must not overlap the set.</summary>
    public void Add(ulong start, ulong length)
    {
        if (length == 0)
        {
            return;
        }

        ulong end = start + length;
        int i = FirstEndingAfter(start); // first interval with end > start
        if (i < _starts.Count && _starts[i] < end)
        {
            throw new InvalidOperationException($"range [{start}, {end}) overlaps [{_starts[i]}, {_ends[i]}) already in the set");
        }

        bool joinLeft = i > 0 && _ends[i - 1] == start;
        bool joinRight = i < _starts.Count && _starts[i] == end;
        if (joinLeft && joinRight)
        {
            _ends[i - 1] = _ends[i];
            _starts.RemoveAt(i);
            _ends.RemoveAt(i);
        }
        else if (joinLeft)
        {
            _ends[i - 1] = end;
        }
        else if (joinRight)
        {
            _starts[i] = start;
        }
        else
        {
            _starts.Insert(i, start);
            _ends.Insert(i, end);
        }

        Total += length;
    }

    /// <summary>Removes <c>[start, start + length)</c>, which must lie wholly inside one interval.</summary>
    public void Remove(ulong start, ulong length)
    {
        if (length == 0)
        {
            return;
        }

        ulong end = start + length;
        int i = FirstEndingAfter(start);
        if (i >= _starts.Count || _starts[i] > start || _ends[i] < end)
        {
            throw new InvalidOperationException($"range [{start}, {end}) is not wholly inside the set");
        }

        ulong s = _starts[i];
        ulong e = _ends[i];
        if (s == start && e == end)
        {
            _starts.RemoveAt(i);
            _ends.RemoveAt(i);
        }
        else if (s == start)
        {
            _starts[i] = end;
        }
        else if (e == end)
        {
            _ends[i] = start;
        }
        else
        {
            _ends[i] = start;
            _starts.Insert(i + 1, end);
            _ends.Insert(i + 1, e);
        }

        Total -= length;
    }

    /// <summary>Removes whatever part of <c>[start, start + length)</c> the set holds.</summary>
    public void RemoveOverlap(ulong start, ulong length)
    {
        ulong end = start + length;
        int i = FirstEndingAfter(start);
        while (i < _starts.Count && _starts[i] < end)
        {
            ulong s = Math.Max(_starts[i], start);
            ulong e = Math.Min(_ends[i], end);
            Remove(s, e - s);
            i = FirstEndingAfter(e);
        }
    }

    public bool Contains(ulong start, ulong length)
    {
        int i = FirstEndingAfter(start);
        return i < _starts.Count && _starts[i] <= start && _ends[i] >= start + length;
    }

    public bool Overlaps(ulong start, ulong length)
    {
        int i = FirstEndingAfter(start);
        return i < _starts.Count && _starts[i] < start + length;
    }

    /// <summary>
    /// The first <paramref name="align"/>-aligned address at or after <paramref name="from"/> where
    /// <paramref name="length"/> bytes are free, or null.
    /// </summary>
    public ulong? FindFit(ulong from, ulong length, ulong align)
    {
        for (int i = FirstEndingAfter(from); i < _starts.Count; i++)
        {
            ulong s = AlignUp(Math.Max(_starts[i], from), align);
            if (s + length <= _ends[i])
            {
                return s;
            }
        }

        return null;
    }

    /// <summary>
    /// The largest run available at or after <paramref name="from"/>, aligned, capped at
    /// <paramref name="maxLength"/>: the first run that satisfies the cap, else the longest.
    /// </summary>
    public (ulong Start, ulong Length)? FindLongest(ulong from, ulong maxLength, ulong align)
    {
        (ulong Start, ulong Length)? best = null;
        for (int i = FirstEndingAfter(from); i < _starts.Count; i++)
        {
            ulong s = AlignUp(Math.Max(_starts[i], from), align);
            if (s >= _ends[i])
            {
                continue;
            }

            ulong len = (_ends[i] - s) / align * align;
            if (len >= maxLength)
            {
                return (s, maxLength);
            }

            if (len > 0 && (best is null || len > best.Value.Length))
            {
                best = (s, len);
            }
        }

        return best;
    }

    private static ulong AlignUp(ulong value, ulong align) => (value + align - 1) / align * align;

    // Binary search: the index of the first interval whose end is > position.
    private int FirstEndingAfter(ulong position)
    {
        int lo = 0;
        int hi = _ends.Count;
        while (lo < hi)
        {
            int mid = (lo + hi) >>> 1;
            if (_ends[mid] <= position)
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
}
