// SPDX-License-Identifier: MIT
using System.Text;
using Crfs.Format.Btrfs;
using Crfs.Testing;
using Crfs.Volume;
using Crfs.Volume.Devices;
using Crfs.Volume.Files;
using Crfs.Volume.Transactions;

namespace Crfs.Writer.Tests;

public sealed class CrashTests
{
    [SkippableFact]
    public void PowerCutAtAnyWriteOrFlush_OpensAtTheOldOrTheNewGeneration()
    {
        Skip.IfNot(BtrfsCheck.Available, "needs btrfs-progs");
        byte[] baseline;
        using (TestImage image = TestImage.Formatted(64))
        {
            // A first commit with some content, so the cut commit also frees and rewrites blocks.
            using (VolumeWriter writer = VolumeWriter.Open(image.Path))
            {
                var fs0 = new FileSystemWriter();
                writer.Execute(tx => Populate(tx, fs0, "old", 40));
                writer.Commit();
            }

            baseline = File.ReadAllBytes(image.Path);
        }

        var device = new RecordingBlockDevice((byte[])baseline.Clone());
        ulong oldGeneration;
        using (VolumeWriter writer = VolumeWriter.Open(device))
        {
            oldGeneration = writer.Generation;
            var fs = new FileSystemWriter();
            writer.Execute(tx =>
            {
                Populate(tx, fs, "new", 60);
                for (int i = 0; i < 20; i++)
                {
                    Assert.Equal(WriteStatus.Ok, fs.Unlink(tx, 256, Encoding.ASCII.GetBytes($"old{i}")));
                }

                return 0;
            });
            writer.Commit();
            Assert.Equal(oldGeneration + 1, writer.Generation);
        }

        HashSet<string> oldNames = [.. Enumerable.Range(0, 40).Select(i => $"old{i}")];
        HashSet<string> newNames = [.. Enumerable.Range(20, 20).Select(i => $"old{i}"), .. Enumerable.Range(0, 60).Select(i => $"new{i}")];
        var random = new Random(5);
        int events = device.Events.Count;
        Assert.True(events > 50, $"only {events} events recorded");
        var sawGenerations = new HashSet<ulong>();
        for (int cut = 0; cut <= events; cut++)
        {
            foreach (bool partial in (ReadOnlySpan<bool>)[false, true])
            {
                byte[] cutImage = device.CutAt(baseline, cut, i => !partial || random.Next(2) == 0);
                ulong generation = VerifyConsistent(cutImage, oldGeneration, oldNames, newNames, $"cut at event {cut} of {events} (partial {partial})");
                sawGenerations.Add(generation);
                if (!partial && (cut == 0 || cut == events || cut % 97 == 0))
                {
                    using var dir = new TempDirectory("crfs-crash");
                    string path = dir.Combine("cut.img");
                    File.WriteAllBytes(path, cutImage);
                    BtrfsCheck.AssertClean(path, $"cut at event {cut} of {events}:");
                }
            }
        }

        Assert.Equal([oldGeneration, oldGeneration + 1], sawGenerations.Order().ToArray());
    }

    private static int Populate(WriteTransaction tx, FileSystemWriter fs, string prefix, int count)
    {
        for (int i = 0; i < count; i++)
        {
            Assert.Equal(WriteStatus.Ok, fs.Create(tx, 256, Encoding.ASCII.GetBytes($"{prefix}{i}"), new NewInode(InodeMode.Regular | 0x1A4), out ulong ino));
            byte[] data = new byte[((i % 5) * 3000) + 1];
            Array.Fill(data, prefix == "old" ? (byte)0xAA : (byte)0x55);
            Assert.Equal(WriteStatus.Ok, fs.Write(tx, ino, 0, data));
        }

        return 0;
    }

    // Opens the image with the reader and the writer (which cross-checks the extent tree against
    // the block groups) and returns its generation; the root directory must list exactly the old
    // or the new names.
    private static ulong VerifyConsistent(byte[] image, ulong oldGeneration, HashSet<string> oldNames, HashSet<string> newNames, string context)
    {
        ulong generation;
        HashSet<string> names;
        using (BtrfsVolume volume = BtrfsVolume.Open([new MemoryBlockDevice((byte[])image.Clone(), "cut", canWrite: false)]))
        {
            generation = volume.Generation;
            Subvolume subvolume = volume.OpenDefaultSubvolume();
            names = [];
            foreach (DirEntry entry in subvolume.ReadDirectory(256))
            {
                string name = Encoding.ASCII.GetString(entry.Name);
                names.Add(name);

                // Old files keep their bytes (checksums verified by the reader): the commit never
                // wrote into space the old generation still uses.
                byte[] content = new byte[16000];
                Assert.True(subvolume.TryRead(entry.Target, 0, content, out int read), $"{context}: {name} unreadable");
                byte fill = name.StartsWith("old", StringComparison.Ordinal) ? (byte)0xAA : (byte)0x55;
                Assert.True(content.AsSpan(0, read).IndexOfAnyExcept(fill) < 0, $"{context}: {name} has foreign bytes");
            }
        }

        HashSet<string> expected = generation == oldGeneration ? oldNames : newNames;
        Assert.True(generation == oldGeneration || generation == oldGeneration + 1, $"{context}: generation {generation}");
        Assert.True(names.SetEquals(expected), $"{context}: generation {generation} lists {names.Count} names, expected {expected.Count}");
        using VolumeWriter writer = VolumeWriter.Open(new MemoryBlockDevice(image, "cut"));
        Assert.Equal(generation, writer.Generation);
        return generation;
    }
}
