// SPDX-License-Identifier: MIT
namespace Crfs.Testing;

/// <summary>
/// The image corpus of the differential tests (btrfs-format.md §9.2), by name. mkfs --rootdir
/// variants cover checksum algorithms, metadata profiles and node sizes; kernel-written ones
/// cover what mkfs cannot make: compression, subvolumes, snapshots, prealloc and partial extents.
/// </summary>
public static class StandardImages
{
    private static readonly SourceTreeOptions s_tree = new() { Seed = 1, MaxLengthSymlink = false };

    public static readonly ImageRecipe RootDirDefault = new() { Name = "rootdir-default", RootDir = s_tree };

    public static readonly ImageRecipe RootDirXxhash = new() { Name = "rootdir-xxhash", RootDir = s_tree, MkfsArguments = ["--csum", "xxhash"] };

    public static readonly ImageRecipe RootDirSha256 = new() { Name = "rootdir-sha256", RootDir = s_tree, MkfsArguments = ["--csum", "sha256"] };

    public static readonly ImageRecipe RootDirBlake2 = new() { Name = "rootdir-blake2", RootDir = s_tree, MkfsArguments = ["--csum", "blake2"] };

    public static readonly ImageRecipe RootDirMetadataSingle = new() { Name = "rootdir-msingle", RootDir = s_tree, MkfsArguments = ["-m", "single"] };

    public static readonly ImageRecipe RootDirNodeSize64K = new() { Name = "rootdir-n64k", RootDir = s_tree, MkfsArguments = ["-n", "65536"] };

    /// <summary>The 100,000-entry directory: a three-level fs tree. The most expensive image.</summary>
    public static readonly ImageRecipe RootDirHugeDirectory = new()
    {
        Name = "rootdir-huge",
        RootDir = new SourceTreeOptions { Seed = 2, HugeDirectoryEntries = 100_000, WideDirectoryEntries = 500, MaxLengthSymlink = false },
        SizeBytes = 1L << 30,
    };

    public static readonly ImageRecipe KernelPlain = Kernel("kernel-plain", "");

    public static readonly ImageRecipe KernelZlib = Kernel("kernel-zlib", "compress-force=zlib");

    public static readonly ImageRecipe KernelZstd = Kernel("kernel-zstd", "compress-force=zstd");

    public static readonly ImageRecipe KernelLzo = Kernel("kernel-lzo", "compress-force=lzo");

    public static IReadOnlyList<ImageRecipe> All { get; } =
    [
        RootDirDefault, RootDirXxhash, RootDirSha256, RootDirBlake2, RootDirMetadataSingle, RootDirNodeSize64K,
        RootDirHugeDirectory, KernelPlain, KernelZlib, KernelZstd, KernelLzo,
    ];

    public static ImageRecipe ByName(string name) =>
        All.FirstOrDefault(r => r.Name == name) ?? throw new ArgumentException($"no standard image named '{name}'", nameof(name));

    private static ImageRecipe Kernel(string name, string options) => new()
    {
        Name = name,
        KernelTree = new SourceTreeOptions { Seed = 3 },
        KernelMountOptions = options,
        KernelWorkload = true,
    };
}
