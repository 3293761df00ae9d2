// SPDX-License-Identifier: MIT
using System.Text;
using Crfs.Format.Btrfs;
using Crfs.Testing;
using Crfs.Volume.Chunks;
using Crfs.Volume.Files;

namespace Crfs.Volume.Tests.Reader;

/// <summary>A RAID1 volume on two image files: device matching, degraded reads and mirror fallback.</summary>
public sealed class MultiDeviceTests : IDisposable
{
    private readonly TempDirectory _dir = new("crfs-multi");

    public void Dispose() => _dir.Dispose();

    [SkippableFact]
    public void DevicesAreMatchedByDevidWhateverTheOrderGiven()
    {
        string[] devices = Images();
        foreach (string[] order in new[] { devices, devices.Reverse().ToArray() })
        {
            using BtrfsVolume v = BtrfsVolume.Open(order);
            Assert.Equal(2UL, v.Superblock.NumDevices);
            Assert.Equal([1UL, 2UL], v.Devices.Devices.Select(d => d.DevId).Order());
            Assert.Contains(v.ChunkMap.Chunks, c => c.Profile == BlockGroupFlags.Raid1 && c.Stripes.Select(s => s.DevId).Distinct().Count() == 2);
            Assert.Equal(Expected(), ReadFile(v, "/data"));
        }
    }

    [SkippableFact]
    public void DegradedVolumeReadsFromTheRemainingMirror()
    {
        string[] devices = Images();
        using BtrfsVolume v = BtrfsVolume.Open([devices[1]]);
        Assert.Equal(Expected(), ReadFile(v, "/data"));
    }

    [SkippableFact]
    public void DevicesOfDifferentVolumesAreRefused()
    {
        string[] devices = Images();
        string other = SampleTree.Image();
        var e = Assert.Throws<InvalidDataException>(() => BtrfsVolume.Open([devices[0], other]));
        Assert.Contains("belongs to volume", e.Message);
    }

    [SkippableFact]
    public void BadDataOnOneDeviceIsRepairedFromTheOther()
    {
        string[] devices = Images();
        string a = ReaderImages.CopyToTemp(devices[0], _dir, "a.img");
        string b = ReaderImages.CopyToTemp(devices[1], _dir, "b.img");
        ulong logical;
        PhysicalLocation first;
        string target;
        using (BtrfsVolume v = BtrfsVolume.Open([a, b]))
        {
            Assert.True(v.TryResolvePath("/data"u8, out ResolvedPath p, out _, out _));
            logical = p.Subvolume.LoadInode(p.Inode)!.Extents[0].DiskBytenr;
            first = v.Reader.Locate(logical, 1)!.Value;
            target = v.Devices.Devices.Single(d => d.DevId == first.DevId).Device.Name;
        }

        using (var f = File.Open(target, FileMode.Open, FileAccess.ReadWrite))
        {
            RandomAccess.Write(f.SafeFileHandle, "garbage"u8, (long)first.Offset + 7);
        }

        var bad = new List<BadCopyEventArgs>();
        using BtrfsVolume again = BtrfsVolume.Open([a, b], new VolumeOptions { BadCopyFound = bad.Add });
        Assert.Equal(Expected(), ReadFile(again, "/data"));
        BadCopyEventArgs e = Assert.Single(bad);
        Assert.Equal(("data", logical, 1), (e.Kind, e.Logical, e.Mirror));
    }

    private static byte[] Expected() => SampleTree.Content("raid1-data", 200_000);

    private static byte[] ReadFile(BtrfsVolume v, string path)
    {
        Assert.True(v.TryResolvePath(Encoding.UTF8.GetBytes(path), out ResolvedPath p, out _, out _));
        byte[] buffer = new byte[300_000];
        Assert.True(p.Subvolume.TryRead(p.Inode, 0, buffer, out int n));
        return buffer[..n];
    }

    private static string[] Images()
    {
        Skip.IfNot(Capabilities.CanLoopMountBtrfs, "needs root, mkfs.btrfs and loop mounts");
        return ReaderImages.MultiDevice("raid1", 3, 2,
            src => File.WriteAllBytes(Path.Combine(src, "data"), Expected()), "-d", "raid1", "-m", "raid1");
    }
}
