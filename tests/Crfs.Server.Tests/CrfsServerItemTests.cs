// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Format.Checksums;
using Crfs.Protocol;
using Crfs.Protocol.Messages;
using Crfs.Volume;
using Crfs.Volume.Files;

namespace Crfs.Server.Tests;

public sealed class CrfsServerItemTests
{
    private static readonly KeyRange s_group0 = KeyRange.ForInodeGroup(5, 0);

    [Fact]
    public async Task ItemRead_WithReadLock_ReturnsRootDirectoryItemsClippedToTheGroup()
    {
        await using ServerFixture f = ServerFixture.Create();
        await using TestClient client = await f.ConnectAsync();
        await client.LockAsync(s_group0, LockMode.Read);

        Reply<ItemReadReply> reply = await client.SendAsync(new ItemReadRequest(s_group0, new BtrfsKey(256, ItemType.InodeItem, 0), 1 << 20));

        LeafGroup group = reply.Value.Group;
        Assert.Equal((s_group0.Start, s_group0.End), (group.Low, group.High));
        Assert.Contains(group.Items, i => i.Key == new BtrfsKey(256, ItemType.InodeItem, 0));
        Assert.All(group.Items, i => Assert.True(s_group0.Contains(5, i.Key), $"{i.Key} outside {s_group0}"));
    }

    [Fact]
    public async Task ItemRead_SmallBudget_ReturnsAWindowFromTheKeyThatStaysComplete()
    {
        await using ServerFixture f = ServerFixture.Create();
        await using TestClient client = await f.ConnectAsync();
        await client.LockAsync(s_group0, LockMode.Write);
        var key = new BtrfsKey(256, ItemType.InodeItem, 0);

        LeafGroup group = (await client.SendAsync(new ItemReadRequest(s_group0, key, 1))).Value.Group;

        Assert.Equal(key, group.Low);
        Assert.Equal(key, Assert.Single(group.Items).Key);
        Assert.True(group.High < s_group0.End);
    }

    [Fact]
    public async Task ItemRead_WithoutLock_IsRefusedNoLocks()
    {
        await using ServerFixture f = ServerFixture.Create();
        await using TestClient client = await f.ConnectAsync();

        Reply<ItemReadReply> reply = await client.SendAsync(new ItemReadRequest(s_group0, new BtrfsKey(256, ItemType.InodeItem, 0), 4096));

        Assert.Equal(WireError.NoLocks, reply.Status);
    }

    [Fact]
    public async Task AllocIno_TwoSessions_GetDisjointGroupAlignedLeasesAboveUsedNumbers()
    {
        await using ServerFixture f = ServerFixture.Create();
        await using TestClient a = await f.ConnectAsync();
        await using TestClient b = await f.ConnectAsync();

        AllocInoReply first = (await a.SendAsync(new AllocInoRequest(1, 5, InodeKind.File, 100))).Value;
        AllocInoReply second = (await b.SendAsync(new AllocInoRequest(1, 5, InodeKind.Directory, 5000))).Value;
        AllocInoReply repeated = (await a.SendAsync(new AllocInoRequest(1, 5, InodeKind.File, 100))).Value;

        Assert.Equal(0UL, first.Start % KeyRange.InodeGroupSize);
        Assert.Equal(0UL, second.Start % KeyRange.InodeGroupSize);
        Assert.True(first.Start > 256, "the root directory's number is in use");
        Assert.Equal(100U, first.Count);
        Assert.Equal((uint)KeyRange.InodeGroupSize, second.Count);
        Assert.NotEqual(first.Start / KeyRange.InodeGroupSize, second.Start / KeyRange.InodeGroupSize);
        Assert.Equal(first, repeated);
    }

    [Fact]
    public async Task Commit_CreateWithData_IsDurableAndVisibleToTheKernelFormatReader()
    {
        await using ServerFixture f = ServerFixture.Create();
        await using TestClient client = await f.ConnectAsync();
        byte[] content = [.. Enumerable.Range(0, 10_000).Select(i => (byte)(i * 7))];
        (ulong ino, CommitReply reply) = await CreateFileAsync(client, "hello.txt"u8.ToArray(), content);

        WireItem inode = reply.ServerItems.Single(i => i.Key == new BtrfsKey(ino, ItemType.InodeItem, 0));
        Assert.Equal(12288UL, new InodeItemView(inode.Value.Span).Nbytes);
        Assert.Contains(reply.ServerItems, i => i.Key.ObjectId == ino && i.Key.Type == ItemType.ExtentData);
        Reply<DataReadReply> read = await client.SendAsync(new DataReadRequest(5, ino, 9_000, 4096));
        Assert.Equal(content.AsSpan(9_000).ToArray(), read.Value.Data.ToArray());

        await f.StopAsync();
        using BtrfsVolume volume = BtrfsVolume.Open([f.ImagePath]);
        Subvolume fs = volume.OpenDefaultSubvolume();
        Assert.True(fs.TryLookup(256, "hello.txt"u8, out DirEntry entry));
        Assert.Equal(ino, entry.Location.ObjectId);
        byte[] back = new byte[content.Length];
        Assert.True(fs.TryRead(ino, 0, back, out int n));
        Assert.Equal(content.Length, n);
        Assert.Equal(content, back);
    }

