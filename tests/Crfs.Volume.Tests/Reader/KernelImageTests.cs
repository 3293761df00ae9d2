// SPDX-License-Identifier: MIT
using System.Text;
using Crfs.Format.Btrfs;
using Crfs.Testing;
using Crfs.Volume.Files;

namespace Crfs.Volume.Tests.Reader;

/// <summary>
/// Volumes written by the kernel itself: compressed extents of every algorithm (forced, so they
/// really are compressed, including a compressed inline extent), prealloc ranges, punched holes,
/// partially overwritten extents, nodatasum files, subvolumes, snapshots and the placeholder the
/// kernel shows for a nested subvolume inside a snapshot.
/// </summary>
public class KernelImageTests
{
    public static TheoryData<string> Algorithms => new() { "zlib", "zstd", "lzo" };

    [SkippableTheory]
    [MemberData(nameof(Algorithms))]
    public void CompressedFilesReadBackExactly(string algorithm)
    {
        using BtrfsVolume v = BtrfsVolume.Open([Image(algorithm)]);
        Subvolume root = v.OpenDefaultSubvolume();
        foreach ((string name, byte[] expected) in Files())
        {
            ulong ino = Resolve(v, "/" + name).Inode;
            byte[] actual = new byte[expected.Length + 10];
            Assert.True(root.TryRead(ino, 0, actual, out int n));
            Assert.Equal(expected.Length, n);
            Assert.True(actual.AsSpan(0, n).SequenceEqual(expected), $"{algorithm} {name}");

            // Unaligned reads inside and across compressed extents.
            for (int offset = 1; offset < expected.Length; offset += 70001)
            {
                int length = Math.Min(200_000, expected.Length - offset);
                byte[] part = new byte[length];
                Assert.True(root.TryRead(ino, offset, part, out int m));
                Assert.True(part.AsSpan(0, m).SequenceEqual(expected.AsSpan(offset, length)), $"{algorithm} {name} at {offset}");
            }
        }

        InodeSnapshot text = root.LoadInode(Resolve(v, "/text").Inode)!;
        CompressionType expectedType = algorithm switch { "zlib" => CompressionType.Zlib, "lzo" => CompressionType.Lzo, _ => CompressionType.Zstd };
        Assert.Contains(text.Extents, e => e.Compression == expectedType && e.DiskNumBytes < e.RamBytes);
        InodeSnapshot tiny = root.LoadInode(Resolve(v, "/tiny").Inode)!;
        Assert.Equal(FileExtentType.Inline, Assert.Single(tiny.Extents).Type);
    }

    [SkippableFact]
    public void PreallocHolesOverwritesAndNodatasumReadLikeTheKernel()
    {
        using BtrfsVolume v = BtrfsVolume.Open([Image("zstd")]);
        Subvolume root = v.OpenDefaultSubvolume();
        foreach ((string name, byte[] expected) in Files())
        {
            byte[] actual = new byte[expected.Length];
            Assert.True(root.TryRead(Resolve(v, "/" + name).Inode, 0, actual, out _));
            Assert.True(actual.AsSpan().SequenceEqual(expected), name);
        }

        InodeSnapshot prealloc = root.LoadInode(Resolve(v, "/prealloc").Inode)!;
        Assert.Contains(prealloc.Extents, e => e.Type == FileExtentType.Prealloc);
        Assert.True(root.TryGetInode(Resolve(v, "/nodatasum").Inode, out InodeItem nodatasum));
        Assert.True((nodatasum.Flags & InodeFlags.NoDataSum) != 0);
    }

    [SkippableFact]
    public void SubvolumesAreEnteredAndSnapshotsShowNestedSubvolumesAsEmptyPlaceholders()
    {
        using BtrfsVolume v = BtrfsVolume.Open([Image("zstd")]);
        IReadOnlyList<SubvolumeInfo> subvolumes = v.ListSubvolumes();
        Assert.Equal(["sub", "nested", "snap"], subvolumes.Select(s => Encoding.ASCII.GetString(s.Name)));
        SubvolumeInfo sub = subvolumes[0];
        Assert.Equal(ObjectIds.FsTree, sub.ParentId);
        Assert.Equal(sub.Id, subvolumes[1].ParentId);

        ResolvedPath inSub = Resolve(v, "/sub/nested/y");
        Assert.Equal(subvolumes[1].Id, inSub.Subvolume.Id);
        Assert.Equal("n\n", ReadText(inSub));
        Assert.Equal("insub\n", ReadText(Resolve(v, "/snap/x")));

        ResolvedPath placeholder = Resolve(v, "/snap/nested");
        Assert.True(placeholder.IsPlaceholder);
        Assert.Equal(ObjectIds.EmptySubvolDir, placeholder.Inode);
        Assert.False(v.TryResolvePath("/snap/nested/y"u8, out _, out PathError error, out _));
        Assert.Equal(PathError.NotFound, error);
    }

