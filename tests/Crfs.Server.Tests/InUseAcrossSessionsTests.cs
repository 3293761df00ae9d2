// SPDX-License-Identifier: MIT
using Crfs.Posix;

namespace Crfs.Server.Tests;

/// <summary>
/// Open-but-unlinked files across clients: two real file-system clients of one server. The last
/// unlink keeps the inode as an orphan while any client uses it; the last user (or the server's
/// orphan scan, once the session that used it is gone) deletes it, and nothing is left behind.
/// </summary>
public sealed class InUseAcrossSessionsTests
{
    [Fact]
    public async Task UnlinkOnOneClient_WhileOpenOnAnother_KeepsItReadableThere_AndItsLastCloseDeletesIt()
    {
        await using ServerFixture f = ServerFixture.Create();
        ulong ino;
        await using (FsClient a = await FsClient.ConnectAsync(f.Server))
        await using (FsClient b = await FsClient.ConnectAsync(f.Server))
        {
            ino = await a.CreateAsync("shared", "still here");
            ulong handle = await b.OpenAsync("shared");

            await a.UnlinkAsync("shared");

            Assert.True(VolumeProbe.HasOrphanItem(f.Server, ino), $"inode {ino} open on B was deleted by A's unlink instead of orphaned");
            Assert.Equal("still here", await b.ReadAsync(handle));
            Assert.Equal(Errno.ENOENT, (await b.Fs.LookupAsync(Crfs.FileSystem.Caller.Root, FsClient.RootIno, FsClient.N("shared"))).Error);

            await b.CloseAsync(handle);

            Assert.False(VolumeProbe.HasInode(f.Server, ino), $"inode {ino} survived its last close");
            Assert.Equal(0, VolumeProbe.OrphanItemCount(f.Server));
        }

        await f.StopAsync();
        VolumeProbe.CheckIfAvailable(f.ImagePath);
    }

    [Fact]
    public async Task UnlinkOfAFileNobodyHasOpen_DeletesItAtOnce()
    {
        await using ServerFixture f = ServerFixture.Create();
        await using FsClient a = await FsClient.ConnectAsync(f.Server);
        await using FsClient b = await FsClient.ConnectAsync(f.Server);
        ulong ino = await a.CreateAsync("plain", "x");
        await b.CloseAsync(await b.OpenAsync("plain"));

        await a.UnlinkAsync("plain");

        Assert.False(VolumeProbe.HasInode(f.Server, ino));
        Assert.Equal(0, VolumeProbe.OrphanItemCount(f.Server));
    }

    [Fact]
    public async Task OpenOnBothClients_TheFirstLastCloseKeepsTheOrphan_TheSecondDeletesIt()
    {
        await using ServerFixture f = ServerFixture.Create();
        await using FsClient a = await FsClient.ConnectAsync(f.Server);
        await using FsClient b = await FsClient.ConnectAsync(f.Server);
        ulong ino = await a.CreateAsync("both", "data");
        ulong onA = await a.OpenAsync("both");
        ulong onB = await b.OpenAsync("both");

        await a.UnlinkAsync("both");
        await a.CloseAsync(onA);

        Assert.True(VolumeProbe.HasOrphanItem(f.Server, ino), $"inode {ino} still open on B was deleted by A's last close");
        Assert.Equal("data", await b.ReadAsync(onB));

        await b.CloseAsync(onB);

        Assert.False(VolumeProbe.HasInode(f.Server, ino));
        Assert.Equal(0, VolumeProbe.OrphanItemCount(f.Server));
    }

    [Fact]
    public async Task OrphanOfASessionThatEndsWithoutClosing_IsReclaimedByTheServer_UnlessAnotherClientStillUsesIt()
    {
        await using ServerFixture f = ServerFixture.Create();
        await using FsClient b = await FsClient.ConnectAsync(f.Server);
        ulong kept;
        ulong dropped;
        ulong onB;
        await using (FsClient a = await FsClient.ConnectAsync(f.Server))
        {
            kept = await a.CreateAsync("kept", "k");
            dropped = await a.CreateAsync("dropped", "d");
            onB = await b.OpenAsync("kept");
            await a.OpenAsync("kept");
            await a.OpenAsync("dropped");
            await a.UnlinkAsync("kept");
            await a.UnlinkAsync("dropped");
            Assert.Equal(2, VolumeProbe.OrphanItemCount(f.Server));
        } // A says farewell with both files still open: nobody will close them there

        await f.Server.OrphanScan;

        Assert.False(VolumeProbe.HasInode(f.Server, dropped), $"orphan {dropped} of the ended session was not reclaimed");
        Assert.True(VolumeProbe.HasOrphanItem(f.Server, kept), $"orphan {kept} still open on B was reclaimed");
        Assert.Equal("k", await b.ReadAsync(onB));

        await b.CloseAsync(onB);

        Assert.False(VolumeProbe.HasInode(f.Server, kept));
        Assert.Equal(0, VolumeProbe.OrphanItemCount(f.Server));
    }

    [Fact]
    public async Task OrphansLeftOnDisk_AreReclaimedAtStartUp()
    {
        await using ServerFixture f = ServerFixture.Create();
        ulong ino;
        await using (FsClient a = await FsClient.ConnectAsync(f.Server))
        {
            ino = await a.CreateAsync("left", "behind");
        }

        await f.Server.OrphanScan;

        // What a crash leaves: the name gone, the inode kept for a user that never closed it.
        Assert.Equal(Crfs.Volume.Files.WriteStatus.Ok, f.Server.Writer.Execute(tx =>
            new Crfs.Volume.Files.FileSystemWriter(Crfs.Format.Btrfs.ObjectIds.FsTree).Unlink(tx, FsClient.RootIno, FsClient.N("left"), stillOpen: true)));
        f.Server.Writer.Commit();
        Assert.True(VolumeProbe.HasOrphanItem(f.Server, ino));

        await f.RestartAsync();
        await f.Server.OrphanScan;

        Assert.False(VolumeProbe.HasInode(f.Server, ino), $"orphan {ino} survived the restart");
        Assert.Equal(0, VolumeProbe.OrphanItemCount(f.Server));
        await f.StopAsync();
        VolumeProbe.CheckIfAvailable(f.ImagePath);
    }
}
