// SPDX-License-Identifier: MIT
using System.Text;

namespace Crfs.Format.Btrfs;

/// <summary>
/// The superblock's <c>incompat_flags</c>: a volume with a bit set that a reader does not
/// understand must not be opened at all. On disk; frozen.
/// </summary>
[Flags]
public enum IncompatFeatures : ulong
{
    None = 0,
    MixedBackref = 1UL << 0,
    DefaultSubvol = 1UL << 1,
    MixedGroups = 1UL << 2,
    CompressLzo = 1UL << 3,
    CompressZstd = 1UL << 4,
    BigMetadata = 1UL << 5,
    ExtendedIref = 1UL << 6,
    Raid56 = 1UL << 7,
    SkinnyMetadata = 1UL << 8,
    NoHoles = 1UL << 9,
    MetadataUuid = 1UL << 10,
    Raid1c34 = 1UL << 11,
    Zoned = 1UL << 12,
    ExtentTreeV2 = 1UL << 13,
    RaidStripeTree = 1UL << 14,
    SimpleQuota = 1UL << 16,
    RemapTree = 1UL << 17,
}

/// <summary>
/// The superblock's <c>compat_ro_flags</c>: unknown bits still allow reading, never writing.
/// On disk; frozen.
/// </summary>
[Flags]
public enum CompatRoFeatures : ulong
{
    None = 0,
    FreeSpaceTree = 1UL << 0,
    FreeSpaceTreeValid = 1UL << 1,
    Verity = 1UL << 2,
    BlockGroupTree = 1UL << 3,
}

/// <summary>The superblock's <c>flags</c> field. On disk; frozen.</summary>
[Flags]
public enum SuperblockFlags : ulong
{
    None = 0,
    Written = 1UL << 0,
    Error = 1UL << 2,
    Seeding = 1UL << 32,
    Metadump = 1UL << 33,
    MetadumpV2 = 1UL << 34,
    ChangingFsid = 1UL << 35,
    ChangingFsidV2 = 1UL << 36,
    ChangingBgTree = 1UL << 38,
    ChangingDataCsum = 1UL << 39,
    ChangingMetaCsum = 1UL << 40,
}

/// <summary>Formats flag sets the way btrfs-progs prints them: <c>MIXED_BACKREF|NO_HOLES</c>.</summary>
public static class FeatureNames
{
    private static readonly (ulong Bit, string Name)[] s_incompat =
    [
        ((ulong)IncompatFeatures.MixedBackref, "MIXED_BACKREF"),
        ((ulong)IncompatFeatures.DefaultSubvol, "DEFAULT_SUBVOL"),
        ((ulong)IncompatFeatures.MixedGroups, "MIXED_GROUPS"),
        ((ulong)IncompatFeatures.CompressLzo, "COMPRESS_LZO"),
        ((ulong)IncompatFeatures.CompressZstd, "COMPRESS_ZSTD"),
        ((ulong)IncompatFeatures.BigMetadata, "BIG_METADATA"),
        ((ulong)IncompatFeatures.ExtendedIref, "EXTENDED_IREF"),
        ((ulong)IncompatFeatures.Raid56, "RAID56"),
        ((ulong)IncompatFeatures.SkinnyMetadata, "SKINNY_METADATA"),
        ((ulong)IncompatFeatures.NoHoles, "NO_HOLES"),
        ((ulong)IncompatFeatures.MetadataUuid, "METADATA_UUID"),
        ((ulong)IncompatFeatures.Raid1c34, "RAID1C34"),
        ((ulong)IncompatFeatures.Zoned, "ZONED"),
        ((ulong)IncompatFeatures.ExtentTreeV2, "EXTENT_TREE_V2"),
        ((ulong)IncompatFeatures.RaidStripeTree, "RAID_STRIPE_TREE"),
        ((ulong)IncompatFeatures.SimpleQuota, "SIMPLE_QUOTA"),
        ((ulong)IncompatFeatures.RemapTree, "REMAP_TREE"),
    ];

    private static readonly (ulong Bit, string Name)[] s_compatRo =
    [
        ((ulong)CompatRoFeatures.FreeSpaceTree, "FREE_SPACE_TREE"),
        ((ulong)CompatRoFeatures.FreeSpaceTreeValid, "FREE_SPACE_TREE_VALID"),
        ((ulong)CompatRoFeatures.Verity, "VERITY"),
        ((ulong)CompatRoFeatures.BlockGroupTree, "BLOCK_GROUP_TREE"),
    ];

    private static readonly (ulong Bit, string Name)[] s_super =
    [
        ((ulong)SuperblockFlags.Written, "WRITTEN"),
        ((ulong)SuperblockFlags.Error, "ERROR"),
        ((ulong)SuperblockFlags.Seeding, "SEEDING"),
        ((ulong)SuperblockFlags.Metadump, "METADUMP"),
        ((ulong)SuperblockFlags.MetadumpV2, "METADUMP_V2"),
        ((ulong)SuperblockFlags.ChangingFsid, "CHANGING_FSID"),
        ((ulong)SuperblockFlags.ChangingFsidV2, "CHANGING_FSID_V2"),
        ((ulong)SuperblockFlags.ChangingBgTree, "CHANGING_BG_TREE"),
        ((ulong)SuperblockFlags.ChangingDataCsum, "CHANGING_DATA_CSUM"),
        ((ulong)SuperblockFlags.ChangingMetaCsum, "CHANGING_META_CSUM"),
    ];

    public static string Format(IncompatFeatures flags) => Join((ulong)flags, s_incompat);

    public static string Format(CompatRoFeatures flags) => Join((ulong)flags, s_compatRo);

    public static string Format(SuperblockFlags flags) => Join((ulong)flags, s_super);

    /// <summary>
    /// Joins the names of the set bits with <c>|</c>; bits without a name print as
    /// <c>0x...</c>; an empty set prints as <c>none</c>.
    /// </summary>
    public static string Join(ulong value, ReadOnlySpan<(ulong Bit, string Name)> names)
    {
        if (value == 0)
        {
            return "none";
        }

        var sb = new StringBuilder();
        ulong rest = value;
        foreach ((ulong bit, string name) in names)
        {
            if ((rest & bit) != 0)
            {
                if (sb.Length > 0)
                {
                    sb.Append('|');
                }

                sb.Append(name);
                rest &= ~bit;
            }
        }

        if (rest != 0)
        {
            if (sb.Length > 0)
            {
                sb.Append('|');
            }

            sb.Append("0x").Append(rest.ToString("x", System.Globalization.CultureInfo.InvariantCulture));
        }

        return sb.ToString();
    }
}
