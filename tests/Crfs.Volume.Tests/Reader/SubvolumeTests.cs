// SPDX-License-Identifier: MIT
using System.Text;
using Crfs.Format.Btrfs;
using Crfs.Testing;
using Crfs.Volume.Files;
using Crfs.Volume.Trees;

namespace Crfs.Volume.Tests.Reader;

/// <summary>
/// The file-system reader over an image that <c>mkfs.btrfs --rootdir</c> made from
/// <see cref="SampleTree"/>: every answer is checked against the tree the image was made from.
/// </summary>
public sealed class SubvolumeTests : IDisposable
{
    private readonly BtrfsVolume? _volume;

    public SubvolumeTests()
    {
        if (Capabilities.HasMkfsBtrfs && ProcessRunner.CommandExists("setfattr"))
        {
            _volume = BtrfsVolume.Open([SampleTree.Image()]);
        }
    }

    private BtrfsVolume Volume
    {
        get
        {
            Skip.If(_volume is null, "needs mkfs.btrfs and setfattr");
            return _volume!;
        }
    }

    private Subvolume Root => Volume.OpenDefaultSubvolume();

    public void Dispose() => _volume?.Dispose();

    [SkippableFact]
    public void OpeningReadsTheSuperblockAndChunkTree()
    {
        BtrfsVolume v = Volume;
        Assert.Equal(16384, v.NodeSize);
        Assert.Equal(4096, v.SectorSize);
        Assert.Equal(ChecksumType.Crc32c, v.ChecksumType);
        Assert.True(v.ChunkMap.Chunks.Count >= 3, "data, system and metadata chunks");
        Assert.Contains(v.ChunkMap.Chunks, c => c.Profile == BlockGroupFlags.Dup && (c.Type & BlockGroupFlags.Metadata) != 0);
        Assert.Equal(ObjectIds.FsTree, v.DefaultSubvolumeId);
        Assert.NotNull(v.FindTree(ObjectIds.ExtentTree));
        Assert.Null(v.FindTree(ObjectIds.QuotaTree));
    }

    [SkippableFact]
    public void LookupFindsEveryTopLevelNameAndMissesOthers()
    {
        Subvolume root = Root;
        foreach ((string name, _) in SampleTree.Files)
        {
            Assert.True(root.TryLookup(root.RootDirectory, Encoding.ASCII.GetBytes(name), out DirEntry e), name);
            Assert.Equal(DirEntryType.RegularFile, e.Type);
            Assert.Equal(ItemType.InodeItem, e.Location.Type);
        }

        Assert.True(root.TryLookup(root.RootDirectory, "wide"u8, out DirEntry wide));
        Assert.Equal(DirEntryType.Directory, wide.Type);
        Assert.False(root.TryLookup(root.RootDirectory, "missing"u8, out _));
        Assert.False(root.TryLookup(root.RootDirectory, "small.tx"u8, out _));
    }

    [SkippableFact]
    public void LookupDistinguishesNamesWhoseHashesCollide()
    {
        Subvolume root = Root;
        (string a, string b) = SampleTree.CollidingNames();
        Assert.True(root.TryLookup(root.RootDirectory, "coll"u8, out DirEntry coll));
        Assert.True(root.TryLookup(coll.Target, Encoding.ASCII.GetBytes(a), out DirEntry ea));
        Assert.True(root.TryLookup(coll.Target, Encoding.ASCII.GetBytes(b), out DirEntry eb));
        Assert.NotEqual(ea.Target, eb.Target);
        Assert.Equal("A", ReadAll(root, ea.Target));
        Assert.Equal("B", ReadAll(root, eb.Target));

        // Both entries share one DIR_ITEM: the key is the hash.
        ulong hash = Crfs.Format.Checksums.NameHash.DirItem(Encoding.ASCII.GetBytes(a));
        Assert.True(root.Tree.TryGetItem(new BtrfsKey(coll.Target, ItemType.DirItem, hash), out TreeItem item));
        Assert.Equal(2, CountEntries(item.Data));
    }

    [SkippableFact]
    public void ReadDirectoryReturnsEveryEntryInIndexOrderAcrossLeaves()
    {
        Subvolume root = Root;
        Assert.True(root.TryLookup(root.RootDirectory, "wide"u8, out DirEntry wide));
        var entries = root.ReadDirectory(wide.Target).ToList();
        Assert.Equal(SampleTree.WideDirectoryFiles, entries.Count);
        Assert.Equal(
            Enumerable.Range(0, SampleTree.WideDirectoryFiles).Select(SampleTree.WideName).Order(StringComparer.Ordinal),
            entries.Select(e => Encoding.ASCII.GetString(e.Name)).Order(StringComparer.Ordinal));
        Assert.True(entries.Zip(entries.Skip(1)).All(p => p.First.Index < p.Second.Index), "DIR_INDEX order");

        // Resuming after an index continues exactly there.
        ulong middle = entries[300].Index;
        Assert.Equal(entries.Skip(301).Select(e => e.Index), root.ReadDirectory(wide.Target, middle).Select(e => e.Index));
    }

