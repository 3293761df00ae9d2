// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using System.Text;
using Crfs.Format.Btrfs;
using Crfs.Format.Checksums;
using Crfs.Testing;
using Crfs.Volume.Chunks;
using Crfs.Volume.Files;
using Crfs.Volume.Trees;
using Microsoft.Extensions.Logging;

namespace Crfs.Volume.Tests.Reader;

/// <summary>
/// Damage on disk, one kind at a time, on copies of the sample image: a bad copy of mirrored
/// metadata or data is reported and the good copy used; damage no copy repairs is an exception
/// that names the address (and, for data, the inode, file offset and both checksums).
/// </summary>
public sealed class CorruptionTests : IDisposable
{
    private readonly TempDirectory _dir = new("crfs-corruption");

    public void Dispose() => _dir.Dispose();

    [SkippableFact]
    public void OneBadCopyOfADupLeafIsReportedAndTheOtherCopyServesTheRead()
    {
        string image = Copy();
        (ulong logical, PhysicalLocation first, PhysicalLocation second, ulong ino) = FindLeafOf(image, "/small.txt");
        Flip(image, first.Offset + 3000);

        var bad = new List<BadCopyEventArgs>();
        using BtrfsVolume v = BtrfsVolume.Open([image], new VolumeOptions { BadCopyFound = bad.Add });
        Assert.True(v.OpenDefaultSubvolume().TryGetInode(ino, out InodeItem inode));
        Assert.Equal(5UL, inode.Size);
        BadCopyEventArgs e = Assert.Single(bad);
        Assert.Equal(("tree block", logical, 1), (e.Kind, e.Logical, e.Mirror));
        Assert.StartsWith("checksum mismatch", e.Fault);
        Assert.NotEqual(first.Offset, second.Offset);
    }