    [Fact]
    public async Task DataRead_OverBytesThatNoLongerMatchTheirChecksums_IsRefusedIo()
    {
        await using ServerFixture f = ServerFixture.Create();
        await using TestClient client = await f.ConnectAsync();
        (ulong ino, CommitReply reply) = await CreateFileAsync(client, "rotting"u8.ToArray(), new byte[20_000]);
        ulong disk = new FileExtentItemView(reply.ServerItems.Single(i => i.Key.Type == ItemType.ExtentData).Value.Span).DiskBytenr;

        f.Server.Writer.Execute(tx =>
        {
            tx.WriteData(disk + 8192, new byte[] { 0xBA, 0xD0 });
            return true;
        });

        Assert.True((await client.SendAsync(new DataReadRequest(5, ino, 0, 4096))).IsOk, "the first sector is intact");
        Assert.Equal(WireError.Io, (await client.SendAsync(new DataReadRequest(5, ino, 4096, 8192))).Status);
    }

    [Fact]
    public async Task Commit_RepeatedOpSeq_AnswersTheRecordedResultWithoutReapplying()
    {
        await using ServerFixture f = ServerFixture.Create();
        await using TestClient client = await f.ConnectAsync();
        (ulong ino, _) = await CreateFileAsync(client, "once"u8.ToArray(), []);
        ulong generation = f.Server.Writer.Generation;
        List<ItemOperation> rename = [ItemOperation.Put(new BtrfsKey(ino, ItemType.InodeItem, 0), ClientItems.Inode(InodeMode.Regular | 0x1A4, 0))];
        var request = new CommitRequest(client.NextOpSeq(), 5, rename, []);

        Reply<CommitReply> applied = await client.SendAsync(request);
        ulong afterFirst = f.Server.Writer.Generation;
        Reply<CommitReply> duplicate = await client.SendAsync(request);

        Assert.True(applied.IsOk);
        Assert.True(afterFirst > generation);
        Assert.True(duplicate.IsOk);
        Assert.Equal(afterFirst, f.Server.Writer.Generation);
    }

    [Fact]
    public async Task OpSeq_SharedCounterAcrossStreams_IsAccepted_ButAnUnrecordedOldOneIsStale()
    {
        await using ServerFixture f = ServerFixture.Create();
        await using TestClient client = await f.ConnectAsync();
        await client.LockAsync(s_group0, LockMode.Write);
        byte[] root = await ServerFixture.ReadInodeAsync(client, 256);

        Reply<AllocInoReply> lease = await client.SendAsync(new AllocInoRequest(1, 5, InodeKind.File, 10));
        Reply<CommitReply> commit = await client.SendAsync(new CommitRequest(2, 5, [ItemOperation.Put(new BtrfsKey(256, ItemType.InodeItem, 0), root)], []));
        Reply<AllocInoReply> nextLease = await client.SendAsync(new AllocInoRequest(3, 5, InodeKind.File, 10));
        Reply<CommitReply> old = await client.SendAsync(new CommitRequest(1, 5, [ItemOperation.Put(new BtrfsKey(256, ItemType.InodeItem, 0), root)], []));

        Assert.True(lease.IsOk && commit.IsOk && nextLease.IsOk, $"{lease.Status} {commit.Status} {nextLease.Status}");
        Assert.NotEqual(lease.Value.Start, nextLease.Value.Start);
        Assert.Equal(WireError.Stale, old.Status);
    }

