// SPDX-License-Identifier: MIT
using System.Text;
using Crfs.Testing;
using Errno = Crfs.Posix.Errno;

namespace Crfs.Mount.Tests.Posix;

/// <summary>
/// File contents and attributes through a real mount: read, write, O_APPEND, O_TRUNC, truncate,
/// sparse files and offsets past 4 GiB, fallocate, open files that lose their name, and the times
/// and attributes POSIX says each call changes.
/// </summary>
[Collection(PosixMount.Collection)]
public sealed class PosixFileTests(PosixMount mount)
{
    private const long GiB = 1L << 30;

    private string NewDirectory()
    {
        PosixMount.SkipUnlessMounted(mount);
        return mount.NewDirectory();
    }

    private static bool Later(Timespec after, Timespec before) => after.CompareTo(before) > 0;

    [SkippableFact]
    public void Write_UpdatesMtimeAndCtime_NotAtime()
    {
        string d = NewDirectory();
        string f = Path.Combine(d, "f");
        Sys.WriteFile(f, "");
        StatxResult before = Sys.Stat(f);

        int fd = Sys.OpenOk(f, Sys.O_WRONLY);
        Sys.WriteOk(fd, "data", 0);
        Sys.Close(fd);

        StatxResult after = Sys.Stat(f);
        Assert.Equal(4, after.Size);
        Assert.True(Later(after.Mtime, before.Mtime), $"mtime {before.Mtime} -> {after.Mtime}");
        Assert.True(Later(after.Ctime, before.Ctime), $"ctime {before.Ctime} -> {after.Ctime}");
        Assert.Equal(before.Atime, after.Atime);
    }

    [SkippableFact]
    public void Chmod_UpdatesCtimeOnly()
    {
        string d = NewDirectory();
        string f = Path.Combine(d, "f");
        Sys.WriteFile(f, "x");
        StatxResult before = Sys.Stat(f);

        Assert.Equal(Errno.Ok, Sys.Chmod(f, 0x1C0));

        StatxResult after = Sys.Stat(f);
        Assert.Equal(LibC.IFREG | 0x1C0, after.Mode);
        Assert.True(Later(after.Ctime, before.Ctime), "chmod must update ctime");
        Assert.Equal((before.Mtime, before.Atime), (after.Mtime, after.Atime));
    }

    [SkippableFact]
    public void Chown_ByRoot_ChangesOwnerAndClearsSetUid()
    {
        string d = NewDirectory();
        string f = Path.Combine(d, "f");
        Sys.WriteFile(f, "x");
        Assert.Equal(Errno.Ok, Sys.Chmod(f, LibC.Octal("6755")));

        Assert.Equal(Errno.Ok, Sys.Chown(f, 1000, 1000));

        StatxResult st = Sys.Stat(f);
        Assert.Equal((1000u, 1000u), (st.Uid, st.Gid));
        Assert.Equal(LibC.IFREG | LibC.Octal("0755"), st.Mode);
    }

    [SkippableFact]
    public void Utimens_ExplicitTimesAreStored_AndNowSetsBothToTheCurrentTime()
    {
        string d = NewDirectory();
        string f = Path.Combine(d, "f");
        Sys.WriteFile(f, "x");

        Assert.Equal(Errno.Ok, Sys.Utimens(f, (1_000_000_000, 123), (1_100_000_000, 456_789)));
        StatxResult set = Sys.Stat(f);
        Assert.Equal(new Timespec(1_000_000_000, 123), set.Atime);
        Assert.Equal(new Timespec(1_100_000_000, 456_789), set.Mtime);

        Assert.Equal(Errno.Ok, Sys.Utimens(f, null, null));
        StatxResult now = Sys.Stat(f);
        Assert.True(now.Atime.Seconds > 1_600_000_000 && now.Mtime.Seconds > 1_600_000_000, $"{now.Atime} {now.Mtime}");
        Assert.True(now.Ctime.CompareTo(set.Ctime) > 0);
    }

    [SkippableFact]
    public void Append_TwoDescriptors_EachWriteLandsAtTheEnd()
    {
        string d = NewDirectory();
        string f = Path.Combine(d, "log");
        Sys.WriteFile(f, "start;");
        int a = Sys.OpenOk(f, Sys.O_WRONLY | Sys.O_APPEND);
        int b = Sys.OpenOk(f, Sys.O_WRONLY | Sys.O_APPEND);
        try
        {
            for (int i = 0; i < 5; i++)
            {
                Assert.Equal(Errno.Ok, Sys.Write(a, Encoding.ASCII.GetBytes($"a{i};")));
                Assert.Equal(Errno.Ok, Sys.Write(b, Encoding.ASCII.GetBytes($"b{i};")));
            }
        }
        finally
        {
            Sys.Close(a);
            Sys.Close(b);
        }

        Assert.Equal("start;a0;b0;a1;b1;a2;b2;a3;b3;a4;b4;", Sys.ReadText(f));
    }

