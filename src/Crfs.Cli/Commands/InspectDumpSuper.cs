// SPDX-License-Identifier: MIT
using System.Text;
using Crfs.Format.Btrfs;
using Crfs.Volume;
using Crfs.Volume.Devices;

namespace Crfs.Cli.Commands;

/// <summary><c>crfs inspect dump-super</c>: the superblock, field by field, as <c>btrfs inspect-internal dump-super -f</c> prints it.</summary>
internal static class InspectDumpSuper
{
    public static int Run(BtrfsVolume volume, string[] args)
    {
        TextWriter w = Console.Out;
        foreach (VolumeDevice device in volume.Devices.Devices.OrderBy(d => d.DevId))
        {
            var sb = new SuperblockView(device.Superblock);
            Print(w, sb, device.Device.Name, device.SuperblockMirror);
            w.WriteLine();
        }

        return 0;
    }

    public static void Print(TextWriter w, SuperblockView sb, string deviceName, int mirror)
    {
        w.WriteLine($"superblock: bytenr={sb.Bytenr}, device={deviceName}, copy={mirror}");
        w.WriteLine("---------------------------------------------------------");
        int csumSize = Crfs.Format.Checksums.BtrfsChecksum.Size(sb.CsumType);
        w.WriteLine($"csum_type\t\t{(ushort)sb.CsumType} ({CsumName(sb.CsumType)})");
        w.WriteLine($"csum_size\t\t{csumSize}");
        w.WriteLine($"csum\t\t\t0x{Convert.ToHexStringLower(sb.Csum[..csumSize])} [match]");
        w.WriteLine($"bytenr\t\t\t{sb.Bytenr}");
        w.WriteLine($"flags\t\t\t0x{(ulong)sb.Flags:x}");
        w.WriteLine($"\t\t\t( {FeatureNames.Format(sb.Flags).Replace("|", " |\n\t\t\t  ", StringComparison.Ordinal)} )");
        w.WriteLine($"magic\t\t\t_BHRfS_M [match]");
        w.WriteLine($"fsid\t\t\t{UuidFormat.ToString(sb.Fsid)}");
        w.WriteLine($"metadata_uuid\t\t{UuidFormat.ToString(sb.MetadataFsid)}");
        w.WriteLine($"label\t\t\t{Encoding.UTF8.GetString(sb.LabelText)}");
        w.WriteLine($"generation\t\t{sb.Generation}");
        w.WriteLine($"root\t\t\t{sb.Root}");
        w.WriteLine($"sys_array_size\t\t{sb.SysChunkArraySize}");
        w.WriteLine($"chunk_root_generation\t{sb.ChunkRootGeneration}");
        w.WriteLine($"root_level\t\t{sb.RootLevel}");
        w.WriteLine($"chunk_root\t\t{sb.ChunkRoot}");
        w.WriteLine($"chunk_root_level\t{sb.ChunkRootLevel}");
        w.WriteLine($"log_root\t\t{sb.LogRoot}");
        w.WriteLine($"log_root_transid (deprecated)\t{sb.LogRootTransid}");
        w.WriteLine($"log_root_level\t\t{sb.LogRootLevel}");
        w.WriteLine($"total_bytes\t\t{sb.TotalBytes}");
        w.WriteLine($"bytes_used\t\t{sb.BytesUsed}");
        w.WriteLine($"sectorsize\t\t{sb.SectorSize}");
        w.WriteLine($"nodesize\t\t{sb.NodeSize}");
        w.WriteLine($"leafsize (deprecated)\t{sb.LeafSize}");
        w.WriteLine($"stripesize\t\t{sb.StripeSize}");
        w.WriteLine($"root_dir\t\t{sb.RootDirObjectId}");
        w.WriteLine($"num_devices\t\t{sb.NumDevices}");
        w.WriteLine($"compat_flags\t\t0x{sb.CompatFlags:x}");
        w.WriteLine($"compat_ro_flags\t\t0x{(ulong)sb.CompatRoFlags:x}");
        PrintFlagNames(w, FeatureNames.Format(sb.CompatRoFlags), (ulong)sb.CompatRoFlags);
        w.WriteLine($"incompat_flags\t\t0x{(ulong)sb.IncompatFlags:x}");
        PrintFlagNames(w, FeatureNames.Format(sb.IncompatFlags), (ulong)sb.IncompatFlags);
        w.WriteLine($"cache_generation\t{sb.CacheGeneration}");
        w.WriteLine($"uuid_tree_generation\t{sb.UuidTreeGeneration}");
        DevItemView dev = sb.DevItem;
        w.WriteLine($"dev_item.uuid\t\t{UuidFormat.ToString(dev.Uuid)}");
        w.WriteLine($"dev_item.fsid\t\t{UuidFormat.ToString(dev.Fsid)} [match]");
        w.WriteLine($"dev_item.type\t\t{dev.Type}");
        w.WriteLine($"dev_item.total_bytes\t{dev.TotalBytes}");
        w.WriteLine($"dev_item.bytes_used\t{dev.BytesUsed}");
        w.WriteLine($"dev_item.io_align\t{dev.IoAlign}");
        w.WriteLine($"dev_item.io_width\t{dev.IoWidth}");
        w.WriteLine($"dev_item.sector_size\t{dev.SectorSize}");
        w.WriteLine($"dev_item.devid\t\t{dev.DevId}");
        w.WriteLine($"dev_item.dev_group\t{dev.DevGroup}");
        w.WriteLine($"dev_item.seek_speed\t{dev.SeekSpeed}");
        w.WriteLine($"dev_item.bandwidth\t{dev.Bandwidth}");
        w.WriteLine($"dev_item.generation\t{dev.Generation}");
        w.WriteLine($"sys_chunk_array[{SuperblockLayout.SysChunkArrayCapacity}]:");
        int i = 0;
        foreach (SysChunkEntry entry in new SysChunkArrayEnumerator(sb))
        {
            w.WriteLine($"\titem {i++} key {ItemPrinter.FormatKey(entry.Key)}");
            ItemPrinter.PrintChunk(w, entry.Chunk, "\t\t");
        }

        w.WriteLine($"backup_roots[{SuperblockLayout.BackupRootCount}]:");
        for (int slot = 0; slot < SuperblockLayout.BackupRootCount; slot++)
        {
            RootBackupView b = sb.Backup(slot);
            w.WriteLine($"\tbackup {slot}:");
            w.WriteLine($"\t\tbackup_tree_root:\t{b.TreeRoot}\tgen: {b.TreeRootGen}\tlevel: {b.TreeRootLevel}");
            w.WriteLine($"\t\tbackup_chunk_root:\t{b.ChunkRoot}\tgen: {b.ChunkRootGen}\tlevel: {b.ChunkRootLevel}");
            w.WriteLine($"\t\tbackup_extent_root:\t{b.ExtentRoot}\tgen: {b.ExtentRootGen}\tlevel: {b.ExtentRootLevel}");
            w.WriteLine($"\t\tbackup_fs_root:\t\t{b.FsRoot}\tgen: {b.FsRootGen}\tlevel: {b.FsRootLevel}");
            w.WriteLine($"\t\tbackup_dev_root:\t{b.DevRoot}\tgen: {b.DevRootGen}\tlevel: {b.DevRootLevel}");
            w.WriteLine($"\t\tcsum_root:\t{b.CsumRoot}\tgen: {b.CsumRootGen}\tlevel: {b.CsumRootLevel}");
            w.WriteLine($"\t\tbackup_total_bytes:\t{b.TotalBytes}");
            w.WriteLine($"\t\tbackup_bytes_used:\t{b.BytesUsed}");
            w.WriteLine($"\t\tbackup_num_devices:\t{b.NumDevices}");
            w.WriteLine();
        }
    }

    private static void PrintFlagNames(TextWriter w, string names, ulong value)
    {
        if (value != 0)
        {
            w.WriteLine($"\t\t\t( {names.Replace("|", " |\n\t\t\t  ", StringComparison.Ordinal)} )");
        }
    }

    private static string CsumName(ChecksumType type) => type switch
    {
        ChecksumType.Crc32c => "crc32c",
        ChecksumType.XxHash64 => "xxhash64",
        ChecksumType.Sha256 => "sha256",
        ChecksumType.Blake2b => "blake2b",
        _ => "unknown",
    };
}
