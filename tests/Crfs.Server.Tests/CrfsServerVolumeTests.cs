// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using Crfs.Format.Btrfs;
using Crfs.Format.Checksums;
using Crfs.Protocol.Messages;
using Crfs.Volume;
using Crfs.Volume.Files;

namespace Crfs.Server.Tests;

public sealed class CrfsServerVolumeTests
{
    private const long PrimarySuperblock = 64 * 1024;

    [Fact]
    public async Task Open_VolumeWithLogRootSet_IsRefusedNamingTheLogTree()
    {
        await using ServerFixture f = ServerFixture.Create();
        await f.StopAsync();
        SetLogRoot(f.ImagePath, 0x123_4000);

        UnsupportedVolumeException e = Assert.Throws<UnsupportedVolumeException>(() => CrfsServer.Open(f.ImagePath));

        Assert.Contains("log tree at 19087360", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task LastSessionEnding_ReclaimsOrphanedInodes()
    {
        await using ServerFixture f = ServerFixture.Create();
        ulong ino;
        await using (TestClient client = await f.ConnectAsync())
        {
            byte[] name = "doomed"u8.ToArray();
            (ino, _) = await CrfsServerItemTests.CreateFileAsync(client, name, new byte[20_000]);
            var orphans = new KeyRange(5, new BtrfsKey(ObjectIds.Orphan, 0, 0), new BtrfsKey(ObjectIds.Orphan, (ItemType)byte.MaxValue, ulong.MaxValue));
            await client.LockAsync(orphans, LockMode.WriteOnly);

            // The last unlink of a file still open: names gone, nlink 0, an ORPHAN_ITEM; the inode stays.
            byte[] parent = await ServerFixture.ReadInodeAsync(client, 256);
            new InodeItemWriter(parent).Size -= 2 * (ulong)name.Length;
            byte[] inode = await ServerFixture.ReadInodeAsync(client, ino);
            new InodeItemWriter(inode).Nlink = 0;
            LeafGroup dir = (await client.SendAsync(new ItemReadRequest(KeyRange.ForInodeGroup(5, 0), new BtrfsKey(256, ItemType.DirIndex, 0), 1 << 20))).Value.Group;
            BtrfsKey index = dir.Items.Single(i => i.Key.Type == ItemType.DirIndex && new DirItemView(i.Value.Span).Location.ObjectId == ino).Key;
            List<ItemOperation> unlink =
            [
                ItemOperation.Put(new BtrfsKey(256, ItemType.InodeItem, 0), parent),
                ItemOperation.Delete(new BtrfsKey(256, ItemType.DirItem, NameHash.DirItem(name))),
                ItemOperation.Delete(index),
                ItemOperation.Put(new BtrfsKey(ino, ItemType.InodeItem, 0), inode),
                ItemOperation.Delete(new BtrfsKey(ino, ItemType.InodeRef, 256)),
                ItemOperation.Put(new BtrfsKey(ObjectIds.Orphan, ItemType.OrphanItem, ino), ReadOnlyMemory<byte>.Empty),
            ];
            unlink.Sort((a, b) => a.Key.CompareTo(b.Key));
            Assert.True((await client.CommitAsync(unlink)).IsOk);

            Assert.True((await client.SendAsync(FarewellRequest.Instance)).IsOk);
        }

        await f.StopAsync();
        using BtrfsVolume volume = BtrfsVolume.Open([f.ImagePath]);
        Subvolume fs = volume.OpenDefaultSubvolume();
        Assert.False(fs.TryGetInode(ino, out _), $"orphan inode {ino} survived the end of the last session");
        Assert.False(fs.TryLookup(256, "doomed"u8, out _));
    }

    /// <summary>Sets log_root in the primary superblock and fixes its checksum (crc32c over [32, 4096)).</summary>
    private static void SetLogRoot(string image, ulong logRoot)
    {
        using var file = new FileStream(image, FileMode.Open, FileAccess.ReadWrite);
        byte[] sb = new byte[SuperblockLayout.Size];
        file.Position = PrimarySuperblock;
        file.ReadExactly(sb);
        BinaryPrimitives.WriteUInt64LittleEndian(sb.AsSpan(SuperblockLayout.LogRoot), logRoot);
        sb.AsSpan(0, HeaderLayout.CsumSize).Clear();
        BtrfsChecksum.Compute(ChecksumType.Crc32c, sb.AsSpan(HeaderLayout.CsumSize), sb.AsSpan(0, HeaderLayout.CsumSize));
        file.Position = PrimarySuperblock;
        file.Write(sb);
    }
}
