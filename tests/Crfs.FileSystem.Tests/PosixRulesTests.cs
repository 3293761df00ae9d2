// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Posix;

namespace Crfs.FileSystem.Tests;

public sealed class PosixRulesTests : FileSystemTestBase
{
    [Fact]
    public async Task Create_ErrorsFollowPosix()
    {
        ulong file = await CreateAsync(Root, RootIno, "f");
        ulong dir = await MkDirAsync(Root, RootIno, "d");
        await CreateAsync(Root, dir, "child");

        Assert.Equal(Errno.EEXIST, (await Fs.CreateAsync(Root, RootIno, N("f"), 0x1A4)).Error);
        Assert.Equal(Errno.ENOTDIR, (await Fs.CreateAsync(Root, file, N("x"), 0x1A4)).Error);
        Assert.Equal(Errno.ENAMETOOLONG, (await Fs.CreateAsync(Root, RootIno, new byte[256], 0x1A4)).Error);
        Assert.Equal(Errno.ENOENT, (await Fs.LookupAsync(Root, RootIno, N("missing"))).Error);
        Assert.Equal(Errno.EISDIR, await Fs.UnlinkAsync(Root, RootIno, N("d")));
        Assert.Equal(Errno.ENOTDIR, await Fs.RmDirAsync(Root, RootIno, N("f")));
        Assert.Equal(Errno.ENOTEMPTY, await Fs.RmDirAsync(Root, RootIno, N("d")));
        Assert.Equal(Errno.EPERM, (await Fs.LinkAsync(Root, dir, RootIno, N("dirlink"))).Error);
        Assert.Equal(Errno.EINVAL, (await Fs.ReadLinkAsync(file)).Error);
    }

    [Fact]
    public async Task NonOwner_CannotCreateInAnotherUsersDirectory()
    {
        Assert.Equal(Errno.EACCES, (await Fs.CreateAsync(Alice, RootIno, N("nope"), 0x1A4)).Error);
    }

    [Fact]
    public async Task StickyDirectory_OnlyTheOwnerOfAnEntryMayRemoveIt()
    {
        ulong tmp = await MkDirAsync(Root, RootIno, "tmp", 0x3FF);
        await CreateAsync(Alice, tmp, "alices");

        Assert.Equal(Errno.EPERM, await Fs.UnlinkAsync(Bob, tmp, N("alices")));
        Assert.Equal(Errno.EPERM, await Fs.RenameAsync(Bob, tmp, N("alices"), tmp, N("bobs")));
        Assert.Equal(Errno.Ok, await Fs.UnlinkAsync(Alice, tmp, N("alices")));
    }

    [Fact]
    public async Task Chmod_ByANonOwner_FailsWithEPerm_AndChownByTheOwnerClearsSetUid()
    {
        ulong home = await MkDirAsync(Root, RootIno, "home", 0x1FF);
        ulong f = await CreateAsync(Alice, home, "prog", 0x9ED);

        Assert.Equal(Errno.EPERM, (await Fs.SetAttrAsync(Bob, f, new SetAttributes { Mode = 0x1FF })).Error);
        Assert.Equal(Errno.EPERM, (await Fs.SetAttrAsync(Alice, f, new SetAttributes { Uid = 1001 })).Error);
        FsResult<InodeAttributes> chowned = await Fs.SetAttrAsync(Alice, f, new SetAttributes { Gid = 1000 });

        Assert.Equal(Errno.Ok, chowned.Error);
        Assert.Equal(0u, chowned.Value.Mode & ModeBits.SetUid);
    }

    [Fact]
    public async Task Write_ByANonRootUser_ClearsSetUid()
    {
        ulong home = await MkDirAsync(Root, RootIno, "home", 0x1FF);
        ulong f = await CreateAsync(Alice, home, "prog", 0x9ED);
        OpenedFile h = (await Fs.OpenAsync(Alice, f, OpenFlags.WriteOnly)).Value;

        Assert.Equal(1, (await Fs.WriteAsync(Alice, h.Handle, 0, new byte[] { 1 })).Value);

        Assert.Equal(0u, (await Fs.GetAttrAsync(f)).Value.Mode & ModeBits.SetUid);
        Assert.Equal(Errno.Ok, await Fs.ReleaseAsync(h.Handle));
    }

    [Fact]
    public async Task Utimens_ToNowNeedsWriteAccess_ExplicitTimesNeedOwnership()
    {
        ulong home = await MkDirAsync(Root, RootIno, "home", 0x1FF);
        ulong f = await CreateAsync(Alice, home, "shared", 0x1B6);

        Assert.Equal(Errno.Ok, (await Fs.SetAttrAsync(Bob, f, new SetAttributes { MtimeNow = true, AtimeNow = true })).Error);
        Assert.Equal(Errno.EPERM, (await Fs.SetAttrAsync(Bob, f, new SetAttributes { Mtime = new Timespec(5, 0) })).Error);
        FsResult<InodeAttributes> set = await Fs.SetAttrAsync(Alice, f, new SetAttributes { Mtime = new Timespec(5, 0) });
        Assert.Equal(new Timespec(5, 0), set.Value.Mtime);
    }

