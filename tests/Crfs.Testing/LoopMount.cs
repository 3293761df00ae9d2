// SPDX-License-Identifier: MIT
namespace Crfs.Testing;

/// <summary>
/// A btrfs image mounted by the kernel through a loop device this object attached (never one
/// found by name), on a fresh mount point; disposing unmounts, detaches and removes the mount
/// point. Read-only mounts attach the loop device read-only too, so a cached image can never be
/// modified by a mount (not even by log replay).
/// </summary>
/// <remarks>
/// The kernel refuses or remaps two mounted devices with one fsid, so mounts of the same image file
/// are serialized by a lock file beside it (across test processes as well). Copies of an image share
/// its fsid: never mount a copy while the original may be mounted.
/// </remarks>
public sealed class LoopMount : IDisposable
{
    private readonly FileLock _lock;
    private bool _disposed;

    private LoopMount(string image, string device, string mountPoint, FileLock imageLock)
    {
        Image = image;
        Device = device;
        MountPoint = mountPoint;
        _lock = imageLock;
    }

    public string Image { get; }

    public string Device { get; }

    public string MountPoint { get; }

    /// <param name="options">extra btrfs mount options (comma-separated), e.g. <c>compress-force=zstd</c>.</param>
    public static LoopMount Mount(string image, bool readOnly, string options = "")
    {
        FileLock imageLock = FileLock.Acquire(FileLock.PathFor(image, "mount"), TimeSpan.FromMinutes(10));
        string? device = null;
        string mountPoint = Directory.CreateTempSubdirectory("crfs-mnt-").FullName;
        try
        {
            device = ProcessRunner.Run("losetup", readOnly ? ["-f", "--show", "-r", image] : ["-f", "--show", image], TimeSpan.FromMinutes(1))
                .EnsureSuccess().StdOut.Trim();
            string all = string.Join(',', new[] { readOnly ? "ro" : "rw", options }.Where(o => o.Length > 0));
            ProcessRunner.Run("mount", ["-t", "btrfs", "-o", all, device, mountPoint], TimeSpan.FromMinutes(2)).EnsureSuccess();
            return new LoopMount(image, device, mountPoint, imageLock);
        }
        catch
        {
            if (device is not null)
            {
                ProcessRunner.Run("losetup", ["-d", device], TimeSpan.FromMinutes(1));
            }

            Directory.Delete(mountPoint);
            imageLock.Dispose();
            throw;
        }
    }

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            ProcessResult r = ProcessRunner.Run("umount", [MountPoint], TimeSpan.FromMinutes(2));
            for (int attempt = 0; r.ExitCode != 0 && attempt < 10; attempt++)
            {
                // A process that just exited may still hold the mount busy for a moment.
                Thread.Sleep(500);
                r = ProcessRunner.Run("umount", [MountPoint], TimeSpan.FromMinutes(2));
            }

            r.EnsureSuccess();
            ProcessRunner.Run("losetup", ["-d", Device], TimeSpan.FromMinutes(1)).EnsureSuccess();
            Directory.Delete(MountPoint);
        }
        finally
        {
            _lock.Dispose();
        }
    }
}

/// <summary>An exclusive advisory lock on a file (flock through FileShare.None), across processes.</summary>
public sealed class FileLock : IDisposable
{
    private readonly FileStream _stream;

    private FileLock(FileStream stream)
    {
        _stream = stream;
    }

    /// <summary>
    /// The lock file for one purpose on one file: beside it, or in <c>.locks/</c> for files of the
    /// image cache (which would otherwise fill with empty lock files).
    /// </summary>
    public static string PathFor(string file, string purpose)
    {
        string full = Path.GetFullPath(file);
        string? dir = Path.GetDirectoryName(full);
        if (dir == BtrfsImages.CacheDirectory)
        {
            dir = Path.Combine(dir, ".locks");
            Directory.CreateDirectory(dir);
        }

        return Path.Combine(dir ?? "/", $"{Path.GetFileName(full)}.{purpose}.lock");
    }

    public static FileLock Acquire(string path, TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (true)
        {
            try
            {
                return new FileLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None));
            }
            catch (IOException) when (DateTime.UtcNow < deadline)
            {
                Thread.Sleep(200);
            }
        }
    }

    public void Dispose() => _stream.Dispose();
}
