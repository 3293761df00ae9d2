// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Format.Checksums;
using Crfs.Posix;

namespace Crfs.FileSystem.Tests;

/// <summary>Golden item sets: which keys each namespace operation leaves on the server, with their fields.</summary>
public sealed class NamespaceItemTests : FileSystemTestBase
{
    private static BtrfsKey Key(ulong id, ItemType type, ulong offset = 0) => new(id, type, offset);

    private static List<BtrfsKey> KeysOf(SortedDictionary<BtrfsKey, byte[]> tree, params ulong[] objectIds) =>
        [.. tree.Keys.Where(k => objectIds.Contains(k.ObjectId) || k.ObjectId == ObjectIds.Orphan)];

    [Fact]
    public async Task Create_InTheRoot_ProducesExactlyInodeRefDirItemDirIndexAndTheUpdatedRoot()
    {
        ulong ino = await CreateAsync(Root, RootIno, "a.txt");

        SortedDictionary<BtrfsKey, byte[]> tree = await CommittedAsync();

        Assert.Equal(
            [
                Key(RootIno, ItemType.InodeItem),
                Key(RootIno, ItemType.InodeRef, RootIno),
                Key(RootIno, ItemType.DirItem, NameHash.DirItem("a.txt"u8)),
                Key(RootIno, ItemType.DirIndex, 2),
                Key(ino, ItemType.InodeItem),
                Key(ino, ItemType.InodeRef, RootIno),
            ],
            KeysOf(tree, RootIno, ino));
        InodeItem file = Inode(tree, ino);
        Assert.Equal(1u, file.Nlink);
        Assert.Equal(InodeMode.Regular | 0x1A4u, file.Mode);
        Assert.Equal(0ul, file.Size);
        Assert.Equal(10ul, Inode(tree, RootIno).Size);
        var index = new DirItemView(tree[Key(RootIno, ItemType.DirIndex, 2)]);
        Assert.Equal(Key(ino, ItemType.InodeItem), index.Location);
        Assert.Equal(DirEntryType.RegularFile, index.Type);
        Assert.True("a.txt"u8.SequenceEqual(index.Name));
        var iref = new InodeRefView(tree[Key(ino, ItemType.InodeRef, RootIno)]);
        Assert.Equal(2ul, iref.Index);
        Assert.True("a.txt"u8.SequenceEqual(iref.Name));
    }

    [Fact]
    public async Task Mkdir_GivesTheParentAGrowingIndexAndTwiceTheNameLengths()
    {
        ulong d = await MkDirAsync(Root, RootIno, "dir");
        ulong f = await CreateAsync(Root, d, "x");
        ulong g = await CreateAsync(Root, d, "yy");

        SortedDictionary<BtrfsKey, byte[]> tree = await CommittedAsync();

        Assert.Equal(InodeMode.Directory, Inode(tree, d).Mode & InodeMode.TypeMask);
        Assert.Equal(1u, Inode(tree, d).Nlink);
        Assert.Equal(6ul, Inode(tree, d).Size);
        Assert.True(tree.ContainsKey(Key(d, ItemType.DirIndex, 2)));
        Assert.True(tree.ContainsKey(Key(d, ItemType.DirIndex, 3)));
        Assert.Equal(Key(f, ItemType.InodeItem), new DirItemView(tree[Key(d, ItemType.DirIndex, 2)]).Location);
        Assert.Equal(Key(g, ItemType.InodeItem), new DirItemView(tree[Key(d, ItemType.DirIndex, 3)]).Location);
    }

    [Fact]
    public async Task Unlink_RemovesEveryItemOfTheNameAndTheInode()
    {
        ulong ino = await CreateAsync(Root, RootIno, "gone");
        Assert.Equal(Errno.Ok, await Fs.UnlinkAsync(Root, RootIno, N("gone")));

        SortedDictionary<BtrfsKey, byte[]> tree = await CommittedAsync();

        Assert.Equal([Key(RootIno, ItemType.InodeItem), Key(RootIno, ItemType.InodeRef, RootIno)], KeysOf(tree, RootIno, ino));
        Assert.Equal(0ul, Inode(tree, RootIno).Size);
    }

