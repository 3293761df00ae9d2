// SPDX-License-Identifier: MIT
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Crfs.Testing;

/// <summary>
/// Small btrfs images for the reader's unit tests, built on demand and cached under
/// <c>/tmp/crfs-fixtures/reader-NAME-HASH.img</c>. The hash covers the name, the caller's recipe
/// version, the mkfs arguments, the mount options and the btrfs-progs version; bump the version
/// whenever the populate callback changes. Images are built under a temporary name and renamed
/// into place, so a half-built image is never seen; tests must treat cached images as read-only
/// and corrupt only copies (<see cref="CopyToTemp"/>).
/// </summary>
public static class ReaderImages
{
    public const string CacheDirectory = "/tmp/crfs-fixtures";

    private static readonly ConcurrentDictionary<string, Lazy<string>> s_building = new();

    /// <summary>
    /// An image made by <c>mkfs.btrfs --rootdir</c> from a directory that <paramref name="populate"/>
    /// fills. Needs mkfs.btrfs.
    /// </summary>
    public static string RootDir(string name, int version, Action<string> populate, params string[] mkfsArgs) =>
        Build(name, version, "rootdir", mkfsArgs, (image, scratch) =>
        {
            string source = Path.Combine(scratch, "src");
            Directory.CreateDirectory(source);
            populate(source);
            Mkfs(image, ["--rootdir", source, .. mkfsArgs]);
        });

    /// <summary>
    /// An image made by <c>mkfs.btrfs</c> and then written through a kernel loop mount with
    /// <paramref name="mountOptions"/> (e.g. <c>compress-force=zstd</c>). Needs root and loop mounts.
    /// </summary>
    public static string Kernel(string name, int version, string mountOptions, Action<string> populate, params string[] mkfsArgs) =>
        Build(name, version, "kernel " + mountOptions, mkfsArgs, (image, scratch) =>
        {
            Mkfs(image, mkfsArgs);
            string mnt = Path.Combine(scratch, "mnt");
            Directory.CreateDirectory(mnt);
            string options = mountOptions.Length == 0 ? "loop" : "loop," + mountOptions;
            ProcessRunner.Run("mount", "-o", options, image, mnt).EnsureSuccess();
            try
            {
                populate(mnt);
                ProcessRunner.Run("sync").EnsureSuccess();
            }
            finally
            {
                ProcessRunner.Run("umount", mnt).EnsureSuccess();
            }
        });

    /// <summary>
    /// Several image files forming one multi-device volume (e.g. <c>-d raid1 -m raid1</c>), filled
    /// through a kernel mount (mkfs cannot fill a multi-device volume from a directory). Returns the
    /// device paths in devid order. Needs root and loop mounts.
    /// </summary>
    public static string[] MultiDevice(string name, int version, int devices, Action<string> populate, params string[] mkfsArgs)
    {
        string first = Build(name, version, $"multi {devices}", mkfsArgs, (image, scratch) =>
        {
            var paths = new List<string> { image };
            for (int i = 1; i < devices; i++)
            {
                paths.Add($"{image}.dev{i}");
                ProcessRunner.Run("truncate", "-s", "256M", paths[^1]).EnsureSuccess();
            }

            // The image first, so that it becomes devid 1 and the paths come back in devid order.
            ProcessRunner.Run("mkfs.btrfs", ["-q", "-f", .. mkfsArgs, .. paths], TimeSpan.FromMinutes(5)).EnsureSuccess();
            var loops = new List<string>();
            string mnt = Path.Combine(scratch, "mnt");
            Directory.CreateDirectory(mnt);
            try
            {
                foreach (string p in paths)
                {
                    loops.Add(ProcessRunner.Run("losetup", "-f", "--show", p).EnsureSuccess().StdOut.Trim());
                }

                string options = string.Join(',', loops.Skip(1).Select(l => "device=" + l));
                ProcessRunner.Run("mount", ["-t", "btrfs", .. options.Length > 0 ? new[] { "-o", options } : [], loops[0], mnt]).EnsureSuccess();
                try
                {
                    populate(mnt);
                    ProcessRunner.Run("sync").EnsureSuccess();
                }
                finally
                {
                    ProcessRunner.Run("umount", mnt).EnsureSuccess();
                }
            }
            finally
            {
                foreach (string loop in loops)
                {
                    ProcessRunner.Run("losetup", "-d", loop);
                }
            }
        }, extraFiles: devices - 1);
        return [first, .. Enumerable.Range(1, devices - 1).Select(i => $"{first}.dev{i}")];
    }

    /// <summary>Copies an image (sparsely) to a fresh temporary file the caller may corrupt and delete.</summary>
    public static string CopyToTemp(string image, TempDirectory dir, string name = "copy.img")
    {
        string copy = dir.Combine(name);
        ProcessRunner.Run("cp", "--sparse=always", image, copy).EnsureSuccess();
        return copy;
    }

    private static void Mkfs(string image, IReadOnlyList<string> args)
    {
        ProcessRunner.Run("mkfs.btrfs", ["-q", "-f", .. args, image], TimeSpan.FromMinutes(5)).EnsureSuccess();
    }

    private static string Build(string name, int version, string kind, string[] mkfsArgs, Action<string, string> build, int extraFiles = 0)
    {
        string tool = ProcessRunner.Run("mkfs.btrfs", "--version").StdOut.Trim();
        string key = string.Join('|', name, version, kind, string.Join(' ', mkfsArgs), tool);
        string hash = Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(key)))[..16];
        string path = Path.Combine(CacheDirectory, $"reader-{name}-{hash}.img");
        return s_building.GetOrAdd(path, p => new Lazy<string>(() => BuildOnce(p, build, extraFiles))).Value;
    }

    private static string BuildOnce(string path, Action<string, string> build, int extraFiles)
    {
        if (File.Exists(path))
        {
            return path;
        }

        Directory.CreateDirectory(CacheDirectory);
        using var scratch = new TempDirectory("crfs-reader-image");
        string temp = scratch.Combine("image.img");
        ProcessRunner.Run("truncate", "-s", "256M", temp).EnsureSuccess();
        build(temp, scratch.Path);

        // The extra devices first, the image last: the image's presence means all are complete.
        for (int i = 1; i <= extraFiles; i++)
        {
            File.Move($"{temp}.dev{i}", $"{path}.dev{i}", overwrite: true);
        }

        File.Move(temp, path, overwrite: true);
        return path;
    }
}