    [SkippableFact]
    public async Task Commit_SeriesOfCreatesWritesAndDeletes_LeavesAVolumeBtrfsCheckPasses()
    {
        Skip.IfNot(BtrfsCheck.Available, "needs btrfs-progs (btrfs check)");
        await using ServerFixture f = ServerFixture.Create();
        await using TestClient client = await f.ConnectAsync();
        var files = new List<(ulong Ino, byte[] Name)>();
        for (int i = 0; i < 6; i++)
        {
            byte[] name = System.Text.Encoding.ASCII.GetBytes($"file-{i}");
            byte[] data = new byte[i switch { 0 => 0, 1 => 100, 2 => 3000, _ => 40_000 * i }];
            new Random(i).NextBytes(data);
            (ulong ino, _) = await CreateFileAsync(client, name, data);
            files.Add((ino, name));
        }

        _ = await CreateFileAsync(client, "link"u8.ToArray(), "file-5"u8.ToArray(), symlink: true);

        // Truncate one, overwrite the middle of another, then unlink a third with its data.
        Assert.True((await client.CommitAsync([], [DataOperation.Truncate(files[4].Ino, 1000)])).IsOk);
        Assert.True((await client.CommitAsync([], [DataOperation.Write(files[5].Ino, 5000, new byte[9000])])).IsOk);
        Assert.True((await client.CommitAsync(await UnlinkAsync(client, files[3].Ino, files[3].Name), [])).IsOk);

        await f.StopAsync();
        BtrfsCheck.AssertClean(f.ImagePath, "after a series of COMMITs:");
    }

    [Fact]
    public async Task Commit_Symlink_StoresTheTargetAsItsInlineExtent()
    {
        await using ServerFixture f = ServerFixture.Create();
        await using TestClient client = await f.ConnectAsync();

        (ulong ino, CommitReply reply) = await CreateFileAsync(client, "to-etc"u8.ToArray(), "/etc/hostname"u8.ToArray(), symlink: true);

        Assert.Equal(13UL, new InodeItemView(reply.ServerItems.Single(i => i.Key.Type == ItemType.InodeItem && i.Key.ObjectId == ino).Value.Span).Nbytes);
        await f.StopAsync();
        using BtrfsVolume volume = BtrfsVolume.Open([f.ImagePath]);
        Assert.Equal("/etc/hostname"u8.ToArray(), volume.OpenDefaultSubvolume().ReadLink(ino));
    }

    [Fact]
    public async Task Commit_PipelinedFromTwoSessions_AllApplyInOrderAndBecomeDurable()
    {
        await using ServerFixture f = ServerFixture.Create();
        await using TestClient a = await f.ConnectAsync();
        await using TestClient b = await f.ConnectAsync();
        (ulong fa, _) = await CreateFileAsync(a, "a"u8.ToArray(), []);
        (ulong fb, _) = await CreateFileAsync(b, "b"u8.ToArray(), []);

        // Each session sends five writes at once; within a session they apply in op_seq order.
        var sent = new List<Task<Reply<CommitReply>>>();
        for (int i = 0; i < 5; i++)
        {
            sent.Add(a.CommitAsync([], [DataOperation.Write(fa, (ulong)i * 4096, Enumerable.Repeat((byte)('a' + i), 4096).ToArray())]));
            sent.Add(b.CommitAsync([], [DataOperation.Write(fb, 0, Enumerable.Repeat((byte)('0' + i), 100).ToArray())]));
        }

        Reply<CommitReply>[] replies = await Task.WhenAll(sent);

        Assert.All(replies, r => Assert.True(r.IsOk, r.Status.ToString()));
        byte[] dataA = (await a.SendAsync(new DataReadRequest(5, fa, 0, 5 * 4096))).Value.Data.ToArray();
        byte[] dataB = (await b.SendAsync(new DataReadRequest(5, fb, 0, 4096))).Value.Data.ToArray();
        Assert.Equal(Enumerable.Range(0, 5).SelectMany(i => Enumerable.Repeat((byte)('a' + i), 4096)), dataA);
        Assert.Equal(Enumerable.Repeat((byte)'4', 100), dataB);
    }

    [Fact]
    public async Task Commit_OutsideItsLocks_IsRefusedNoLocksAndTheVolumeIsUntouched()
    {
        await using ServerFixture f = ServerFixture.Create();
        await using TestClient client = await f.ConnectAsync();
        await client.LockAsync(s_group0, LockMode.Read);
        ulong generation = f.Server.Writer.Generation;
        byte[] parent = await ServerFixture.ReadInodeAsync(client, 256);

        Reply<CommitReply> reply = await client.CommitAsync(ClientItems.Create(256, parent, 300, 10, "x"u8.ToArray()));

        Assert.Equal(WireError.NoLocks, reply.Status);
        await f.Server.Writer.CommitAsync();
        Assert.Equal(generation, f.Server.Writer.Generation);
    }

