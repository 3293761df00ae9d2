// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Format.Checksums;
using Crfs.Testing;

namespace Crfs.Format.Tests.Btrfs;

/// <summary>
/// Real tree blocks for the checker tests, taken from a small <c>mkfs.btrfs --rootdir</c> image
/// with nothing but the Format views: the superblock's system chunk array locates the chunk
/// tree, whose chunk items locate everything else. Deliberately independent of Crfs.Volume.
/// </summary>
internal sealed class RealImage
{
    private readonly string _image;
    private readonly List<(ulong Start, ulong Length, ulong Physical)> _chunks = [];

    private RealImage(string image)
    {
        _image = image;
        Superblock = Read(0x10000, SuperblockLayout.Size);
        var sb = new SuperblockView(Superblock);
        foreach (SysChunkEntry e in new SysChunkArrayEnumerator(sb))
        {
            _chunks.Add((e.Key.Offset, e.Chunk.Length, e.Chunk.Stripe(0).Offset));
        }

        byte[] chunkRoot = Block(sb.ChunkRoot);
        var leaf = new LeafView(chunkRoot);
        for (int i = 0; i < leaf.NrItems; i++)
        {
            if (leaf.Key(i).Type == ItemType.ChunkItem)
            {
                var c = new ChunkItemView(leaf.ItemData(i));
                _chunks.Add((leaf.Key(i).Offset, c.Length, c.Stripe(0).Offset));
            }
        }

        ChunkLeaf = chunkRoot;
        RootLeaf = Block(sb.Root);
        var root = new LeafView(RootLeaf);
        for (int i = 0; i < root.NrItems; i++)
        {
            BtrfsKey key = root.Key(i);
            if (key.Type == ItemType.RootItem)
            {
                ulong bytenr = new RootItemView(root.ItemData(i)).Bytenr;
                if (key.ObjectId == ObjectIds.FsTree)
                {
                    FsLeaf = Block(bytenr);
                }
                else if (key.ObjectId == ObjectIds.ExtentTree)
                {
                    ExtentLeaf = Block(bytenr);
                }
                else if (key.ObjectId == ObjectIds.CsumTree)
                {
                    CsumLeaf = Block(bytenr);
                }
            }
        }
    }

    public byte[] Superblock { get; }

    public byte[] ChunkLeaf { get; }

    public byte[] RootLeaf { get; }

    public byte[] FsLeaf { get; } = [];

    public byte[] ExtentLeaf { get; } = [];

    public byte[] CsumLeaf { get; } = [];

    public SuperblockView SuperblockView => new(Superblock);

    public TreeBlockChecker Checker => TreeBlockChecker.ForSuperblock(SuperblockView);

    /// <summary>
    /// The shared image: a handful of files with xattrs, a symlink, a hard link, an inline file and a
    /// regular file, so that the fs-tree root leaf holds every common item type.
    /// </summary>
    public static RealImage Load()
    {
        string path = ReaderImages.RootDir("format-checker", 1, src =>
        {
            File.WriteAllText(Path.Combine(src, "small"), "hello");
            File.WriteAllBytes(Path.Combine(src, "regular"), new byte[20000]);
            Directory.CreateDirectory(Path.Combine(src, "dir"));
            File.CreateSymbolicLink(Path.Combine(src, "link"), "small");
            ProcessRunner.Run("ln", Path.Combine(src, "small"), Path.Combine(src, "dir", "hard")).EnsureSuccess();
            ProcessRunner.Run("setfattr", "-n", "user.colour", "-v", "blue", Path.Combine(src, "small")).EnsureSuccess();
        });
        return new RealImage(path);
    }

    public static bool CanBuild => Capabilities.HasMkfsBtrfs && ProcessRunner.CommandExists("setfattr");

    public byte[] Block(ulong logical)
    {
        foreach ((ulong start, ulong length, ulong physical) in _chunks)
        {
            if (logical >= start && logical < start + length)
            {
                int nodeSize = (int)SuperblockView.NodeSize;
                return Read((long)(physical + (logical - start)), nodeSize);
            }
        }

        throw new InvalidOperationException($"logical {logical} is not mapped");
    }

    private byte[] Read(long offset, int length)
    {
        using Microsoft.Win32.SafeHandles.SafeFileHandle handle = File.OpenHandle(_image);
        byte[] bytes = new byte[length];
        RandomAccess.Read(handle, bytes, offset);
        return bytes;
    }

    /// <summary>Recomputes a block's checksum after a test changed it, so later checks are reached.</summary>
    public void Reseal(byte[] block)
    {
        Span<byte> csum = stackalloc byte[BtrfsChecksum.MaxSize];
        BtrfsChecksum.Compute(SuperblockView.CsumType, block.AsSpan(HeaderLayout.Fsid), csum);
        block.AsSpan(0, HeaderLayout.CsumSize).Clear();
        csum[..BtrfsChecksum.Size(SuperblockView.CsumType)].CopyTo(block);
    }

    /// <summary>Recomputes a superblock copy's checksum.</summary>
    public static void ResealSuperblock(byte[] copy)
    {
        var sb = new SuperblockView(copy);
        Span<byte> csum = stackalloc byte[BtrfsChecksum.MaxSize];
        BtrfsChecksum.Compute(sb.CsumType, copy.AsSpan(SuperblockLayout.ChecksumStart, SuperblockLayout.Size - SuperblockLayout.ChecksumStart), csum);
        copy.AsSpan(0, 32).Clear();
        csum[..BtrfsChecksum.Size(sb.CsumType)].CopyTo(copy);
    }
}