    [SkippableFact]
    public async Task Append_TwoProcessesAtOnce_NoWriteIsLostOrTorn()
    {
        string d = NewDirectory();
        string f = Path.Combine(d, "log");
        Sys.WriteFile(f, "");
        const string Writer = "open(my $f, '>>', $ARGV[0]) or die $!; $f->autoflush(1); print {$f} sprintf(\"%s%04d\\n\", $ARGV[1], $_) for 1 .. 100; close($f) or die $!;";
        var root = new AsUser(0, 0);

        await Task.WhenAll(
            Task.Run(() => root.Run(Writer, f, "A")),
            Task.Run(() => root.Run(Writer, f, "B")));

        string[] lines = Sys.ReadText(f, 1 << 20).Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal(200, lines.Length);
        Assert.Equal(Enumerable.Range(1, 100).Select(i => $"A{i:D4}"), lines.Where(l => l[0] == 'A'));
        Assert.Equal(Enumerable.Range(1, 100).Select(i => $"B{i:D4}"), lines.Where(l => l[0] == 'B'));
        Assert.Equal(200L * 6, Sys.Stat(f).Size);
    }

    /// <summary>
    /// Many small writes before one commit (a log written line by line): the COMMIT's space
    /// reservation counts the tree blocks the batch touches, so a thousand data operations fit.
    /// </summary>
    [SkippableFact]
    public void ManySmallWrites_ThenFsync_Succeeds()
    {
        string d = NewDirectory();
        string f = Path.Combine(d, "log");
        int fd = Sys.OpenOk(f, Sys.O_WRONLY | Sys.O_CREAT | Sys.O_APPEND);
        try
        {
            for (int i = 0; i < 1000; i++)
            {
                Assert.Equal(Errno.Ok, Sys.Write(fd, Encoding.ASCII.GetBytes($"{i:D5}\n")));
            }

            Errno synced = Sys.FSync(fd);
            Assert.True(synced == Errno.Ok, $"fsync: {synced}\n{mount.Log}");
        }
        finally
        {
            Sys.Close(fd);
        }

        Assert.Equal(6000, Sys.Stat(f).Size);
    }

    [SkippableFact]
    public void Read_AtAndPastEndOfFile_ReturnsNoBytes()
    {
        string d = NewDirectory();
        string f = Path.Combine(d, "f");
        Sys.WriteFile(f, "abc");
        int fd = Sys.OpenOk(f, Sys.O_RDONLY);
        try
        {
            Assert.Equal(Errno.Ok, Sys.PRead(fd, 1, 100, out byte[] tail));
            Assert.Equal("bc"u8.ToArray(), tail);
            Assert.Equal(Errno.Ok, Sys.PRead(fd, 3, 100, out byte[] atEnd));
            Assert.Empty(atEnd);
            Assert.Equal(Errno.Ok, Sys.PRead(fd, 6 * GiB, 100, out byte[] past));
            Assert.Empty(past);
        }
        finally
        {
            Sys.Close(fd);
        }
    }

    [SkippableFact]
    public void Utimens_OmitLeavesThatTimeAlone()
    {
        string d = NewDirectory();
        string f = Path.Combine(d, "f");
        Sys.WriteFile(f, "x");
        Assert.Equal(Errno.Ok, Sys.Utimens(f, (1_000_000_000, 0), (1_000_000_000, 0)));

        const long UtimeOmit = (1L << 30) - 2;
        Assert.Equal(Errno.Ok, Sys.Utimens(f, (0, UtimeOmit), (1_200_000_000, 7)));

        StatxResult st = Sys.Stat(f);
        Assert.Equal(new Timespec(1_000_000_000, 0), st.Atime);
        Assert.Equal(new Timespec(1_200_000_000, 7), st.Mtime);
    }

    [SkippableFact]
    public void Fsync_CommitsAndTheDataReadsBack()
    {
        string d = NewDirectory();
        string f = Path.Combine(d, "f");
        int fd = Sys.OpenOk(f, Sys.O_RDWR | Sys.O_CREAT);
        try
        {
            Sys.WriteOk(fd, "durable", 0);
            Errno synced = Sys.FSync(fd);
            Assert.True(synced == Errno.Ok, $"fsync: {synced}\n{mount.Log}");
            Assert.Equal("durable", Sys.ReadText(fd));
        }
        finally
        {
            Sys.Close(fd);
        }
    }

