// SPDX-License-Identifier: MIT
using Crfs.Testing;

namespace Crfs.Differential.Tests;

/// <summary>
/// <c>crfs inspect get IMG PATH DEST</c> against the kernel: the copy the reader makes of an
/// unmounted image must have the manifest of a read-only kernel mount of the same image, field by
/// field: contents, modes, owners, atime and mtime to the nanosecond, xattrs, hard-link groups and
/// link counts, symlink targets, device numbers and holes. Only ctime is left out (no system call
/// sets it). Where mkfs --rootdir is inexact (§5.9) the kernel's view is still the truth.
/// </summary>
[Collection(ImageCollection.Name)]
public sealed class GetTests(ImageCatalog catalog)
{
    public static TheoryData<string> AllImages => [.. StandardImages.All.Select(r => r.Name)];

    public static TheoryData<string, string> Subtrees => new()
    {
        { "rootdir-default", "/links" },
        { "rootdir-default", "/names" },
        { "rootdir-default", "/sizes/mixed-5m" },
        { "rootdir-default", "/special/char-max" },
        { "rootdir-default", "/symlinks/long-4000" },
        { "kernel-plain", "/subvolumes" },
        { "kernel-plain", "/subvolumes/subvol-a/nested" },
        { "kernel-plain", "/kernel/prealloc-split" },
        { "kernel-zstd", "/kernel" },
        { "kernel-lzo", "/snapshots/snap-b" },
        { "kernel-zlib", "/sparse/hole-in-middle" },
    };

    [SkippableTheory]
    [MemberData(nameof(AllImages))]
    public void Get_WholeVolume_CopyHasTheKernelMountsManifest(string image)
    {
        ImageCatalog.SkipUnlessAvailable();
        PreparedImage img = catalog.Get(image);
        AssertCopyMatches(img, "/", img.KernelManifest);
    }

    [SkippableTheory]
    [MemberData(nameof(Subtrees))]
    public void Get_Subtree_CopyHasTheKernelMountsManifestOfThatSubtree(string image, string path)
    {
        ImageCatalog.SkipUnlessAvailable();
        PreparedImage img = catalog.Get(image);
        AssertCopyMatches(img, path, img.KernelManifest.Subtree(path));
    }

    [SkippableFact]
    public void Get_IntoAnExistingDirectory_FillsItWithTheContents()
    {
        // As with cp -a PATH/. DEST: the entries below PATH arrive; DEST keeps its own attributes.
        ImageCatalog.SkipUnlessAvailable();
        PreparedImage img = catalog.Get(StandardImages.KernelPlain.Name);
        string dest = catalog.Scratch.NewPath();
        Directory.CreateDirectory(dest);
        try
        {
            CliResult r = CrfsCli.Run("inspect", "get", img.Path, "/links", dest);
            CrfsCli.AssertNoCrash(r);
            Assert.True(r.ExitCode == 0, r.Describe());
            TreeManifest.AssertSame(img.KernelManifest.Subtree("/links"), TreeManifest.Capture(dest), ManifestFields.Settable,
                compareRoot: false, context: "kernel mount vs crfs inspect get into an existing directory");
        }
        finally
        {
            catalog.Scratch.Delete(dest);
        }
    }

    [SkippableFact]
    public void Get_PathNotInVolume_ExitsOneNamingThePath()
    {
        ImageCatalog.SkipUnlessAvailable();
        PreparedImage img = catalog.Get(StandardImages.RootDirDefault.Name);
        string dest = catalog.Scratch.NewPath();
        try
        {
            CliResult r = CrfsCli.Run("inspect", "get", img.Path, "/sizes/no-such-file", dest);
            CrfsCli.AssertNoCrash(r);
            Assert.True(r.ExitCode == 1, r.Describe());
            Assert.Contains("no-such-file", r.StdErr);
        }
        finally
        {
            catalog.Scratch.Delete(dest);
        }
    }

    private void AssertCopyMatches(PreparedImage img, string path, TreeManifest expected)
    {
        string dest = catalog.Scratch.NewPath();
        try
        {
            CliResult r = CrfsCli.Run("inspect", "get", img.Path, path, dest);
            CrfsCli.AssertNoCrash(r);
            Assert.True(r.ExitCode == 0, r.Describe());
            Assert.True(r.StdErrLines.Length == 0, "a clean image gave messages: " + r.Describe());
            TreeManifest.AssertSame(expected, TreeManifest.Capture(dest), ManifestFields.Settable,
                context: $"{img} {path}: kernel mount vs crfs inspect get");
        }
        finally
        {
            catalog.Scratch.Delete(dest);
        }
    }
}
