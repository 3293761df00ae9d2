// SPDX-License-Identifier: MIT
namespace Crfs.Testing;

/// <summary>
/// A fresh, empty, read-write btrfs on a sparse image in a temporary directory: the destination
/// for copies that must keep everything btrfs can hold (several 3900-byte xattrs on one inode,
/// which ext4 refuses; holes; nanosecond times). Disposing unmounts, detaches and deletes it.
/// </summary>
public sealed class ScratchBtrfs : IDisposable
{
    private readonly TempDirectory _dir;
    private readonly LoopMount _mount;
    private int _next;

    public ScratchBtrfs(long sizeBytes = 8L << 30)
    {
        _dir = new TempDirectory("crfs-scratch-btrfs");
        try
        {
            string image = _dir.Combine("scratch.img");
            BtrfsImages.MakeEmpty(image, sizeBytes);
            _mount = LoopMount.Mount(image, readOnly: false);
        }
        catch
        {
            _dir.Dispose();
            throw;
        }
    }

    public string Root => _mount.MountPoint;

    /// <summary>A path under the scratch file system that does not exist yet.</summary>
    public string NewPath(string prefix = "copy") => Path.Combine(Root, $"{prefix}-{Interlocked.Increment(ref _next)}");

    /// <summary>Removes everything under a path of this file system (names need not be UTF-8).</summary>
    public void Delete(string path) =>
        ProcessRunner.Run("rm", ["-rf", "--one-file-system", "--", path], TimeSpan.FromMinutes(5));

    public void Dispose()
    {
        try
        {
            _mount.Dispose();
        }
        finally
        {
            _dir.Dispose();
        }
    }
}
