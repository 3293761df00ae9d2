// SPDX-License-Identifier: MIT
using Crfs.Posix;
using Crfs.Protocol.Framing;

namespace Crfs.FileSystem.Tests;

/// <summary>The point of the design: metadata work in a fresh directory costs almost no round trips.</summary>
public sealed class RoundTripTests : FileSystemTestBase
{
    [Fact]
    public async Task ThousandCreatesInANewDirectory_CostAHandfulOfRoundTrips()
    {
        ulong dir = await MkDirAsync(Root, RootIno, "untar");
        long before = Session.Counters.TotalRoundTrips;

        for (int i = 0; i < 1000; i++)
        {
            FsResult<InodeAttributes> r = await Fs.CreateAsync(Root, dir, N($"file-{i:D4}"), 0x1A4);
            Assert.Equal(Errno.Ok, r.Error);
        }

        long spent = Session.Counters.TotalRoundTrips - before;
        Assert.True(spent <= 3, $"1000 creates cost {spent} round trips");
        Assert.Equal(0, Session.Counters.RoundTrips(Command.Commit));

        await CommittedAsync();
        Assert.Equal(1000, (await Fs.ReadDirAsync(Root, dir, 2, 5000)).Value!.Count);
    }

    [Fact]
    public async Task LookupOfAMissingNameInACachedDirectory_CostsNoRoundTrip()
    {
        ulong dir = await MkDirAsync(Root, RootIno, "d");
        long before = Session.Counters.TotalRoundTrips;

        for (int i = 0; i < 50; i++)
        {
            Assert.Equal(Errno.ENOENT, (await Fs.LookupAsync(Root, dir, N($"none-{i}"))).Error);
        }

        Assert.Equal(before, Session.Counters.TotalRoundTrips);
    }
}
