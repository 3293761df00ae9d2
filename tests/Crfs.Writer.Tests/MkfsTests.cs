// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Testing;
using Crfs.Volume;
using Crfs.Volume.Devices;
using Crfs.Volume.Mkfs;

namespace Crfs.Writer.Tests;

public sealed class MkfsTests
{
    [SkippableTheory]
    [InlineData(ChecksumType.Crc32c, 256)]
    [InlineData(ChecksumType.XxHash64, 128)]
    [InlineData(ChecksumType.Sha256, 512)]
    [InlineData(ChecksumType.Blake2b, 1024)]
    public void FormattedImage_PassesBtrfsCheck(ChecksumType checksum, int megabytes)
    {
        Skip.IfNot(BtrfsCheck.Available, "btrfs-progs is not installed");
        using var dir = new TempDirectory("crfs-mkfs");
        string image = dir.Combine("a.img");
        File.WriteAllBytes(image, []);
        File.SetUnixFileMode(image, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        using (var stream = new FileStream(image, System.IO.FileMode.Open))
        {
            stream.SetLength((long)megabytes << 20);
        }

        using (FileBlockDevice device = FileBlockDevice.Open(image, writable: true))
        {
            VolumeFormatter.Format(device, new MkfsOptions { ChecksumType = checksum, Label = "crfs"u8.ToArray() });
        }

        BtrfsCheck.AssertClean(image);
        using BtrfsVolume volume = BtrfsVolume.Open([image]);
        Assert.Equal(checksum, volume.ChecksumType);
        Assert.True(volume.OpenDefaultSubvolume().TryGetInode(256, out InodeItem root));
        Assert.True(InodeMode.IsDirectory(root.Mode));
    }
}