    [Fact]
    public async Task Link_AddsASecondRefEntryAndRaisesNlink()
    {
        ulong ino = await CreateAsync(Root, RootIno, "one");
        FsResult<InodeAttributes> linked = await Fs.LinkAsync(Root, ino, RootIno, N("two"));
        Assert.Equal(Errno.Ok, linked.Error);

        SortedDictionary<BtrfsKey, byte[]> tree = await CommittedAsync();

        Assert.Equal(2u, Inode(tree, ino).Nlink);
        var names = new List<string>();
        foreach (InodeRefView r in new InodeRefEnumerator(tree[Key(ino, ItemType.InodeRef, RootIno)]))
        {
            names.Add(System.Text.Encoding.UTF8.GetString(r.Name) + "@" + r.Index);
        }

        Assert.Equal(["one@2", "two@3"], names);
        Assert.Equal(12ul, Inode(tree, RootIno).Size);
    }

    [Fact]
    public async Task Symlink_SendsTheTargetAsOneWriteAtOffsetZero_AndReadLinkReturnsIt()
    {
        FsResult<InodeAttributes> made = await Fs.SymlinkAsync(Root, RootIno, N("ln"), N("../target"));
        Assert.Equal(Errno.Ok, made.Error);
        ulong ino = made.Value.Ino;

        Assert.Equal(N("../target"), (await Fs.ReadLinkAsync(ino)).Value);
        SortedDictionary<BtrfsKey, byte[]> tree = await CommittedAsync();

        // EXTENT_DATA is the server's to write (the real one refuses a client's); the target is data.
        Assert.False(tree.ContainsKey(Key(ino, ItemType.ExtentData, 0)));
        Assert.Equal(N("../target"), Server.FileData(ino));
        Assert.Equal(N("../target"), (await Fs.ReadLinkAsync(ino)).Value);
        Assert.Equal(9ul, Inode(tree, ino).Size);
        Assert.Equal(InodeMode.Symlink | 0x1FFu, Inode(tree, ino).Mode);
    }

    [Fact]
    public async Task SetXattr_CreateAndReplaceFlagsFollowXattr7()
    {
        ulong ino = await CreateAsync(Root, RootIno, "x");

        Assert.Equal(Errno.ENODATA, await Fs.SetXattrAsync(Root, ino, N("user.k"), N("v"), XattrSetMode.Replace));
        Assert.Equal(Errno.Ok, await Fs.SetXattrAsync(Root, ino, N("user.k"), N("v1"), XattrSetMode.Create));
        Assert.Equal(Errno.EEXIST, await Fs.SetXattrAsync(Root, ino, N("user.k"), N("v2"), XattrSetMode.Create));
        Assert.Equal(Errno.Ok, await Fs.SetXattrAsync(Root, ino, N("user.k"), N("v3"), XattrSetMode.Replace));
        Assert.Equal(Errno.Ok, await Fs.SetXattrAsync(Root, ino, N("user.j"), N("w")));

        Assert.Equal(N("v3"), (await Fs.GetXattrAsync(Root, ino, N("user.k"))).Value);
        Assert.Equal(N("user.j\0user.k\0").Order(), (await Fs.ListXattrAsync(ino)).Value!.Order());
        Assert.Equal(Errno.Ok, await Fs.RemoveXattrAsync(Root, ino, N("user.k")));
        Assert.Equal(Errno.ENODATA, (await Fs.GetXattrAsync(Root, ino, N("user.k"))).Error);
        SortedDictionary<BtrfsKey, byte[]> tree = await CommittedAsync();
        Assert.False(tree.ContainsKey(Key(ino, ItemType.XattrItem, NameHash.DirItem("user.k"u8))));
        Assert.True(tree.ContainsKey(Key(ino, ItemType.XattrItem, NameHash.DirItem("user.j"u8))));
    }
}
