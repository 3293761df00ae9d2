// SPDX-License-Identifier: MIT
using System.Security.Cryptography;
using System.Text;

namespace Crfs.Testing;

/// <summary>
/// How to make one test image. Exactly one of <see cref="RootDir"/> (the tree is written by
/// <c>mkfs.btrfs --rootdir</c>) and <see cref="KernelTree"/> (the tree is written through a kernel
/// loop mount of a fresh <c>mkfs.btrfs</c> image) is set. The record's text is the cache key.
/// </summary>
public sealed record ImageRecipe
{
    public required string Name { get; init; }

    /// <summary>Extra mkfs.btrfs arguments, e.g. <c>["--csum", "xxhash"]</c>.</summary>
    public IReadOnlyList<string> MkfsArguments { get; init; } = [];

    /// <summary>Size of the (sparse) image file. Above 64 MiB + 4 KiB so the first superblock mirror exists.</summary>
    public long SizeBytes { get; init; } = 512L << 20;

    public SourceTreeOptions? RootDir { get; init; }

    public SourceTreeOptions? KernelTree { get; init; }

    /// <summary>Mount options while the kernel writes the tree, e.g. <c>compress-force=zstd</c>.</summary>
    public string KernelMountOptions { get; init; } = "";

    /// <summary>Whether <see cref="KernelWorkload"/> (subvolumes, snapshots, prealloc, punches, overwrites) runs too.</summary>
    public bool KernelWorkload { get; init; }

    public bool WrittenByKernel => KernelTree is not null;

    public SourceTreeOptions Tree => RootDir ?? KernelTree ?? throw new InvalidOperationException($"recipe {Name} has no tree");

    public string CacheKey()
    {
        string text = string.Join('|',
            Name,
            string.Join(' ', MkfsArguments),
            SizeBytes,
            RootDir?.ToString() ?? "-",
            KernelTree?.ToString() ?? "-",
            KernelMountOptions,
            KernelWorkload,
            $"tree v{SourceTree.Version}",
            $"workload v{Testing.KernelWorkload.Version}",
            BtrfsImages.ToolVersion);
        return Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes(text)))[..16];
    }
}

/// <summary>
/// Builds test images on demand and caches them under <c>/tmp/crfs-fixtures/</c> as
/// <c>NAME-HASH.img</c>, where the hash covers the recipe, the generator versions and the
/// btrfs-progs version. Each image is built under a temporary name and renamed into place while
/// a lock file is held, so racing test processes build it once and never see a half-written image.
/// Cached images are never modified: tests mount them read-only and corrupt only copies.
/// </summary>
public static class BtrfsImages
{
    public const string CacheDirectory = "/tmp/crfs-fixtures";

    private static readonly Lazy<string> s_toolVersion = new(() =>
        ProcessRunner.Run("mkfs.btrfs", "--version").StdOut.Trim());

    public static string ToolVersion => s_toolVersion.Value;

    /// <summary>The cached image for a recipe, built first if absent. Needs root, mkfs.btrfs and loop mounts.</summary>
    public static string Get(ImageRecipe recipe)
    {
        Directory.CreateDirectory(CacheDirectory);
        string path = Path.Combine(CacheDirectory, $"{recipe.Name}-{recipe.CacheKey()}.img");
        if (File.Exists(path))
        {
            return path;
        }

        using FileLock buildLock = FileLock.Acquire(FileLock.PathFor(path, "build"), TimeSpan.FromMinutes(15));
        if (File.Exists(path))
        {
            return path;
        }

        string temp = $"{path}.tmp-{Environment.ProcessId}";
        try
        {
            if (recipe.RootDir is not null)
            {
                BuildWithMkfsRootDir(recipe, temp);
            }
            else
            {
                BuildThroughKernel(recipe, temp);
            }

            // The oracle that the image itself is sound, before anything is compared with it.
            ProcessRunner.Run("btrfs", ["check", "--readonly", temp], TimeSpan.FromMinutes(5)).EnsureSuccess();
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            File.Delete(temp);
            File.Delete(FileLock.PathFor(temp, "mount"));
        }

        return path;
    }

    /// <summary>
    /// The recipe of the image that holds a source tree for mkfs --rootdir. The tree lives on btrfs
    /// because ext4 (the host's file system) cannot hold its xattrs: 4 KiB per inode at most.
    /// </summary>
    public static ImageRecipe SourceRecipe(SourceTreeOptions tree) => new()
    {
        Name = "source",
        KernelTree = tree,
        SizeBytes = Math.Max(512L << 20, tree.HugeDirectoryEntries * 8192L),
    };

    /// <summary>An empty volume: a new sparse file of <paramref name="sizeBytes"/> formatted by <c>mkfs.btrfs</c>.</summary>
    public static void MakeEmpty(string image, long sizeBytes, params string[] mkfsArguments)
    {
        using (FileStream f = File.Create(image))
        {
            f.SetLength(sizeBytes);
        }

        ProcessRunner.Run("mkfs.btrfs", ["-q", "-f", .. mkfsArguments, image], TimeSpan.FromMinutes(2)).EnsureSuccess();
    }

    /// <summary>A sparse copy of an image that a test may corrupt (and must not mount while the original is).</summary>
    public static void CopySparse(string image, string destination) =>
        ProcessRunner.Run("cp", ["--sparse=always", image, destination], TimeSpan.FromMinutes(5)).EnsureSuccess();

    private static void BuildWithMkfsRootDir(ImageRecipe recipe, string image)
    {
        string source = Get(SourceRecipe(recipe.RootDir!));
        using LoopMount mount = LoopMount.Mount(source, readOnly: true);
        ProcessRunner.Run("truncate", ["-s", recipe.SizeBytes.ToString(), image], TimeSpan.FromMinutes(1)).EnsureSuccess();
        ProcessRunner.Run("mkfs.btrfs", ["-f", .. recipe.MkfsArguments, "--rootdir", mount.MountPoint, image], TimeSpan.FromMinutes(10)).EnsureSuccess();
    }

    private static void BuildThroughKernel(ImageRecipe recipe, string image)
    {
        ProcessRunner.Run("truncate", ["-s", recipe.SizeBytes.ToString(), image], TimeSpan.FromMinutes(1)).EnsureSuccess();
        ProcessRunner.Run("mkfs.btrfs", ["-f", .. recipe.MkfsArguments, image], TimeSpan.FromMinutes(5)).EnsureSuccess();
        SourceTreeOptions tree = recipe.KernelTree!;
        using LoopMount mount = LoopMount.Mount(image, readOnly: false, recipe.KernelMountOptions);
        SourceTree.Populate(mount.MountPoint, tree);
        if (recipe.KernelWorkload)
        {
            KernelWorkload.Run(mount.MountPoint, tree.Seed);
        }

        SourceTree.StampTimes(mount.MountPoint, tree.Seed);
        if (recipe.KernelWorkload)
        {
            KernelWorkload.Snapshot(mount.MountPoint, tree.Seed);
        }

        ProcessRunner.Run("sync", ["-f", mount.MountPoint], TimeSpan.FromMinutes(5)).EnsureSuccess();
    }
}