    [SkippableFact]
    public void OpenTruncate_EmptiesTheFileAndUpdatesMtime()
    {
        string d = NewDirectory();
        string f = Path.Combine(d, "f");
        Sys.WriteFile(f, "some content");
        StatxResult before = Sys.Stat(f);

        int fd = Sys.OpenOk(f, Sys.O_WRONLY | Sys.O_TRUNC);
        Sys.Close(fd);

        StatxResult after = Sys.Stat(f);
        Assert.Equal(0, after.Size);
        Assert.True(Later(after.Mtime, before.Mtime) && Later(after.Ctime, before.Ctime), "O_TRUNC must update mtime and ctime");
        Assert.Equal("", Sys.ReadText(f));
    }

    [SkippableFact]
    public void Truncate_ShrinksAndGrows_GrownPartReadsAsZeros()
    {
        string d = NewDirectory();
        string f = Path.Combine(d, "f");
        Sys.WriteFile(f, "0123456789");
        StatxResult before = Sys.Stat(f);

        Assert.Equal(Errno.Ok, Sys.Truncate(f, 4));
        StatxResult shrunk = Sys.Stat(f);
        Assert.Equal(4, shrunk.Size);
        Assert.True(Later(shrunk.Mtime, before.Mtime) && Later(shrunk.Ctime, before.Ctime), "truncate must update mtime and ctime");
        int fd = Sys.OpenOk(f, Sys.O_RDWR);
        try
        {
            Assert.Equal(Errno.Ok, Sys.FTruncate(fd, 8));
            Assert.Equal(Errno.Ok, Sys.PRead(fd, 0, 100, out byte[] data));
            Assert.Equal("0123\0\0\0\0"u8.ToArray(), data);
        }
        finally
        {
            Sys.Close(fd);
        }

        Assert.Equal(Errno.EISDIR, Sys.Truncate(d, 0));
    }

    [SkippableFact]
    public void SparseWrite_HoleReadsAsZeros_AndBlocksCountOnlyData()
    {
        string d = NewDirectory();
        string f = Path.Combine(d, "sparse");
        int fd = Sys.OpenOk(f, Sys.O_RDWR | Sys.O_CREAT);
        try
        {
            Sys.WriteOk(fd, "tail", 8L << 20);
            Assert.Equal(Errno.Ok, Sys.PRead(fd, (4L << 20) - 2, 4, out byte[] hole));
            Assert.Equal(new byte[4], hole);
            Assert.Equal(Errno.Ok, Sys.PRead(fd, 8L << 20, 10, out byte[] tail));
            Assert.Equal("tail"u8.ToArray(), tail);
        }
        finally
        {
            Sys.Close(fd);
        }

        StatxResult st = Sys.Stat(f);
        Assert.Equal((8L << 20) + 4, st.Size);
        Assert.InRange(st.Blocks, 0, 64);
    }

    [SkippableFact]
    public void WriteBeyondFourGiB_ReadsBack_SizeIsRight_HolesAreZeros()
    {
        string d = NewDirectory();
        string f = Path.Combine(d, "huge");
        byte[] data = new byte[10000];
        new Random(5).NextBytes(data);
        int fd = Sys.OpenOk(f, Sys.O_RDWR | Sys.O_CREAT);
        try
        {
            Assert.Equal(Errno.Ok, Sys.PWrite(fd, data, 5 * GiB));
            Assert.Equal(Errno.Ok, Sys.PWrite(fd, "low"u8, 4 * GiB - 1));
            Assert.Equal(Errno.Ok, Sys.PRead(fd, 5 * GiB, data.Length + 100, out byte[] back));
            Assert.Equal(data, back);
            Assert.Equal(Errno.Ok, Sys.PRead(fd, 4 * GiB - 1, 5, out byte[] low));
            Assert.Equal("low\0\0"u8.ToArray(), low);
            Assert.Equal(Errno.Ok, Sys.PRead(fd, 4 * GiB + 12345, 100, out byte[] hole));
            Assert.Equal(new byte[100], hole);
            Assert.Equal(5 * GiB + data.Length, Sys.FStat(fd).Size);
        }
        finally
        {
            Sys.Close(fd);
        }

        StatxResult st = Sys.Stat(f);
        Assert.Equal(5 * GiB + data.Length, st.Size);
        Assert.InRange(st.Blocks, 1, 1024);
    }

