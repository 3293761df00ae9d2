// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;

namespace Crfs.Volume.Allocation;

/// <summary>
/// The allocator's view of one block group (one chunk's logical range).
/// </summary>
/// <remarks>
/// Three sets describe the space, and their relation is the allocator's invariant:
/// <see cref="Used"/> is exactly what the extent tree will record once the running transaction's
/// references are applied (so the free space tree is the group minus <see cref="Used"/>);
/// <see cref="Pinned"/> holds ranges freed in the running transaction that the last committed
/// superblock still references, unusable until the commit that frees them is on disk;
/// <see cref="Free"/> is what may be handed out: the group minus <see cref="Used"/>, minus
/// <see cref="Pinned"/>, minus the superblock mirrors' stripes (never allocated, never recorded).
/// </remarks>
public sealed class BlockGroup
{
    public BlockGroup(ulong start, ulong length, BlockGroupFlags flags)
    {
        Start = start;
        Length = length;
        Flags = flags;
    }

    public ulong Start { get; }

    public ulong Length { get; }

    public ulong End => Start + Length;

    public BlockGroupFlags Flags { get; }

    public RangeSet Used { get; } = new();

    public RangeSet Free { get; } = new();

    public RangeSet Pinned { get; } = new();

    /// <summary>The <c>used</c> value of the BLOCK_GROUP_ITEM as last written.</summary>
    public ulong RecordedUsed { get; set; }

    /// <summary>True when the free space tree's entries for this group must be rewritten.</summary>
    public bool FreeSpaceDirty { get; set; }

    /// <summary>True when this group was created in the running transaction (its items are new).</summary>
    public bool IsNew { get; set; }

    public bool IsData => (Flags & BlockGroupFlags.Data) != 0;

    public bool IsSystem => (Flags & BlockGroupFlags.System) != 0;

    public bool IsMetadata => (Flags & BlockGroupFlags.Metadata) != 0;

    public bool Holds(ulong logical) => logical >= Start && logical < End;

    public override string ToString() => $"block group [{Start}, {End}) {BlockGroupNames.Format(Flags)} used {Used.Total}";
}
