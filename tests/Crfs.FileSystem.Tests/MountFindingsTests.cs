// SPDX-License-Identifier: MIT
using Crfs.Posix;

namespace Crfs.FileSystem.Tests;

/// <summary>
/// The rules the POSIX suite through a real mount (tests/Crfs.Mount.Tests/Posix) found missing,
/// pinned here without a kernel: access(2), the kernel's set-id-clearing chmod on behalf of a
/// writer, O_TRUNC by a non-owner, and st_blocks of sparse files.
/// </summary>
public sealed class MountFindingsTests : FileSystemTestBase
{
    [Fact]
    public async Task Access_ChecksModeBitsForTheCaller_RootNeedsAnXBitToExecute()
    {
        ulong home = await MkDirAsync(Root, RootIno, "home", 0x1FF);
        ulong f = await CreateAsync(Root, home, "f", 0x1A4);

        Assert.Equal(Errno.Ok, await Fs.AccessAsync(Alice, f, 4));
        Assert.Equal(Errno.EACCES, await Fs.AccessAsync(Alice, f, 2));
        Assert.Equal(Errno.Ok, await Fs.AccessAsync(Alice, f, 0));
        Assert.Equal(Errno.Ok, await Fs.AccessAsync(Root, f, 6));
        Assert.Equal(Errno.EACCES, await Fs.AccessAsync(Root, f, 1));
        Assert.Equal(Errno.Ok, await Fs.AccessAsync(Alice, home, 7));
    }

    [Fact]
    public async Task Access_SupplementaryGroupGrantsGroupBits()
    {
        ulong home = await MkDirAsync(Root, RootIno, "home", 0x1FF);
        ulong f = await CreateAsync(Root, home, "f", 0x1A0);
        Assert.Equal(Errno.Ok, (await Fs.SetAttrAsync(Root, f, new SetAttributes { Gid = 2000 })).Error);

        Assert.Equal(Errno.EACCES, await Fs.AccessAsync(Alice, f, 4));
        Assert.Equal(Errno.Ok, await Fs.AccessAsync(Alice with { SupplementaryGroups = [2000] }, f, 4));
    }

    [Fact]
    public async Task Chmod_ByAWriterThatOnlyDropsSetIdBits_IsAllowed_AnyOtherChangeIsEPERM()
    {
        ulong home = await MkDirAsync(Root, RootIno, "home", 0x1FF);
        ulong f = await CreateAsync(Root, home, "f", 0xDFF); // 6777

        Assert.Equal(Errno.EPERM, (await Fs.SetAttrAsync(Alice, f, new SetAttributes { Mode = 0x1FE })).Error);
        Assert.Equal(Errno.EPERM, (await Fs.SetAttrAsync(Alice, f, new SetAttributes { Mode = 0xDFF })).Error);
        FsResult<InodeAttributes> dropped = await Fs.SetAttrAsync(Alice, f, new SetAttributes { Mode = 0x1FF });

        Assert.Equal(Errno.Ok, dropped.Error);
        Assert.Equal(0x1FFu, dropped.Value.Mode & ModeBits.ChmodMask);
    }

    [Fact]
    public async Task Chmod_DroppingSetUidWithoutWritePermission_IsEPERM()
    {
        ulong home = await MkDirAsync(Root, RootIno, "home", 0x1FF);
        ulong f = await CreateAsync(Root, home, "f", 0x9A4); // 4644

        Assert.Equal(Errno.EPERM, (await Fs.SetAttrAsync(Alice, f, new SetAttributes { Mode = 0x1A4 })).Error);
    }

    [Fact]
    public async Task OpenTruncate_ByNonRoot_ClearsSetUid()
    {
        ulong home = await MkDirAsync(Root, RootIno, "home", 0x1FF);
        ulong f = await CreateAsync(Root, home, "f", 0x9B6); // 4666
        OpenedFile w = (await Fs.OpenAsync(Root, f, OpenFlags.WriteOnly)).Value;
        Assert.Equal(4, (await Fs.WriteAsync(Root, w.Handle, 0, "data"u8.ToArray())).Value);
        await Fs.ReleaseAsync(w.Handle);
        Assert.Equal(4ul, (await Fs.GetAttrAsync(f)).Value.Size);

        FsResult<OpenedFile> h = await Fs.OpenAsync(Alice, f, OpenFlags.WriteOnly | OpenFlags.Truncate);

        Assert.Equal(Errno.Ok, h.Error);
        Assert.Equal((0ul, 0x1B6u), (h.Value.Attributes.Size, h.Value.Attributes.Mode & ModeBits.ChmodMask));
        InodeAttributes after = (await Fs.GetAttrAsync(f)).Value;
        Assert.Equal((0ul, 0x1B6u), (after.Size, after.Mode & ModeBits.ChmodMask));
        await Fs.ReleaseAsync(h.Value.Handle);
    }

    [Fact]
    public async Task ReadDir_WithoutAttributes_ReportsEachEntrysType()
    {
        ulong d = await MkDirAsync(Root, RootIno, "d");
        await MkDirAsync(Root, d, "sub");
        await CreateAsync(Root, d, "file");
        Assert.Equal(Errno.Ok, (await Fs.SymlinkAsync(Root, d, N("link"), N("file"))).Error);
        Assert.Equal(Errno.Ok, (await Fs.MkNodAsync(Root, d, N("fifo"), 0x1000 | 0x1A4, 0)).Error);

        IReadOnlyList<DirectoryEntry> listed = (await Fs.ReadDirAsync(Root, d, 2, 100, plus: false)).Value!;

        Assert.Equal(
            [("sub", FileType.Directory), ("file", FileType.RegularFile), ("link", FileType.SymbolicLink), ("fifo", FileType.Fifo)],
            listed.Select(e => (System.Text.Encoding.UTF8.GetString(e.Name), e.Type)));
    }

    [Fact]
    public async Task SparseWriteAndTruncateUp_CountOnlyWrittenBlocks()
    {
        ulong f = await CreateAsync(Root, RootIno, "sparse");
        OpenedFile h = (await Fs.OpenAsync(Root, f, OpenFlags.ReadWrite)).Value;

        await Fs.WriteAsync(Root, h.Handle, 5UL << 30, new byte[10000]);
        Assert.Equal(Errno.Ok, (await Fs.SetAttrAsync(Root, f, new SetAttributes { Size = 6UL << 30 })).Error);

        InodeAttributes a = (await Fs.GetAttrAsync(f)).Value;
        Assert.Equal(6UL << 30, a.Size);
        Assert.InRange(a.Blocks, 10000UL / 512, 64UL);
        await Fs.ReleaseAsync(h.Handle);
    }
}
