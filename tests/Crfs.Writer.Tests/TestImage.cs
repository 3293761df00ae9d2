// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Testing;
using Crfs.Volume.Devices;
using Crfs.Volume.Mkfs;

namespace Crfs.Writer.Tests;

/// <summary>A scratch image file in a temporary directory, formatted by the writer or by mkfs.btrfs.</summary>
internal sealed class TestImage : IDisposable
{
    private readonly TempDirectory _dir;

    private TestImage(TempDirectory dir, string path)
    {
        _dir = dir;
        Path = path;
    }

    public string Path { get; }

    public string Directory => _dir.Path;

    public static TestImage Create(long megabytes)
    {
        var dir = new TempDirectory("crfs-writer");
        string path = dir.Combine("volume.img");
        using (var stream = new FileStream(path, FileMode.CreateNew))
        {
            stream.SetLength(megabytes << 20);
        }

        return new TestImage(dir, path);
    }

    /// <summary>An image formatted by <see cref="VolumeFormatter"/>.</summary>
    public static TestImage Formatted(long megabytes, ChecksumType checksum = ChecksumType.Crc32c)
    {
        TestImage image = Create(megabytes);
        using FileBlockDevice device = FileBlockDevice.Open(image.Path, writable: true);
        VolumeFormatter.Format(device, new MkfsOptions { ChecksumType = checksum });
        return image;
    }

    /// <summary>An image formatted by mkfs.btrfs.</summary>
    public static TestImage MkfsBtrfs(long megabytes, params string[] options)
    {
        TestImage image = Create(megabytes);
        ProcessRunner.Run("mkfs.btrfs", ["-f", "-q", .. options, image.Path], TimeSpan.FromMinutes(2)).EnsureSuccess();
        return image;
    }

    public void Dispose() => _dir.Dispose();
}
