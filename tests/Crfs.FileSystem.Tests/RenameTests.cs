// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Posix;

namespace Crfs.FileSystem.Tests;

public sealed class RenameTests : FileSystemTestBase
{
    private async Task<ulong> LookupAsync(ulong parent, string name)
    {
        FsResult<InodeAttributes> r = await Fs.LookupAsync(Root, parent, N(name));
        return r.IsOk ? r.Value.Ino : 0;
    }

    [Fact]
    public async Task Rename_AcrossDirectories_MovesTheNameAndItsRef()
    {
        ulong a = await MkDirAsync(Root, RootIno, "a");
        ulong b = await MkDirAsync(Root, RootIno, "b");
        ulong f = await CreateAsync(Root, a, "f");

        Assert.Equal(Errno.Ok, await Fs.RenameAsync(Root, a, N("f"), b, N("g")));

        Assert.Equal(0ul, await LookupAsync(a, "f"));
        Assert.Equal(f, await LookupAsync(b, "g"));
        SortedDictionary<BtrfsKey, byte[]> tree = await CommittedAsync();
        Assert.Equal(0ul, Inode(tree, a).Size);
        Assert.Equal(2ul, Inode(tree, b).Size);
        Assert.False(tree.ContainsKey(new BtrfsKey(f, ItemType.InodeRef, a)));
        Assert.True(tree.ContainsKey(new BtrfsKey(f, ItemType.InodeRef, b)));
    }

    [Fact]
    public async Task Rename_OverAnExistingFile_DropsTheTarget()
    {
        ulong src = await CreateAsync(Root, RootIno, "src");
        ulong dst = await CreateAsync(Root, RootIno, "dst");

        Assert.Equal(Errno.Ok, await Fs.RenameAsync(Root, RootIno, N("src"), RootIno, N("dst")));

        Assert.Equal(src, await LookupAsync(RootIno, "dst"));
        SortedDictionary<BtrfsKey, byte[]> tree = await CommittedAsync();
        Assert.DoesNotContain(tree.Keys, k => k.ObjectId == dst);
        Assert.Equal(6ul, Inode(tree, RootIno).Size);
    }

    [Fact]
    public async Task Rename_NoReplaceOntoAnExistingName_FailsWithEExist()
    {
        await CreateAsync(Root, RootIno, "p");
        await CreateAsync(Root, RootIno, "q");

        Assert.Equal(Errno.EEXIST, await Fs.RenameAsync(Root, RootIno, N("p"), RootIno, N("q"), RenameFlags.NoReplace));
    }

    [Fact]
    public async Task Rename_Exchange_SwapsTheTwoEntries()
    {
        ulong dir = await MkDirAsync(Root, RootIno, "d");
        ulong file = await CreateAsync(Root, RootIno, "f");

        Assert.Equal(Errno.Ok, await Fs.RenameAsync(Root, RootIno, N("d"), RootIno, N("f"), RenameFlags.Exchange));

        Assert.Equal(file, await LookupAsync(RootIno, "d"));
        Assert.Equal(dir, await LookupAsync(RootIno, "f"));
        Assert.Equal(FileType.Directory, (await Fs.LookupAsync(Root, RootIno, N("f"))).Value.Type);
        await CommittedAsync();
    }

    [Fact]
    public async Task Rename_ExchangeWithAMissingTarget_FailsWithENoent()
    {
        await CreateAsync(Root, RootIno, "only");

        Assert.Equal(Errno.ENOENT, await Fs.RenameAsync(Root, RootIno, N("only"), RootIno, N("none"), RenameFlags.Exchange));
    }

    [Fact]
    public async Task Rename_DirectoryIntoItsOwnSubdirectory_FailsWithEInval()
    {
        ulong top = await MkDirAsync(Root, RootIno, "top");
        ulong sub = await MkDirAsync(Root, top, "sub");

        Assert.Equal(Errno.EINVAL, await Fs.RenameAsync(Root, RootIno, N("top"), sub, N("loop")));
    }

    [Fact]
    public async Task Rename_DirectoryOverANonEmptyDirectory_FailsWithENotEmpty()
    {
        await MkDirAsync(Root, RootIno, "a");
        ulong b = await MkDirAsync(Root, RootIno, "b");
        await CreateAsync(Root, b, "inside");

        Assert.Equal(Errno.ENOTEMPTY, await Fs.RenameAsync(Root, RootIno, N("a"), RootIno, N("b")));
        Assert.Equal(Errno.EISDIR, await Fs.RenameAsync(Root, b, N("inside"), RootIno, N("a")));
    }
}
