// SPDX-License-Identifier: MIT
namespace Crfs.Format.Btrfs;

/// <summary>
/// A chunk's <c>type</c> and a block group's <c>flags</c>: one or two type bits (DATA, SYSTEM,
/// METADATA; DATA|METADATA only with MIXED_GROUPS) and at most one profile bit (none = SINGLE).
/// On disk; frozen.
/// </summary>
[Flags]
public enum BlockGroupFlags : ulong
{
    None = 0,
    Data = 1UL << 0,
    System = 1UL << 1,
    Metadata = 1UL << 2,
    Raid0 = 1UL << 3,
    Raid1 = 1UL << 4,
    Dup = 1UL << 5,
    Raid10 = 1UL << 6,
    Raid5 = 1UL << 7,
    Raid6 = 1UL << 8,
    Raid1c3 = 1UL << 9,
    Raid1c4 = 1UL << 10,

    TypeMask = Data | System | Metadata,
    ProfileMask = Raid0 | Raid1 | Dup | Raid10 | Raid5 | Raid6 | Raid1c3 | Raid1c4,
}

/// <summary>Names of block group types and profiles, spelled as btrfs-progs prints them.</summary>
public static class BlockGroupNames
{
    /// <summary>Formats as <c>METADATA|DUP</c> or <c>DATA|single</c>.</summary>
    public static string Format(BlockGroupFlags flags)
    {
        string type = FeatureNames.Join((ulong)(flags & BlockGroupFlags.TypeMask),
        [
            ((ulong)BlockGroupFlags.Data, "DATA"),
            ((ulong)BlockGroupFlags.System, "SYSTEM"),
            ((ulong)BlockGroupFlags.Metadata, "METADATA"),
        ]);
        ulong unknown = (ulong)(flags & ~(BlockGroupFlags.TypeMask | BlockGroupFlags.ProfileMask));
        string text = type + "|" + Profile(flags);
        return unknown == 0 ? text : text + "|0x" + unknown.ToString("x", System.Globalization.CultureInfo.InvariantCulture);
    }

    /// <summary>The profile name: <c>single</c>, <c>DUP</c>, <c>RAID1</c>, ...</summary>
    public static string Profile(BlockGroupFlags flags) => (flags & BlockGroupFlags.ProfileMask) switch
    {
        BlockGroupFlags.None => "single",
        BlockGroupFlags.Raid0 => "RAID0",
        BlockGroupFlags.Raid1 => "RAID1",
        BlockGroupFlags.Dup => "DUP",
        BlockGroupFlags.Raid10 => "RAID10",
        BlockGroupFlags.Raid5 => "RAID5",
        BlockGroupFlags.Raid6 => "RAID6",
        BlockGroupFlags.Raid1c3 => "RAID1C3",
        BlockGroupFlags.Raid1c4 => "RAID1C4",
        BlockGroupFlags p => "0x" + ((ulong)p).ToString("x", System.Globalization.CultureInfo.InvariantCulture),
    };
}
