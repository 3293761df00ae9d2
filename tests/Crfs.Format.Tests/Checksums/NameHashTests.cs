// SPDX-License-Identifier: MIT
using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;
using Crfs.Format.Checksums;
using Crfs.Testing;

namespace Crfs.Format.Tests.Checksums;

public partial class NameHashTests
{
    [Fact]
    public void DirItem_Default_IsTheValueMkfsWrites()
    {
        // Research note E3: the DIR_ITEM of "default" in the root tree has offset 2378154706.
        Assert.Equal(2378154706UL, NameHash.DirItem("default"u8));
    }

    [Fact]
    public void DirItem_IsRawCrcSeededWithNotOne_WithoutFinalInversion()
    {
        byte[] name = Encoding.ASCII.GetBytes("some-file.txt");

        Assert.Equal((ulong)Crc32C.Update(0xFFFFFFFE, name), NameHash.DirItem(name));
        Assert.NotEqual((ulong)Crc32C.Compute(name), NameHash.DirItem(name));
    }

    [Fact]
    public void InodeExtref_ParentAbove32Bits_UsesOnlyTheLowHalfAsSeed()
    {
        byte[] name = Encoding.ASCII.GetBytes("link");

        Assert.Equal(NameHash.InodeExtref(0x1_0000_0101, name), NameHash.InodeExtref(0x101, name));
        Assert.Equal((ulong)Crc32C.Update(0x101, name), NameHash.InodeExtref(0x101, name));
    }

    [SkippableFact]
    public void DirItem_MkfsRootdirImage_MatchesEveryDirItemAndXattrKey()
    {
        Skip.IfNot(Capabilities.HasMkfsBtrfs, "mkfs.btrfs is not installed");
        using var dir = new TempDirectory("crfs-namehash");
        string root = dir.Combine("root");
        Directory.CreateDirectory(root);
        string[] names = ["default", "a", "Makefile", "café", "日本語のファイル", "with space", new string('n', 255), "x.tar.gz"];
        foreach (string n in names)
        {
            File.WriteAllText(Path.Combine(root, n), n);
        }

        bool xattrs = ProcessRunner.CommandExists("setfattr");
        if (xattrs)
        {
            ProcessRunner.Run("setfattr", "-n", "user.crfs.test", "-v", "1", Path.Combine(root, "a")).EnsureSuccess();
        }

        string image = dir.Combine("names.img");
        BtrfsTool.Mkfs(image, $"--rootdir '{root}'");
        string dump = BtrfsTool.DumpTree(image, "fs");

        var seen = new List<string>();
        foreach ((_, ulong offset, string[] body) in BtrfsTool.Items(dump, "DIR_ITEM").Concat(BtrfsTool.Items(dump, "XATTR_ITEM")))
        {
            string name = NameLine().Match(string.Join('\n', body)).Groups[1].Value;
            Assert.True(offset == NameHash.DirItem(Encoding.UTF8.GetBytes(name)), $"key offset {offset} for name '{name}'");
            seen.Add(name);
        }

        Assert.Superset(names.ToHashSet(), seen.ToHashSet());
        if (xattrs)
        {
            Assert.Contains("user.crfs.test", seen);
        }
    }

    [SkippableFact]
    public void InodeExtref_KernelWrittenHardLinks_MatchesEveryExtrefKey()
    {
        Skip.IfNot(Capabilities.CanLoopMountBtrfs, "needs root, mkfs.btrfs and loop-mountable btrfs");
        using var dir = new TempDirectory("crfs-extref");
        string image = dir.Combine("extref.img");
        BtrfsTool.Mkfs(image);
        // ~220 names of 200 bytes overflow the INODE_REF item, so the kernel spills to INODE_EXTREF.
        BtrfsTool.WithMount(image, dir.Combine("mnt"),
            "mkdir $M/d && touch $M/d/f && for i in $(seq 1 120); do ln $M/d/f $M/d/$i-$(printf 'x%.0s' $(seq 1 200)); done");
        string dump = BtrfsTool.DumpTree(image, "fs");

        int checkedNames = 0;
        foreach ((_, ulong offset, string[] body) in BtrfsTool.Items(dump, "INODE_EXTREF"))
        {
            foreach (string line in body)
            {
                Match m = ExtrefLine().Match(line);
                if (!m.Success)
                {
                    continue;
                }

                ulong parent = ulong.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture);
                string name = m.Groups[2].Value;
                Assert.True(offset == NameHash.InodeExtref(parent, Encoding.UTF8.GetBytes(name)), $"extref key offset {offset} for parent {parent} name '{name}'");
                checkedNames++;
            }
        }

        Assert.True(checkedNames > 10, $"expected the kernel to write INODE_EXTREF items; found {checkedNames} names");
    }

    [GeneratedRegex(@"name: (.*)")]
    private static partial Regex NameLine();

    [GeneratedRegex(@"index \d+ parent (\d+) namelen \d+ name: (.*)")]
    private static partial Regex ExtrefLine();
}
