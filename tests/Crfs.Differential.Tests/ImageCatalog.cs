// SPDX-License-Identifier: MIT
using System.Collections.Concurrent;
using Crfs.Testing;

// Loop mounts of one image must not overlap and the machine has two cores: one test at a time.
[assembly: CollectionBehavior(DisableTestParallelization = true)]

namespace Crfs.Differential.Tests;

/// <summary>An image of the corpus with the kernel's view of it: the oracle every test compares with.</summary>
public sealed class PreparedImage
{
    public required ImageRecipe Recipe { get; init; }

    public required string Path { get; init; }

    /// <summary>The manifest of a read-only kernel mount of the whole image (subvolumes included).</summary>
    public required TreeManifest KernelManifest { get; init; }

    public override string ToString() => Recipe.Name;
}

/// <summary>
/// Shared by every test class of the assembly: builds (or finds in the cache) each image once and
/// captures the kernel's manifest of it once, on first use, so a test run mounts each image once.
/// </summary>
public sealed class ImageCatalog : IDisposable
{
    private readonly ConcurrentDictionary<string, Lazy<PreparedImage>> _images = new();
    private readonly Lazy<ScratchBtrfs> _scratch = new(() => new ScratchBtrfs());

    public static void SkipUnlessAvailable()
    {
        Skip.IfNot(Capabilities.CanLoopMountBtrfs, "needs root, mkfs.btrfs and loop-mountable btrfs");
        Skip.IfNot(File.Exists(CrfsCli.DllPath), $"crfs CLI not built at {CrfsCli.DllPath}");
    }

    /// <summary>
    /// Where copies go: a btrfs of its own, because only btrfs holds everything a btrfs image may
    /// contain (ext4 allows 4 KiB of xattrs per inode).
    /// </summary>
    public ScratchBtrfs Scratch => _scratch.Value;

    public PreparedImage Get(string name) =>
        _images.GetOrAdd(name, n => new Lazy<PreparedImage>(() => Prepare(StandardImages.ByName(n)))).Value;

    private static PreparedImage Prepare(ImageRecipe recipe)
    {
        string path = BtrfsImages.Get(recipe);
        using LoopMount mount = LoopMount.Mount(path, readOnly: true);
        return new PreparedImage { Recipe = recipe, Path = path, KernelManifest = TreeManifest.Capture(mount.MountPoint) };
    }

    public void Dispose()
    {
        if (_scratch.IsValueCreated)
        {
            _scratch.Value.Dispose();
        }
    }
}

[CollectionDefinition(Name)]
public sealed class ImageCollection : ICollectionFixture<ImageCatalog>
{
    public const string Name = "btrfs images";
}