    [SkippableFact]
    public void Fallocate_ModeZeroExtends_KeepSizeDoesNot_PunchHoleZeros_OthersAreEOPNOTSUPP()
    {
        string d = NewDirectory();
        string f = Path.Combine(d, "f");
        Sys.WriteFile(f, "0123456789");
        int fd = Sys.OpenOk(f, Sys.O_RDWR);
        try
        {
            Assert.Equal(Errno.Ok, Sys.Fallocate(fd, 0, 0, 20000));
            Assert.Equal(20000, Sys.FStat(fd).Size);
            Assert.Equal(Errno.Ok, Sys.Fallocate(fd, Sys.FallocKeepSize, 0, 100000));
            Assert.Equal(20000, Sys.FStat(fd).Size);
            Assert.Equal(Errno.Ok, Sys.Fallocate(fd, Sys.FallocPunchHole | Sys.FallocKeepSize, 2, 3));
            Assert.Equal(20000, Sys.FStat(fd).Size);
            Assert.Equal(Errno.Ok, Sys.PRead(fd, 0, 12, out byte[] data));
            Assert.Equal("01\0\0\056789\0\0"u8.ToArray(), data);

            const int CollapseRange = 0x08;
            Assert.Equal(Errno.EOPNOTSUPP, Sys.Fallocate(fd, CollapseRange, 0, 4096));
            Assert.Equal(Errno.EINVAL, Sys.Fallocate(fd, 0, 0, 0));
        }
        finally
        {
            Sys.Close(fd);
        }
    }

    [SkippableFact]
    public async Task UnlinkWhileOpen_DescriptorStillReadsAndWrites_NlinkIsZero_ItemsGoOnLastClose()
    {
        string d = NewDirectory();
        string f = Path.Combine(d, "f");
        Sys.WriteFile(f, "kept");
        ulong ino = Sys.Stat(f).Inode;
        int fd = Sys.OpenOk(f, Sys.O_RDWR);
        try
        {
            Assert.Equal(Errno.Ok, Sys.Unlink(f));
            Assert.Equal(Errno.ENOENT, Sys.TryStat(f));
            Assert.Equal([".", ".."], Sys.ReadDir(d));

            Assert.Equal("kept", Sys.ReadText(fd));
            Sys.WriteOk(fd, " alive", 4);
            Assert.Equal("kept alive", Sys.ReadText(fd));
            StatxResult st = Sys.FStat(fd);
            Assert.Equal(0u, st.Nlink);
            Assert.Equal(10, st.Size);
            Assert.Equal(Errno.Ok, (await mount.Mount.FileSystem.GetAttrAsync(ino)).Error);
        }
        finally
        {
            Sys.Close(fd);
        }

        // The last close deletes the orphan's items: the inode is gone from the file system. close(2)
        // returns before the kernel's RELEASE is answered (FUSE sends it in the background), so wait for it.
        Errno after = Errno.Ok;
        for (int i = 0; i < 200 && after == Errno.Ok; i++)
        {
            await Task.Delay(50);
            after = (await mount.Mount.FileSystem.GetAttrAsync(ino)).Error;
        }

        Assert.Equal(Errno.ENOENT, after);
        Assert.Equal(Errno.Ok, Sys.RmDir(d));
    }

    [SkippableFact]
    public void RenameOverAnOpenFile_TheDescriptorKeepsTheOldContent()
    {
        string d = NewDirectory();
        string victim = Path.Combine(d, "victim");
        Sys.WriteFile(victim, "old content");
        Sys.WriteFile(Path.Combine(d, "new"), "new content");
        int fd = Sys.OpenOk(victim, Sys.O_RDONLY);
        try
        {
            Assert.Equal(Errno.Ok, Sys.Rename(Path.Combine(d, "new"), victim));

            Assert.Equal("new content", Sys.ReadText(victim));
            Assert.Equal("old content", Sys.ReadText(fd));
            Assert.Equal(0u, Sys.FStat(fd).Nlink);
        }
        finally
        {
            Sys.Close(fd);
        }

        Assert.Equal("new content", Sys.ReadText(victim));
    }

    [SkippableFact]
    public void ReadAndWrite_WrongAccessModeOfDescriptor_IsEBADF()
    {
        string d = NewDirectory();
        string f = Path.Combine(d, "f");
        Sys.WriteFile(f, "x");
        int ro = Sys.OpenOk(f, Sys.O_RDONLY);
        int wo = Sys.OpenOk(f, Sys.O_WRONLY);
        try
        {
            Assert.Equal(Errno.EBADF, Sys.PWrite(ro, "y"u8, 0));
            Assert.Equal(Errno.EBADF, Sys.PRead(wo, 0, 1, out _));
        }
        finally
        {
            Sys.Close(ro);
            Sys.Close(wo);
        }
    }
}
