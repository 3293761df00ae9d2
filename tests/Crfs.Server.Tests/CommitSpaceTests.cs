// SPDX-License-Identifier: MIT
using Crfs.Client.Session;
using Crfs.FileSystem;
using Crfs.Posix;

namespace Crfs.Server.Tests;

/// <summary>
/// The space a COMMIT reserves is counted from the tree, not a per-item worst case: a batch the
/// size of a few seconds of untar fits a volume as small as <c>crfs up</c>'s default, and what the
/// batch wrote passes <c>btrfs check</c>.
/// </summary>
public sealed class CommitSpaceTests
{
    private const int Directories = 20;
    private const int FilesPerDirectory = 150;

    [SkippableFact]
    public async Task OneBatchOfThousandsOfFiles_OnA128MiBVolume_CommitsAndChecksClean()
    {
        Skip.IfNot(BtrfsCheck.Available, "needs btrfs-progs");
        await using ServerFixture fixture = ServerFixture.Create(128);
        await using (FsClient client = await FsClient.ConnectAsync(fixture.Server, OneBatch))
        {
            await CreateTreeAsync(client);
            long commitsBefore = client.Session.Counters.Commits;
            Assert.Equal(Errno.Ok, await client.Fs.SyncAsync());
            Assert.Equal(commitsBefore + 1, client.Session.Counters.Commits);
        }

        await fixture.StopAsync();
        BtrfsCheck.AssertClean(fixture.ImagePath, "after one batch of 3,000 files:");
    }

    /// <summary>An <c>rm -rf</c> in one batch: the extents it frees are counted on their own paths, not per inode.</summary>
    [SkippableFact]
    public async Task OneBatchDeletingThousandsOfFiles_OnA128MiBVolume_CommitsAndChecksClean()
    {
        Skip.IfNot(BtrfsCheck.Available, "needs btrfs-progs");
        await using ServerFixture fixture = ServerFixture.Create(128);
        await using (FsClient client = await FsClient.ConnectAsync(fixture.Server, OneBatch))
        {
            await CreateTreeAsync(client);
            Assert.Equal(Errno.Ok, await client.Fs.SyncAsync());
            for (int d = 0; d < Directories; d++)
            {
                FsResult<InodeAttributes> dir = await client.Fs.LookupAsync(Caller.Root, FsClient.RootIno, FsClient.N($"d{d}"));
                Assert.True(dir.IsOk, $"lookup d{d}: {dir.Error}");
                for (int f = 0; f < FilesPerDirectory; f++)
                {
                    Assert.Equal(Errno.Ok, await client.Fs.UnlinkAsync(Caller.Root, dir.Value.Ino, FsClient.N($"file-{f}.c")));
                }

                Assert.Equal(Errno.Ok, await client.Fs.RmDirAsync(Caller.Root, FsClient.RootIno, FsClient.N($"d{d}")));
            }

            long commitsBefore = client.Session.Counters.Commits;
            Assert.Equal(Errno.Ok, await client.Fs.SyncAsync());
            Assert.Equal(commitsBefore + 1, client.Session.Counters.Commits);
        }

        await fixture.StopAsync();
        BtrfsCheck.AssertClean(fixture.ImagePath, "after deleting 3,000 files in one batch:");
    }

    private static CrfsSessionOptions OneBatch => new() { CommitInterval = TimeSpan.FromHours(1), DirtyLimit = 1L << 30 };

    private static async Task CreateTreeAsync(FsClient client)
    {
        for (int d = 0; d < Directories; d++)
        {
            FsResult<InodeAttributes> dir = await client.Fs.MkDirAsync(Caller.Root, FsClient.RootIno, FsClient.N($"d{d}"), 0x1ED);
            Assert.True(dir.IsOk, $"mkdir d{d}: {dir.Error}");
            for (int f = 0; f < FilesPerDirectory; f++)
            {
                FsResult<OpenedFile> file = await client.Fs.CreateAndOpenAsync(Caller.Root, dir.Value.Ino, FsClient.N($"file-{f}.c"), 0x1A4, OpenFlags.ReadWrite);
                Assert.True(file.IsOk, $"create d{d}/file-{f}.c: {file.Error}");
                Assert.True((await client.Fs.WriteAsync(Caller.Root, file.Value.Handle, 0, new byte[200 + (f * 37)])).IsOk);
                Assert.Equal(Errno.Ok, await client.Fs.ReleaseAsync(file.Value.Handle));
            }
        }
    }
}
