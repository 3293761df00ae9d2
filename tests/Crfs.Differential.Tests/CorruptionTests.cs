// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using System.Numerics;
using Crfs.Testing;
using Microsoft.Win32.SafeHandles;

namespace Crfs.Differential.Tests;

/// <summary>
/// Damaged copies of clean images. Where to damage is found with btrfs-progs (dump-tree,
/// btrfs-map-logical), never with the code under test. The contract: a bad copy of DUP metadata is
/// survived (same output, a warning naming the block), a block with no good copy left fails the
/// command with exit 1 and a one-line message naming its logical address, a bad primary superblock
/// falls back to a mirror, a bad data sector fails naming the inode, the file offset and both
/// checksums. Never a stack trace, never silently wrong data.
/// </summary>
[Collection(ImageCollection.Name)]
public sealed class CorruptionTests(ImageCatalog catalog)
{
    private const long SuperblockOffset = 65536;
    private const long FirstSuperblockMirror = 64L << 20;

    public enum Copies
    {
        First,
        Second,
        Both,
    }

    [SkippableTheory]
    [InlineData(Copies.First)]
    [InlineData(Copies.Second)]
    public void Get_OneCopyOfDupFsTreeLeafCorrupt_SucceedsWithIdenticalCopy(Copies copies)
    {
        ImageCatalog.SkipUnlessAvailable();
        PreparedImage img = catalog.Get(StandardImages.RootDirDefault.Name);
        using var bad = new DamagedImage(img.Path);
        TreeBlockInfo leaf = MiddleLeaf(img.Path);
        bad.CorruptTreeBlock(leaf.Logical, copies);

        CliResult r = GetWhole(img, bad.Path, out TreeManifest? copy);

        Assert.True(r.ExitCode == 0, r.Describe());
        TreeManifest.AssertSame(img.KernelManifest, copy!, ManifestFields.Settable, context: $"leaf {leaf.Logical} copy {copies} corrupt");
        if (copies == Copies.First)
        {
            Assert.True(r.StdErr.Contains(leaf.Logical.ToString(), StringComparison.Ordinal), $"no warning naming leaf {leaf.Logical}: {r.Describe()}");
        }
    }

    [SkippableFact]
    public void Get_BothCopiesOfDupFsTreeLeafCorrupt_ExitsOneNamingTheLogicalAddress()
    {
        ImageCatalog.SkipUnlessAvailable();
        PreparedImage img = catalog.Get(StandardImages.RootDirDefault.Name);
        using var bad = new DamagedImage(img.Path);
        TreeBlockInfo leaf = MiddleLeaf(img.Path);
        bad.CorruptTreeBlock(leaf.Logical, Copies.Both);

        AssertFailsNaming(GetWhole(img, bad.Path, out _), leaf.Logical.ToString());
    }

    [SkippableFact]
    public void Get_OneCopyOfDupFsTreeNodeCorrupt_SucceedsWithIdenticalCopyAndWarns()
    {
        ImageCatalog.SkipUnlessAvailable();
        PreparedImage img = catalog.Get(StandardImages.RootDirDefault.Name);
        using var bad = new DamagedImage(img.Path);
        TreeBlockInfo node = FsTreeRootNode(img.Path);
        bad.CorruptTreeBlock(node.Logical, Copies.First);

        CliResult r = GetWhole(img, bad.Path, out TreeManifest? copy);

        Assert.True(r.ExitCode == 0, r.Describe());
        TreeManifest.AssertSame(img.KernelManifest, copy!, ManifestFields.Settable, context: $"node {node.Logical} first copy corrupt");
        Assert.True(r.StdErr.Contains(node.Logical.ToString(), StringComparison.Ordinal), $"no warning naming node {node.Logical}: {r.Describe()}");
    }

    [SkippableFact]
    public void Get_BothCopiesOfDupFsTreeNodeCorrupt_ExitsOneNamingTheLogicalAddress()
    {
        ImageCatalog.SkipUnlessAvailable();
        PreparedImage img = catalog.Get(StandardImages.RootDirDefault.Name);
        using var bad = new DamagedImage(img.Path);
        TreeBlockInfo node = FsTreeRootNode(img.Path);
        bad.CorruptTreeBlock(node.Logical, Copies.Both);

        AssertFailsNaming(GetWhole(img, bad.Path, out _), node.Logical.ToString());
    }

    [SkippableFact]
    public void Get_SingleMetadataLeafCorrupt_ExitsOneNamingTheLogicalAddress()
    {
        ImageCatalog.SkipUnlessAvailable();
        PreparedImage img = catalog.Get(StandardImages.RootDirMetadataSingle.Name);
        using var bad = new DamagedImage(img.Path);
        TreeBlockInfo leaf = MiddleLeaf(img.Path);
        Assert.Single(BtrfsProgs.MapLogical(img.Path, leaf.Logical));
        bad.CorruptTreeBlock(leaf.Logical, Copies.First);

        AssertFailsNaming(GetWhole(img, bad.Path, out _), leaf.Logical.ToString());
    }