    [SkippableFact]
    public void ExplicitHoleExtentsOfAVolumeWithoutNoHolesReadAsZeros()
    {
        Skip.IfNot(Capabilities.CanLoopMountBtrfs, "needs root, mkfs.btrfs and loop mounts");
        string image = ReaderImages.Kernel("kernel-explicit-holes", 1, "", mnt =>
        {
            using FileStream f = File.Create(Path.Combine(mnt, "holey"));
            f.Write(SampleTree.Content("hole-a", 4096));
            f.Seek(512 * 1024, SeekOrigin.Begin);
            f.Write(SampleTree.Content("hole-b", 4096));
            f.SetLength(1 << 20);
        }, "-O", "^no-holes");
        using BtrfsVolume v = BtrfsVolume.Open([image]);
        Assert.Equal(IncompatFeatures.None, v.Superblock.IncompatFlags & IncompatFeatures.NoHoles);
        ResolvedPath p = Resolve(v, "/holey");
        InodeSnapshot inode = p.Subvolume.LoadInode(p.Inode)!;
        Assert.Contains(inode.Extents, e => e.Type == FileExtentType.Regular && e.DiskBytenr == 0 && e.ReadsAsZeros);

        byte[] expected = new byte[1 << 20];
        SampleTree.Content("hole-a", 4096).CopyTo(expected, 0);
        SampleTree.Content("hole-b", 4096).CopyTo(expected, 512 * 1024);
        byte[] actual = new byte[1 << 20];
        Assert.True(p.Subvolume.TryRead(p.Inode, 0, actual, out int n));
        Assert.Equal(1 << 20, n);
        Assert.True(actual.AsSpan().SequenceEqual(expected));
    }

    private static string ReadText(ResolvedPath p)
    {
        byte[] buffer = new byte[100];
        Assert.True(p.Subvolume.TryRead(p.Inode, 0, buffer, out int n));
        return Encoding.ASCII.GetString(buffer, 0, n);
    }

    private static ResolvedPath Resolve(BtrfsVolume v, string path)
    {
        Assert.True(v.TryResolvePath(Encoding.UTF8.GetBytes(path), out ResolvedPath r, out PathError error, out _), $"{path}: {error}");
        return r;
    }

    private static string Image(string algorithm)
    {
        Skip.IfNot(Capabilities.CanLoopMountBtrfs, "needs root, mkfs.btrfs and loop mounts");
        return ReaderImages.Kernel($"kernel-{algorithm}", 1, $"compress-force={algorithm}", Populate);
    }

    // What each file must contain; Populate writes them through the kernel (plus extra shapes).
    private static IEnumerable<(string Name, byte[] Content)> Files()
    {
        byte[] text = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Range(0, 60000).Select(i => $"line {i % 1000}\n")));
        yield return ("text", text);
        yield return ("random", SampleTree.Content("kernel-random", 400_000));
        yield return ("tiny", Encoding.ASCII.GetBytes(new string('z', 3000)));

        byte[] prealloc = new byte[1 << 20];
        SampleTree.Content("prealloc-middle", 8192).CopyTo(prealloc, 40960);
        yield return ("prealloc", prealloc);

        byte[] punched = (byte[])text.Clone();
        Array.Clear(punched, 65536, 131072);
        yield return ("punched", punched);

        byte[] overwritten = (byte[])text.Clone();
        SampleTree.Content("overwrite", 10000).CopyTo(overwritten, 100_000);
        yield return ("overwritten", overwritten);

        yield return ("nodatasum", SampleTree.Content("nodatasum", 50_000));
    }

    private static void Populate(string mnt)
    {
        foreach ((string name, byte[] content) in Files())
        {
            string path = Path.Combine(mnt, name);
            switch (name)
            {
                case "prealloc":
                    Run("fallocate", "-l", "1M", path);
                    using (var f = File.OpenWrite(path))
                    {
                        f.Seek(40960, SeekOrigin.Begin);
                        f.Write(content.AsSpan(40960, 8192));
                    }

                    break;
                case "punched":
                    File.WriteAllBytes(path, Files().First().Content);
                    Run("sync");
                    Run("fallocate", "-p", "-o", "65536", "-l", "131072", path);
                    break;
                case "overwritten":
                    File.WriteAllBytes(path, Files().First().Content);
                    Run("sync");
                    using (var f = File.OpenWrite(path))
                    {
                        f.Seek(100_000, SeekOrigin.Begin);
                        f.Write(content.AsSpan(100_000, 10000));
                    }

                    break;
                case "nodatasum":
                    File.WriteAllBytes(path, []);
                    Run("chattr", "+C", path);
                    File.WriteAllBytes(path, content);
                    break;
                default:
                    File.WriteAllBytes(path, content);
                    break;
            }
        }

        Run("btrfs", "-q", "subvolume", "create", Path.Combine(mnt, "sub"));
        File.WriteAllText(Path.Combine(mnt, "sub", "x"), "insub\n");
        Run("btrfs", "-q", "subvolume", "create", Path.Combine(mnt, "sub", "nested"));
        File.WriteAllText(Path.Combine(mnt, "sub", "nested", "y"), "n\n");
        Run("btrfs", "-q", "subvolume", "snapshot", Path.Combine(mnt, "sub"), Path.Combine(mnt, "snap"));
    }

    private static void Run(string program, params string[] args) => ProcessRunner.Run(program, args).EnsureSuccess();
}