    [SkippableFact]
    public void WideDirectoryMadeATwoLevelTree()
    {
        Assert.True(Root.Tree.RootLevel >= 1, $"the fs tree root is at level {Root.Tree.RootLevel}");
    }

    [SkippableFact]
    public void HardLinksShareAnInodeAndListEveryNameIncludingExtrefs()
    {
        Subvolume root = Root;
        ulong small = Resolve("/small.txt").Inode;
        Assert.Equal(small, Resolve("/dir/hard1").Inode);
        Assert.Equal(small, Resolve("/dir/sub/hard2").Inode);
        Assert.True(root.TryGetInode(small, out InodeItem inode));
        Assert.Equal(3U, inode.Nlink);
        Assert.Equal(3, root.GetNames(small).Count);

        ulong odd = Resolve("/odd5000").Inode;
        IReadOnlyList<InodeName> names = root.GetNames(odd);
        Assert.Equal(SampleTree.LongLinks + 1, names.Count);
        ulong links = Resolve("/links").Inode;
        Assert.Equal(
            Enumerable.Range(0, SampleTree.LongLinks).Select(SampleTree.LongLinkName).Order(StringComparer.Ordinal),
            names.Where(n => n.Parent == links).Select(n => Encoding.ASCII.GetString(n.Name)).Order(StringComparer.Ordinal));
        Assert.True(root.Tree.TryGetFirstItem(odd, ItemType.InodeExtref, out _), "150 long names overflow INODE_REF into INODE_EXTREF");
        foreach (InodeName n in names)
        {
            Assert.True(root.TryLookup(n.Parent, n.Name, out DirEntry e));
            Assert.Equal(odd, e.Target);
        }
    }

    [SkippableFact]
    public void FileContentsMatchTheSourceWholeAndAtAnyOffset()
    {
        Subvolume root = Root;
        var random = new Random(7);
        foreach ((string name, int size) in SampleTree.Files)
        {
            ulong ino = Resolve("/" + name).Inode;
            byte[] expected = SampleTree.Content(name, size);
            byte[] all = new byte[size + 100];
            Assert.True(root.TryRead(ino, 0, all, out int n));
            Assert.Equal(size, n);
            Assert.True(all.AsSpan(0, n).SequenceEqual(expected), name);
            for (int i = 0; i < 20 && size > 0; i++)
            {
                int offset = random.Next(size);
                int length = random.Next(1, Math.Min(size - offset, 70000) + 1);
                byte[] part = new byte[length];
                Assert.True(root.TryRead(ino, offset, part, out int m));
                Assert.Equal(length, m);
                Assert.True(part.AsSpan().SequenceEqual(expected.AsSpan(offset, length)), $"{name} [{offset}, +{length})");
            }

            Assert.True(root.TryRead(ino, size, new byte[10], out int atEnd));
            Assert.Equal(0, atEnd);
        }
    }

    [SkippableFact]
    public void SparseFileReadsZerosBetweenItsData()
    {
        Subvolume root = Root;
        ulong ino = Resolve("/sparse").Inode;
        byte[] all = new byte[1 << 20];
        Assert.True(root.TryRead(ino, 0, all, out int n));
        Assert.Equal(1 << 20, n);
        byte[] expected = new byte[1 << 20];
        SampleTree.Content("sparse-a", 4096).CopyTo(expected, 0);
        SampleTree.Content("sparse-b", 4096).CopyTo(expected, 512 * 1024);
        Assert.True(all.AsSpan().SequenceEqual(expected));

        InodeSnapshot snap = root.LoadInode(ino)!;
        byte[] viaRange = new byte[8192];
        root.ReadRange(snap, (512 * 1024) - 4096, viaRange);
        Assert.True(viaRange.AsSpan().SequenceEqual(expected.AsSpan((512 * 1024) - 4096, 8192)));
    }

    [SkippableFact]
    public void SymlinksReadBackTheirTargetWithoutTheNulMkfsStores()
    {
        Subvolume root = Root;
        Assert.Equal("small.txt"u8.ToArray(), root.ReadLink(Resolve("/symlink").Inode));
        Assert.Equal(Enumerable.Repeat((byte)'L', 3000), root.ReadLink(Resolve("/longlink").Inode)!);
        Assert.True(root.TryGetInode(Resolve("/symlink").Inode, out InodeItem inode));
        Assert.True(InodeMode.IsSymlink(inode.Mode));
    }

