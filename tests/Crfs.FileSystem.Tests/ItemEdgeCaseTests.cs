// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Format.Checksums;
using Crfs.Posix;

namespace Crfs.FileSystem.Tests;

public sealed class ItemEdgeCaseTests : FileSystemTestBase
{
    /// <summary>Two distinct names whose DIR_ITEM hashes collide (found by a birthday search over "n{i}").</summary>
    private static (string, string) CollidingNames()
    {
        var seen = new Dictionary<ulong, string>();
        for (int i = 0; ; i++)
        {
            string name = $"n{i}";
            ulong hash = NameHash.DirItem(System.Text.Encoding.ASCII.GetBytes(name));
            if (seen.TryGetValue(hash, out string? other))
            {
                return (other, name);
            }

            seen.Add(hash, name);
        }
    }

    [Fact]
    public async Task NamesWithCollidingHashes_ShareOneDirItem_AndStayIndependentlyAddressable()
    {
        (string first, string second) = CollidingNames();
        ulong a = await CreateAsync(Root, RootIno, first);
        ulong b = await CreateAsync(Root, RootIno, second);

        SortedDictionary<BtrfsKey, byte[]> tree = await CommittedAsync();
        var shared = new BtrfsKey(RootIno, ItemType.DirItem, NameHash.DirItem(N(first)));
        int entries = 0;
        foreach (DirItemView _ in new DirItemEnumerator(tree[shared]))
        {
            entries++;
        }

        Assert.Equal(2, entries);
        Assert.Equal(Errno.Ok, await Fs.UnlinkAsync(Root, RootIno, N(first)));
        Assert.Equal(Errno.ENOENT, (await Fs.LookupAsync(Root, RootIno, N(first))).Error);
        Assert.Equal(b, (await Fs.LookupAsync(Root, RootIno, N(second))).Value.Ino);
        Assert.NotEqual(a, b);
        tree = await CommittedAsync();
        Assert.True(tree.ContainsKey(shared));
    }

    [Fact]
    public async Task ManyLongHardLinksInOneDirectory_OverflowIntoInodeExtrefs()
    {
        ulong ino = await CreateAsync(Root, RootIno, "base");
        for (int i = 0; i < 70; i++)
        {
            byte[] name = N($"{i:D3}-" + new string('x', 250));
            Assert.Equal(Errno.Ok, (await Fs.LinkAsync(Root, ino, RootIno, name)).Error);
        }

        SortedDictionary<BtrfsKey, byte[]> tree = await CommittedAsync();

        Assert.Equal(71u, Inode(tree, ino).Nlink);
        Assert.True(tree[new BtrfsKey(ino, ItemType.InodeRef, RootIno)].Length <= TreeBlockGeometry.MaxItemSize(16384));
        Assert.Contains(tree.Keys, k => k.ObjectId == ino && k.Type == ItemType.InodeExtref);
        Assert.Equal(Errno.Ok, await Fs.UnlinkAsync(Root, RootIno, N("069-" + new string('x', 250))));
        tree = await CommittedAsync();
        Assert.Equal(70u, Inode(tree, ino).Nlink);
    }
}