    [Fact]
    public async Task ReadDir_ListsDotDotDotThenEntriesInIndexOrder_WithResumableOffsets()
    {
        ulong d = await MkDirAsync(Root, RootIno, "d");
        foreach (string name in new[] { "c", "a", "b" })
        {
            await CreateAsync(Root, d, name);
        }

        IReadOnlyList<DirectoryEntry> all = (await Fs.ReadDirAsync(Root, d, 0, 100)).Value!;
        Assert.Equal([".", "..", "c", "a", "b"], all.Select(e => System.Text.Encoding.UTF8.GetString(e.Name)));
        Assert.Equal(RootIno, all[1].Ino);

        IReadOnlyList<DirectoryEntry> rest = (await Fs.ReadDirAsync(Root, d, all[2].NextOffset, 100, plus: true)).Value!;
        Assert.Equal(["a", "b"], rest.Select(e => System.Text.Encoding.UTF8.GetString(e.Name)));
        Assert.All(rest, e => Assert.Equal(FileType.RegularFile, e.Attributes!.Value.Type));

        Assert.Equal(Errno.Ok, await Fs.UnlinkAsync(Root, d, N("a")));
        IReadOnlyList<DirectoryEntry> afterUnlink = (await Fs.ReadDirAsync(Root, d, all[2].NextOffset, 100)).Value!;
        Assert.Equal(["b"], afterUnlink.Select(e => System.Text.Encoding.UTF8.GetString(e.Name)));
    }

    [Fact]
    public async Task UnlinkWhileOpen_KeepsTheFileReadableAsAnOrphan_UntilTheLastRelease()
    {
        ulong f = await CreateAsync(Root, RootIno, "open");
        OpenedFile h = (await Fs.OpenAsync(Root, f, OpenFlags.ReadWrite)).Value;
        await Fs.WriteAsync(Root, h.Handle, 0, "data"u8.ToArray());

        Assert.Equal(Errno.Ok, await Fs.UnlinkAsync(Root, RootIno, N("open")));
        SortedDictionary<BtrfsKey, byte[]> mid = await CommittedAsync();
        Assert.True(mid.ContainsKey(new BtrfsKey(ObjectIds.Orphan, ItemType.OrphanItem, f)));
        Assert.Equal(0u, Inode(mid, f).Nlink);
        Assert.Equal(Errno.ENOENT, (await Fs.LookupAsync(Root, RootIno, N("open"))).Error);

        Assert.Equal(4, (await Fs.WriteAsync(Root, h.Handle, 4, "more"u8.ToArray())).Value);
        Assert.Equal("datamore"u8.ToArray(), (await Fs.ReadAsync(h.Handle, 0, 100)).Value);
        Assert.Equal(Errno.Ok, await Fs.ReleaseAsync(h.Handle));

        SortedDictionary<BtrfsKey, byte[]> after = await CommittedAsync();
        Assert.DoesNotContain(after.Keys, k => k.ObjectId == f || k.ObjectId == ObjectIds.Orphan);
        Assert.False(Session.InUse.IsInUse(Fs.TreeId, f));
    }

    [Fact]
    public async Task WriteThenRead_SeesBufferedBytes_AndAfterCommitTheServerHasThem()
    {
        ulong f = await CreateAsync(Root, RootIno, "data");
        OpenedFile h = (await Fs.OpenAsync(Root, f, OpenFlags.ReadWrite)).Value;
        await Fs.WriteAsync(Root, h.Handle, 0, "hello"u8.ToArray());
        await Fs.WriteAsync(Root, h.Handle, 10, "world"u8.ToArray());

        Assert.Equal("hello\0\0\0\0\0world"u8.ToArray(), (await Fs.ReadAsync(h.Handle, 0, 100)).Value);
        Assert.Equal(15ul, (await Fs.GetAttrAsync(f)).Value.Size);
        await CommittedAsync();
        Assert.Equal("hello\0\0\0\0\0world"u8.ToArray(), Server.FileData(f));

        Assert.Equal(Errno.Ok, (await Fs.SetAttrAsync(Root, f, new SetAttributes { Size = 3 })).Error);
        Assert.Equal("hel"u8.ToArray(), (await Fs.ReadAsync(h.Handle, 0, 100)).Value);
        Assert.Equal(Errno.Ok, await Fs.FallocateAsync(h.Handle, CrfsFileSystem.FallocPunchHole | CrfsFileSystem.FallocKeepSize, 1, 1));
        Assert.Equal("h\0l"u8.ToArray(), (await Fs.ReadAsync(h.Handle, 0, 100)).Value);
        Assert.Equal(Errno.Ok, await Fs.ReleaseAsync(h.Handle));
    }

    [Fact]
    public async Task Statfs_ComesFromTheServer()
    {
        FsStatistics s = (await Fs.StatfsAsync()).Value;

        Assert.Equal(4096u, s.BlockSize);
        Assert.Equal(255u, s.NameMax);
    }
}