    [SkippableFact]
    public void XattrsAreListedAndFoundByName()
    {
        Subvolume root = Root;
        ulong ino = Resolve("/small.txt").Inode;
        var xattrs = root.ListXattrs(ino).ToDictionary(x => Encoding.ASCII.GetString(x.Name), x => Encoding.ASCII.GetString(x.Value));
        Assert.Equal("1", xattrs["user.a"]);
        Assert.Equal(new string('v', 2000), xattrs["user.big"]);
        Assert.Equal("tt", xattrs["trusted.t"]);
        Assert.True(root.TryGetXattr(ino, "user.a"u8, out byte[] value));
        Assert.Equal("1"u8.ToArray(), value);
        Assert.False(root.TryGetXattr(ino, "user.nope"u8, out _));
        Assert.Equal(xattrs.Count, root.LoadInode(ino)!.Xattrs.Count);
    }

    [SkippableFact]
    public void InodeAttributesComeFromTheInodeItem()
    {
        Subvolume root = Root;
        Assert.True(root.TryGetInode(Resolve("/big300k").Inode, out InodeItem big));
        Assert.Equal(300UL * 1024, big.Size);
        Assert.Equal(300UL * 1024, big.Nbytes);
        Assert.True(InodeMode.IsRegular(big.Mode));
        Assert.True(root.TryGetInode(root.RootDirectory, out InodeItem dir));
        Assert.True(InodeMode.IsDirectory(dir.Mode));
        Assert.False(root.TryGetInode(123, out _));
    }

    [SkippableFact]
    public void PathsResolveLexicallyAndReportWhatFailed()
    {
        BtrfsVolume v = Volume;
        Assert.Equal(Resolve("/dir/sub/hard2").Inode, Resolve("dir/./sub/../sub//hard2").Inode);
        Assert.False(v.TryResolvePath("/dir/nope/x"u8, out _, out PathError error, out int failedAt));
        Assert.Equal(PathError.NotFound, error);
        Assert.Equal("/dir/nope".Length, failedAt);
        Assert.False(v.TryResolvePath("/small.txt/x"u8, out _, out error, out _));
        Assert.Equal(PathError.NotADirectory, error);
    }

    [SkippableFact]
    public void CursorWalksEveryItemInOrderBothWays()
    {
        BtrfsTree tree = Root.Tree;
        var forward = new List<BtrfsKey>();
        TreeCursor cursor = tree.OpenCursor();
        for (bool ok = cursor.SeekFirst(); ok; ok = cursor.MoveNext())
        {
            forward.Add(cursor.Key);
        }

        Assert.True(forward.Count > 1000);
        Assert.True(forward.Zip(forward.Skip(1)).All(p => p.First < p.Second), "strictly ascending");

        var backward = new List<BtrfsKey>();
        Assert.True(cursor.SeekLastAtOrBefore(BtrfsKey.Max));
        do
        {
            backward.Add(cursor.Key);
        }
        while (cursor.MovePrevious());
        backward.Reverse();
        Assert.Equal(forward, backward);

        // Every key is found exactly; its neighbours are one step away; a key between two items
        // lands on the lower one going back and the higher one going forward.
        for (int i = 0; i < forward.Count; i += 37)
        {
            Assert.True(cursor.Seek(forward[i]));
            Assert.Equal(forward[i], cursor.Key);
            Assert.True(cursor.SeekLastAtOrBefore(forward[i]));
            Assert.Equal(forward[i], cursor.Key);
            if (i > 0)
            {
                Assert.True(cursor.MovePrevious());
                Assert.Equal(forward[i - 1], cursor.Key);
            }

            if (i + 1 < forward.Count)
            {
                BtrfsKey between = forward[i].Next();
                if (between != forward[i + 1])
                {
                    Assert.True(cursor.SeekLastAtOrBefore(between));
                    Assert.Equal(forward[i], cursor.Key);
                    Assert.True(cursor.Seek(between));
                    Assert.Equal(forward[i + 1], cursor.Key);
                }
            }
        }

        Assert.False(cursor.Seek(BtrfsKey.Max));
        Assert.False(cursor.SeekLastAtOrBefore(BtrfsKey.Min) && cursor.Key != BtrfsKey.Min);
    }

    [SkippableFact]
    public void ListSubvolumesOfAFreshImageIsEmpty()
    {
        Assert.Empty(Volume.ListSubvolumes());
    }

    private ResolvedPath Resolve(string path)
    {
        Assert.True(Volume.TryResolvePath(Encoding.UTF8.GetBytes(path), out ResolvedPath r, out PathError error, out _), $"{path}: {error}");
        return r;
    }

    private static string ReadAll(Subvolume sv, ulong ino)
    {
        byte[] buffer = new byte[4096];
        Assert.True(sv.TryRead(ino, 0, buffer, out int n));
        return Encoding.ASCII.GetString(buffer, 0, n);
    }

    private static int CountEntries(ReadOnlySpan<byte> item)
    {
        int n = 0;
        foreach (DirItemView _ in new DirItemEnumerator(item))
        {
            n++;
        }

        return n;
    }
}