    [SkippableFact]
    public void Get_PrimarySuperblockCorrupt_UsesTheMirrorAndSaysSo()
    {
        ImageCatalog.SkipUnlessAvailable();
        PreparedImage img = catalog.Get(StandardImages.RootDirDefault.Name);
        using var bad = new DamagedImage(img.Path);

        // The generation (offset 0x48) made huge: a reader that skipped the checksum would prefer this copy.
        bad.Xor(SuperblockOffset + 0x48 + 6, 1);

        CliResult r = GetWhole(img, bad.Path, out TreeManifest? copy);

        Assert.True(r.ExitCode == 0, r.Describe());
        TreeManifest.AssertSame(img.KernelManifest, copy!, ManifestFields.Settable, context: "primary superblock corrupt");
        Assert.True(r.StdErr.Contains("superblock", StringComparison.OrdinalIgnoreCase) || r.StdErr.Contains("super block", StringComparison.OrdinalIgnoreCase),
            "no warning about the superblock: " + r.Describe());
    }

    [SkippableFact]
    public void Get_EverySuperblockCopyCorrupt_ExitsOneSayingSo()
    {
        ImageCatalog.SkipUnlessAvailable();
        PreparedImage img = catalog.Get(StandardImages.RootDirDefault.Name);
        using var bad = new DamagedImage(img.Path);
        bad.Xor(SuperblockOffset + 0x100, 4);
        bad.Xor(FirstSuperblockMirror + 0x100, 4);

        CliResult r = GetWhole(img, bad.Path, out _);

        CrfsCli.AssertNoCrash(r);
        Assert.True(r.ExitCode == 1, r.Describe());
        Assert.True(r.StdErr.Contains("superblock", StringComparison.OrdinalIgnoreCase) || r.StdErr.Contains("super block", StringComparison.OrdinalIgnoreCase),
            "message does not mention the superblock: " + r.Describe());
    }

    [SkippableFact]
    public void GetAndCat_DataSectorCorrupt_ExitOneNamingInodeOffsetAndBothChecksums()
    {
        ImageCatalog.SkipUnlessAvailable();
        PreparedImage img = catalog.Get(StandardImages.RootDirDefault.Name);
        const string File = "/sizes/random-1048576";
        const ulong FileOffset = 8192;
        ulong inode = img.KernelManifest[File].Identity.Inode;
        FileExtentInfo extent = Assert.Single(
            BtrfsProgs.FileExtents(img.Path, inode),
            e => e.FileOffset <= FileOffset && FileOffset < e.FileOffset + e.Bytes);
        Assert.True(extent is { Type: 1, Compression: 0 }, $"extent of {File} is not a plain regular one: {extent}");
        ulong logical = extent.DiskBytenr + extent.ExtentOffset + (FileOffset - extent.FileOffset);
        long physical = Assert.Single(BtrfsProgs.MapLogical(img.Path, logical));

        using var bad = new DamagedImage(img.Path);
        uint expected = Crc32C(bad.Read(physical, 4096));
        bad.Xor(physical + 100, 1);
        uint actual = Crc32C(bad.Read(physical, 4096));

        CliResult get = GetWhole(img, bad.Path, out _);
        CliResult cat = CrfsCli.Run("inspect", "cat", bad.Path, File);

        foreach (CliResult r in (CliResult[])[get, cat])
        {
            CrfsCli.AssertNoCrash(r);
            Assert.True(r.ExitCode == 1, r.Describe());
            Assert.True(r.StdErr.Contains(inode.ToString(), StringComparison.Ordinal), $"message does not name inode {inode}: {r.Describe()}");
            Assert.True(r.StdErr.Contains(FileOffset.ToString(), StringComparison.Ordinal), $"message does not name offset {FileOffset}: {r.Describe()}");
            Assert.True(MentionsChecksum(r.StdErr, expected), $"message does not show the expected checksum {expected:x8}: {r.Describe()}");
            Assert.True(MentionsChecksum(r.StdErr, actual), $"message does not show the actual checksum {actual:x8}: {r.Describe()}");
        }

        // Whatever cat wrote before failing, it did not write the damaged sector or anything after it.
        Assert.True(cat.StdOut.Length <= (int)FileOffset, $"cat wrote {cat.StdOut.Length} bytes, past the bad sector at {FileOffset}");
    }

