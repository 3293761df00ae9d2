// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Posix;
using Crfs.Protocol;
using Crfs.Protocol.Framing;
using Crfs.Protocol.Messages;

namespace Crfs.FileSystem.Tests;

public sealed class CoherenceTests : FileSystemTestBase
{
    [Fact]
    public async Task RevokeOfTheRootGroup_CommitsTheCreate_ThenLookupsReadItBackFromTheServer()
    {
        ulong ino = await CreateAsync(Root, RootIno, "made-here");
        KeyRange rootGroup = KeyRange.ForInodeGroup(ObjectIds.FsTree, RootIno);
        long readsBefore = Session.Counters.RoundTrips(Command.ItemRead);

        Reply<RevokeReply> answer = await Server.RevokeAsync(rootGroup, LockMode.Write, LockMode.Null).WaitAsync(TimeSpan.FromSeconds(20));

        Assert.True(answer.IsOk);
        Assert.Single(Server.Commits);
        Assert.NotNull(Server.Item(new BtrfsKey(ino, ItemType.InodeItem, 0)));
        Assert.Empty(Server.Violations);

        FsResult<InodeAttributes> found = await Fs.LookupAsync(Root, RootIno, N("made-here"));
        Assert.Equal(ino, found.Value.Ino);
        Assert.True(Session.Counters.RoundTrips(Command.ItemRead) > readsBefore);
        Assert.True(Session.Counters.RoundTrips(Command.Lock) >= 2);
    }

    [Fact]
    public async Task RevokeToRead_KeepsTheCache_SoLookupsCostNothing()
    {
        await CreateAsync(Root, RootIno, "kept");
        KeyRange rootGroup = KeyRange.ForInodeGroup(ObjectIds.FsTree, RootIno);

        Assert.True((await Server.RevokeAsync(rootGroup, LockMode.Write, LockMode.Read).WaitAsync(TimeSpan.FromSeconds(20))).IsOk);
        long before = Session.Counters.TotalRoundTrips;

        Assert.Equal(Errno.Ok, (await Fs.LookupAsync(Root, RootIno, N("kept"))).Error);
        Assert.Equal(Errno.ENOENT, (await Fs.LookupAsync(Root, RootIno, N("other"))).Error);
        Assert.Equal(before, Session.Counters.TotalRoundTrips);
    }
}