    [Theory]
    [InlineData("short inode")]
    [InlineData("bad hash")]
    [InlineData("slash in name")]
    [InlineData("server-owned type")]
    [InlineData("huge item")]
    public async Task Commit_MalformedItem_IsRefusedInvalid_AndOtherSessionsCarryOn(string defect)
    {
        await using ServerFixture f = ServerFixture.Create();
        await using TestClient bad = await f.ConnectAsync();
        await using TestClient good = await f.ConnectAsync();
        await bad.LockAsync(s_group0, LockMode.Write);
        ulong generation = f.Server.Writer.Generation;
        var key = new BtrfsKey(300, ItemType.InodeItem, 0);
        ItemOperation op = defect switch
        {
            "short inode" => ItemOperation.Put(key, new byte[10]),
            "bad hash" => ItemOperation.Put(new BtrfsKey(256, ItemType.DirItem, 12345), ClientItems.DirEntry(300, DirEntryType.RegularFile, "x"u8)),
            "slash in name" => ItemOperation.Put(new BtrfsKey(256, ItemType.DirItem, NameHash.DirItem("a/b"u8)), ClientItems.DirEntry(300, DirEntryType.RegularFile, "a/b"u8)),
            "server-owned type" => ItemOperation.Put(new BtrfsKey(300, ItemType.ExtentData, 0), new byte[60]),
            _ => ItemOperation.Put(new BtrfsKey(300, ItemType.XattrItem, 1), new byte[20_000]),
        };

        Reply<CommitReply> reply = await bad.CommitAsync([op]);

        Assert.Equal(WireError.Invalid, reply.Status);
        Assert.True((await good.SendAsync(PingRequest.Instance)).IsOk);
        await good.LockAsync(KeyRange.ForInodeGroup(5, 4096), LockMode.Write);
        Assert.Equal(generation, f.Server.Writer.Generation);
    }

    /// <summary>Leases an inode, locks its group and the root's, and commits a create plus a write of <paramref name="data"/>.</summary>
    internal static async Task<(ulong Ino, CommitReply Reply)> CreateFileAsync(TestClient client, byte[] name, byte[] data, bool symlink = false)
    {
        AllocInoReply lease = (await client.SendAsync(new AllocInoRequest(client.NextInoSeq(), 5, InodeKind.File, 1))).Value;
        ulong ino = lease.Start;
        await client.LockAsync(s_group0, LockMode.Write);
        await client.LockAsync(KeyRange.ForInodeGroup(5, ino), LockMode.Write);
        byte[] parent = await ServerFixture.ReadInodeAsync(client, 256);
        ulong index = await NextIndexAsync(client);
        List<ItemOperation> items = ClientItems.Create(256, parent, ino, index, name, size: (ulong)data.Length, symlink: symlink);
        List<DataOperation> writes = data.Length == 0 ? [] : [DataOperation.Write(ino, 0, data)];

        Reply<CommitReply> reply = await client.CommitAsync(items, writes);

        Assert.True(reply.IsOk, $"COMMIT of create {System.Text.Encoding.ASCII.GetString(name)}: {reply.Status}");
        return (ino, reply.Value);
    }

    private static async Task<ulong> NextIndexAsync(TestClient client)
    {
        var from = new BtrfsKey(256, ItemType.DirIndex, 0);
        LeafGroup group = (await client.SendAsync(new ItemReadRequest(s_group0, from, 1 << 20))).Value.Group;
        return group.Items.Where(i => i.Key.ObjectId == 256 && i.Key.Type == ItemType.DirIndex).Select(i => i.Key.Offset + 1).DefaultIfEmpty(2UL).Max();
    }

    private static async Task<List<ItemOperation>> UnlinkAsync(TestClient client, ulong ino, byte[] name)
    {
        byte[] parent = await ServerFixture.ReadInodeAsync(client, 256);
        new InodeItemWriter(parent).Size -= 2 * (ulong)name.Length;
        LeafGroup group = (await client.SendAsync(new ItemReadRequest(s_group0, new BtrfsKey(256, ItemType.DirIndex, 0), 1 << 20))).Value.Group;
        WireItem index = group.Items.Single(i => i.Key.Type == ItemType.DirIndex && new DirItemView(i.Value.Span).Location.ObjectId == ino);
        List<ItemOperation> ops =
        [
            ItemOperation.Put(new BtrfsKey(256, ItemType.InodeItem, 0), parent),
            ItemOperation.Delete(new BtrfsKey(256, ItemType.DirItem, NameHash.DirItem(name))),
            ItemOperation.Delete(index.Key),
            ItemOperation.DeleteRange(new BtrfsKey(ino, 0, 0), new BtrfsKey(ino, (ItemType)byte.MaxValue, ulong.MaxValue)),
        ];
        ops.Sort((a, b) => a.Key.CompareTo(b.Key));
        return ops;
    }
}