    [SkippableFact]
    public void BothCopiesBadThrowsNamingTheAddressAndEachCopysFault()
    {
        string image = Copy();
        (ulong logical, PhysicalLocation first, PhysicalLocation second, ulong ino) = FindLeafOf(image, "/small.txt");
        Flip(image, first.Offset + 3000);
        Flip(image, second.Offset + HeaderLayout.Bytenr); // a different fault on the second copy

        using BtrfsVolume v = BtrfsVolume.Open([image]);
        var e = Assert.Throws<CorruptBlockException>(() => v.OpenDefaultSubvolume().TryGetInode(ino, out _));
        Assert.Equal(logical, e.Logical);
        Assert.Equal(0, e.Mirror);
        Assert.StartsWith($"corrupt tree block {logical}: all 2 copies are bad: mirror 1: checksum mismatch", e.Message);
        Assert.Contains("; mirror 2: checksum mismatch", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [SkippableFact]
    public void FlippedDataSectorThrowsNamingInodeOffsetAndBothChecksums()
    {
        string image = Copy();
        ulong ino;
        ulong logical;
        PhysicalLocation physical;
        using (BtrfsVolume v = BtrfsVolume.Open([image]))
        {
            ino = Resolve(v, "/big300k").Inode;
            FileExtent extent = v.OpenDefaultSubvolume().LoadInode(ino)!.Extents[0];
            logical = extent.DiskBytenr + extent.Offset + 8192;
            physical = v.Reader.Locate(logical)!.Value;
        }

        Flip(image, physical.Offset + 10);
        using BtrfsVolume again = BtrfsVolume.Open([image]);
        Subvolume root = again.OpenDefaultSubvolume();

        // The sectors before the damage still read.
        Assert.True(root.TryRead(ino, 0, new byte[8192], out int n));
        Assert.Equal(8192, n);

        var e = Assert.Throws<DataChecksumException>(() => root.TryRead(ino, 8000, new byte[1000], out _));
        Assert.Equal((ObjectIds.FsTree, ino, 8192UL, logical), (e.Subvolume, e.Inode, e.FileOffset, e.Logical));
        Assert.NotNull(e.Expected);
        Assert.NotEqual(e.Expected, Assert.Single(e.Actual));
        Assert.Equal($"data checksum mismatch: subvolume 5 inode {ino} file offset 8192 (logical {logical}): expected 0x{e.Expected}, actual 0x{e.Actual[0]}", e.Message);
    }

    [SkippableFact]
    public void BadDupDataCopyIsReportedAndTheOtherCopyRead()
    {
        string image = ReaderImages.CopyToTemp(
            ReaderImages.RootDir("dup-data", 1, src => File.WriteAllBytes(Path.Combine(src, "data"), SampleTree.Content("dup", 100_000)), "-d", "dup"),
            _dir);
        ulong ino;
        ulong logical;
        PhysicalLocation first;
        using (BtrfsVolume v = BtrfsVolume.Open([image]))
        {
            ino = Resolve(v, "/data").Inode;
            logical = v.OpenDefaultSubvolume().LoadInode(ino)!.Extents[0].DiskBytenr + 4096;
            Assert.Equal(2, v.Reader.CopyCount(logical));
            first = v.Reader.Locate(logical, 1)!.Value;
        }

        Flip(image, first.Offset + 100);
        var bad = new List<BadCopyEventArgs>();
        using BtrfsVolume again = BtrfsVolume.Open([image], new VolumeOptions { BadCopyFound = bad.Add });
        byte[] all = new byte[100_000];
        Assert.True(again.OpenDefaultSubvolume().TryRead(ino, 0, all, out int n));
        Assert.Equal(100_000, n);
        Assert.True(all.AsSpan().SequenceEqual(SampleTree.Content("dup", 100_000)));
        BadCopyEventArgs e = Assert.Single(bad);
        Assert.Equal(("data", logical, 1), (e.Kind, e.Logical, e.Mirror));
    }

    [SkippableFact]
    public void BadPrimarySuperblockFallsBackToTheMirrorWithAWarning()
    {
        string image = Copy();
        Flip(image, 0x10000 + 200);
        var log = new ListLogger();
        using BtrfsVolume v = BtrfsVolume.Open([image], new VolumeOptions { Logger = log });
        Assert.Equal(1, v.Devices.Newest.SuperblockMirror);
        Assert.True(Resolve(v, "/small.txt").Inode > 0);
        string warning = Assert.Single(log.Messages);
        Assert.Contains("copy 0 at 65536: checksum mismatch", warning);
        Assert.Contains("using copy 1 at 67108864", warning);
    }

    [SkippableFact]
    public void NoValidSuperblockIsAnErrorListingEachCopy()
    {
        string image = Copy();
        Flip(image, 0x10000 + SuperblockLayout.Magic);
        Flip(image, 0x4000000 + 300);
        var e = Assert.Throws<InvalidDataException>(() => BtrfsVolume.Open([image]));
        Assert.Contains("no valid btrfs superblock on", e.Message);
        Assert.Contains("copy 0 at 65536: bad magic", e.Message);
        Assert.Contains("copy 1 at 67108864: checksum mismatch", e.Message);
    }

    [SkippableFact]
    public void UnknownIncompatFeatureIsRefusedNamingTheBits()
    {
        string image = Copy();
        byte[] csum = new byte[BtrfsChecksum.MaxSize];
        foreach (ulong offset in new[] { 0x10000UL, 0x4000000UL })
        {
            byte[] sb = new byte[SuperblockLayout.Size];
            using (var f = File.Open(image, FileMode.Open, FileAccess.ReadWrite))
            {
                RandomAccess.Read(f.SafeFileHandle, sb, (long)offset);
                Span<byte> flags = sb.AsSpan(SuperblockLayout.IncompatFlags);
                BinaryPrimitives.WriteUInt64LittleEndian(flags, BinaryPrimitives.ReadUInt64LittleEndian(flags) | (1UL << 20));
                BtrfsChecksum.Compute(ChecksumType.Crc32c, sb.AsSpan(SuperblockLayout.ChecksumStart), csum);
                csum.AsSpan(0, 4).CopyTo(sb);
                RandomAccess.Write(f.SafeFileHandle, sb, (long)offset);
            }
        }

        var e = Assert.Throws<UnsupportedVolumeException>(() => BtrfsVolume.Open([image]));
        Assert.Contains("unsupported incompat features 0x100000 (0x100000)", e.Message);
    }

    private string Copy()
    {
        Skip.IfNot(Capabilities.HasMkfsBtrfs && ProcessRunner.CommandExists("setfattr"), "needs mkfs.btrfs and setfattr");
        return ReaderImages.CopyToTemp(SampleTree.Image(), _dir, $"sample-{Guid.NewGuid():N}.img");
    }

    private static (ulong Logical, PhysicalLocation First, PhysicalLocation Second, ulong Ino) FindLeafOf(string image, string path)
    {
        using BtrfsVolume v = BtrfsVolume.Open([image]);
        ulong ino = Resolve(v, path).Inode;
        TreeCursor cursor = v.OpenDefaultSubvolume().Tree.OpenCursor();
        Assert.True(cursor.Seek(new BtrfsKey(ino, ItemType.InodeItem, 0)));
        ulong logical = cursor.Leaf.Logical;
        Assert.Equal(2, v.Reader.CopyCount(logical));
        return (logical, v.Reader.Locate(logical, 1)!.Value, v.Reader.Locate(logical, 2)!.Value, ino);
    }

    private static ResolvedPath Resolve(BtrfsVolume v, string path)
    {
        Assert.True(v.TryResolvePath(Encoding.UTF8.GetBytes(path), out ResolvedPath r, out _, out _), path);
        return r;
    }

    private static void Flip(string image, ulong offset)
    {
        using var f = File.Open(image, FileMode.Open, FileAccess.ReadWrite);
        byte[] one = new byte[1];
        RandomAccess.Read(f.SafeFileHandle, one, (long)offset);
        one[0] ^= 0x5A;
        RandomAccess.Write(f.SafeFileHandle, one, (long)offset);
    }

    private sealed class ListLogger : ILogger
    {
        public List<string> Messages { get; } = [];

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (Messages)
            {
                Messages.Add(formatter(state, exception));
            }
        }
    }
}