    [SkippableFact]
    public void Get_CompressedDataSectorCorrupt_ExitsOneNamingTheInode()
    {
        // Checksums cover the compressed bytes on disk: the damage must be caught before decompression.
        ImageCatalog.SkipUnlessAvailable();
        PreparedImage img = catalog.Get(StandardImages.KernelZstd.Name);
        const string File = "/sizes/text-1048576";
        ulong inode = img.KernelManifest[File].Identity.Inode;
        FileExtentInfo extent = BtrfsProgs.FileExtents(img.Path, inode).First(e => e.Compression != 0 && e.DiskBytenr != 0);
        long physical = Assert.Single(BtrfsProgs.MapLogical(img.Path, extent.DiskBytenr));

        using var bad = new DamagedImage(img.Path);
        bad.Xor(physical + 10, 1);

        CliResult get = GetWhole(img, bad.Path, out _);
        CliResult cat = CrfsCli.Run("inspect", "cat", bad.Path, File);

        foreach (CliResult r in (CliResult[])[get, cat])
        {
            CrfsCli.AssertNoCrash(r);
            Assert.True(r.ExitCode == 1, r.Describe());
            Assert.True(r.StdErr.Contains(inode.ToString(), StringComparison.Ordinal), $"message does not name inode {inode}: {r.Describe()}");
        }

        Assert.True(cat.StdOut.LongLength <= (long)extent.FileOffset, $"cat wrote {cat.StdOut.Length} bytes, into the damaged extent at {extent.FileOffset}");
    }

    private CliResult GetWhole(PreparedImage img, string image, out TreeManifest? copy)
    {
        string dest = catalog.Scratch.NewPath();
        try
        {
            CliResult r = CrfsCli.Run("inspect", "get", image, "/", dest);
            CrfsCli.AssertNoCrash(r);
            copy = r.ExitCode == 0 ? TreeManifest.Capture(dest) : null;
            return r;
        }
        finally
        {
            catalog.Scratch.Delete(dest);
        }
    }

    private static void AssertFailsNaming(CliResult r, string what)
    {
        CrfsCli.AssertNoCrash(r);
        Assert.True(r.ExitCode == 1, r.Describe());
        Assert.True(r.StdErr.Contains(what, StringComparison.Ordinal), $"message does not name {what}: {r.Describe()}");
    }

    /// <summary>A leaf from the middle of the fs tree that every full copy must read (it holds inodes).</summary>
    private static TreeBlockInfo MiddleLeaf(string image)
    {
        List<TreeBlockInfo> leaves = [.. BtrfsProgs.TreeBlocks(image, "5").Where(b => b.Level == 0 && b.HoldsInodeItems)];
        Assert.True(leaves.Count > 2, $"fs tree of {image} has {leaves.Count} leaves");
        return leaves[leaves.Count / 2];
    }

    private static TreeBlockInfo FsTreeRootNode(string image)
    {
        TreeBlockInfo root = BtrfsProgs.TreeBlocks(image, "5")[0];
        Assert.True(root.Level > 0, $"fs tree root of {image} is a leaf");
        return root;
    }

    private static bool MentionsChecksum(string text, uint crc)
    {
        Span<byte> le = stackalloc byte[4];
        BinaryPrimitives.WriteUInt32LittleEndian(le, crc);
        return text.Contains($"{crc:x8}", StringComparison.OrdinalIgnoreCase)
            || text.Contains(Convert.ToHexString(le), StringComparison.OrdinalIgnoreCase);
    }

    /// <summary>CRC-32C as btrfs uses it (seed ~0, final complement).</summary>
    private static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = ~0u;
        foreach (byte b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return ~crc;
    }

    /// <summary>A sparse copy of an image in a temporary directory, for damaging. Never mounted.</summary>
    private sealed class DamagedImage : IDisposable
    {
        private readonly TempDirectory _dir = new("crfs-damaged");

        public DamagedImage(string image)
        {
            Original = image;
            Path = _dir.Combine("damaged.img");
            BtrfsImages.CopySparse(image, Path);
        }

        public string Original { get; }

        public string Path { get; }

        public byte[] Read(long offset, int length)
        {
            byte[] b = new byte[length];
            using SafeFileHandle h = File.OpenHandle(Path);
            Assert.Equal(length, RandomAccess.Read(h, b, offset));
            return b;
        }

        /// <summary>Inverts <paramref name="length"/> bytes: any checksum over them changes.</summary>
        public void Xor(long offset, int length)
        {
            byte[] b = Read(offset, length);
            for (int i = 0; i < b.Length; i++)
            {
                b[i] ^= 0xFF;
            }

            using SafeFileHandle h = File.OpenHandle(Path, FileMode.Open, FileAccess.Write);
            RandomAccess.Write(h, b, offset);
        }

        /// <summary>
        /// Damages the first key of a tree block (offset 0x66, inside the checksummed area) in the
        /// chosen copies, located with btrfs-map-logical on the original image.
        /// </summary>
        public void CorruptTreeBlock(ulong logical, Copies copies)
        {
            List<long> mirrors = BtrfsProgs.MapLogical(Original, logical);
            if (copies != Copies.First)
            {
                Assert.True(mirrors.Count == 2, $"logical {logical} has {mirrors.Count} copies, not 2");
            }

            for (int i = 0; i < mirrors.Count; i++)
            {
                if (copies == Copies.Both || (copies == Copies.First && i == 0) || (copies == Copies.Second && i == 1))
                {
                    Xor(mirrors[i] + 0x66, 8);
                }
            }
        }

        public void Dispose() => _dir.Dispose();
    }
}
