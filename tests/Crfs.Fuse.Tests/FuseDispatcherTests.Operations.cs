// SPDX-License-Identifier: MIT
using System.Runtime.InteropServices;
using System.Text;
using Crfs.Fuse.Abi;
using Crfs.Posix;

namespace Crfs.Fuse.Tests;

/// <summary>
/// Every opcode from raw request bytes through the dispatcher into <see cref="MemoryFileSystem"/>
/// and back; no kernel involved.
/// </summary>
public sealed partial class FuseDispatcherTests
{
    private const ulong Root = 1;

    [Fact]
    public void MkDirLookupGetAttr_RoundTripThroughBytes()
    {
        var h = new DispatcherHarness(new MemoryFileSystem());

        EntryOut made = h.Ok(FuseOpcode.MkDir, Root, Protocol.Bytes(new MkDirIn { Mode = 0x1ED, Umask = 0x12 }), Protocol.Name("dir")).Read<EntryOut>();
        Assert.NotEqual(0ul, made.NodeId);
        Assert.Equal((uint)FileType.Directory | 0x1ED, made.Attr.Mode);
        Assert.Equal(1u, made.EntryValid);

        EntryOut found = h.Ok(FuseOpcode.Lookup, Root, Protocol.Name("dir")).Read<EntryOut>();
        Assert.Equal(made.NodeId, found.NodeId);

        AttrOut attr = h.Ok(FuseOpcode.GetAttr, made.NodeId, Protocol.Bytes(new GetAttrIn())).Read<AttrOut>();
        Assert.Equal(made.NodeId, attr.Attr.Ino);
        Assert.Equal(2u, attr.Attr.Nlink);
        Assert.Equal(AttrOut.SizeOf, h.Ok(FuseOpcode.GetAttr, made.NodeId, Protocol.Bytes(new GetAttrIn())).Body.Length);

        Assert.Equal(Errno.ENOENT, h.Call(FuseOpcode.Lookup, Root, Protocol.Name("missing")).Errno);
    }

    [Fact]
    public void CreateWriteReadSetAttr_ReturnsDataAndSizes()
    {
        var h = new DispatcherHarness(new MemoryFileSystem());
        Reply created = h.Ok(FuseOpcode.Create, Root, Protocol.Bytes(new CreateIn { Flags = 2, Mode = 0x81A4 }), Protocol.Name("f"));
        Assert.Equal(EntryOut.SizeOf + OpenOut.SizeOf, created.Body.Length);
        ulong node = created.Read<EntryOut>().NodeId;
        OpenOut open = created.Read<OpenOut>(EntryOut.SizeOf);
        Assert.Equal((uint)FuseOpenOptions.KeepCache, open.OpenFlags);

        byte[] data = Encoding.ASCII.GetBytes("hello, fuse");
        WriteOut w = h.Ok(FuseOpcode.Write, node, Protocol.Bytes(new WriteIn { Fh = open.Fh, Offset = 3, Size = (uint)data.Length }), data).Read<WriteOut>();
        Assert.Equal((uint)data.Length, w.Size);

        Reply read = h.Ok(FuseOpcode.Read, node, Protocol.Bytes(new ReadIn { Fh = open.Fh, Offset = 0, Size = 4096 }));
        Assert.Equal([0, 0, 0, .. data], read.Body);

        Reply partial = h.Ok(FuseOpcode.Read, node, Protocol.Bytes(new ReadIn { Fh = open.Fh, Offset = 5, Size = 4 }));
        Assert.Equal("llo,", Encoding.ASCII.GetString(partial.Body));

        AttrOut truncated = h.Ok(FuseOpcode.SetAttr, node, Protocol.Bytes(new SetAttrIn { Valid = (uint)(SetAttrFields.Size | SetAttrFields.Mode), Size = 5, Mode = 0x180 })).Read<AttrOut>();
        Assert.Equal(5ul, truncated.Attr.Size);
        Assert.Equal((uint)FileType.RegularFile | 0x180, truncated.Attr.Mode);

        h.Ok(FuseOpcode.Flush, node, Protocol.Bytes(new FlushIn { Fh = open.Fh }));
        h.Ok(FuseOpcode.Fsync, node, Protocol.Bytes(new FsyncIn { Fh = open.Fh, FsyncFlags = 1 }));
        h.Ok(FuseOpcode.Release, node, Protocol.Bytes(new ReleaseIn { Fh = open.Fh }));
        Assert.Empty(h.Ok(FuseOpcode.Release, node, Protocol.Bytes(new ReleaseIn { Fh = 999 })).Body);
    }

    [Fact]
    public void OpenAndRead_LargerThanRequested_IsCappedToRequestSize()
    {
        var fs = new MemoryFileSystem();
        ulong node = fs.AddFile(Root, "big", new byte[10000]);
        var h = new DispatcherHarness(fs);

        OpenOut open = h.Ok(FuseOpcode.Open, node, Protocol.Bytes(new OpenIn { Flags = 0 })).Read<OpenOut>();
        Reply read = h.Ok(FuseOpcode.Read, node, Protocol.Bytes(new ReadIn { Fh = open.Fh, Offset = 9000, Size = 4096 }));

        Assert.Equal(1000, read.Body.Length);
    }

    [Fact]
    public void SymLinkReadLinkMkNodLink_ProduceEntriesAndTarget()
    {
        var h = new DispatcherHarness(new MemoryFileSystem());
        ulong link = h.Ok(FuseOpcode.SymLink, Root, Protocol.Name("l"), Protocol.Name("target/path")).Read<EntryOut>().NodeId;
        Assert.Equal("target/path", Encoding.UTF8.GetString(h.Ok(FuseOpcode.ReadLink, link).Body));

        EntryOut fifo = h.Ok(FuseOpcode.MkNod, Root, Protocol.Bytes(new MkNodIn { Mode = (uint)FileType.Fifo | 0x1A4 }), Protocol.Name("p")).Read<EntryOut>();
        Assert.Equal(FileType.Fifo, FileTypes.FromMode(fifo.Attr.Mode));

        EntryOut linked = h.Ok(FuseOpcode.Link, Root, Protocol.Bytes(new LinkIn { OldNodeId = fifo.NodeId }), Protocol.Name("p2")).Read<EntryOut>();
        Assert.Equal(fifo.NodeId, linked.NodeId);
        Assert.Equal(2u, linked.Attr.Nlink);
    }

    [Fact]
    public void RenameAndRename2Flags_AreDecoded()
    {
        var fs = new MemoryFileSystem();
        fs.AddFile(Root, "a", [1]);
        fs.AddFile(Root, "b", [2]);
        var h = new DispatcherHarness(fs);

        Assert.Equal(Errno.EEXIST, h.Call(FuseOpcode.Rename2, Root, Protocol.Bytes(new Rename2In { NewDir = Root, Flags = (uint)RenameFlags.NoReplace }), Protocol.Name("a"), Protocol.Name("b")).Errno);
        h.Ok(FuseOpcode.Rename2, Root, Protocol.Bytes(new Rename2In { NewDir = Root, Flags = (uint)RenameFlags.Exchange }), Protocol.Name("a"), Protocol.Name("b"));
        h.Ok(FuseOpcode.Rename, Root, Protocol.Bytes(new RenameIn { NewDir = Root }), Protocol.Name("a"), Protocol.Name("c"));

        Assert.Null(fs.Find(Root, "a"));
        Assert.NotNull(fs.Find(Root, "c"));
    }

    [Fact]
    public void UnlinkAndRmDir_RemoveNamesAndReportErrors()
    {
        var fs = new MemoryFileSystem();
        ulong dir = fs.AddDirectory(Root, "d");
        fs.AddFile(dir, "x", []);
        var h = new DispatcherHarness(fs);

        Assert.Equal(Errno.ENOTEMPTY, h.Call(FuseOpcode.RmDir, Root, Protocol.Name("d")).Errno);
        Assert.Equal(Errno.EISDIR, h.Call(FuseOpcode.Unlink, Root, Protocol.Name("d")).Errno);
        Assert.Empty(h.Ok(FuseOpcode.Unlink, dir, Protocol.Name("x")).Body);
        h.Ok(FuseOpcode.RmDir, Root, Protocol.Name("d"));
        Assert.Null(fs.Find(Root, "d"));
    }

    [Fact]
    public void ReadDir_ListsEveryEntryAcrossCalls_WithCookiesOfTheNextEntry()
    {
        var fs = new MemoryFileSystem();
        for (int i = 0; i < 50; i++)
        {
            fs.AddFile(Root, $"file-{i:D3}", []);
        }

        var h = new DispatcherHarness(fs);
        ulong fh = h.Ok(FuseOpcode.OpenDir, Root, Protocol.Bytes(new OpenIn())).Read<OpenOut>().Fh;
        var names = new List<string>();
        ulong offset = 0;
        while (true)
        {
            Reply r = h.Ok(FuseOpcode.ReadDir, Root, Protocol.Bytes(new ReadIn { Fh = fh, Offset = offset, Size = 256 }));
            Assert.True(r.Body.Length <= 256);
            if (r.Body.Length == 0)
            {
                break;
            }

            for (int at = 0; at < r.Body.Length;)
            {
                Dirent d = MemoryMarshal.Read<Dirent>(r.Body.AsSpan(at));
                names.Add(Encoding.UTF8.GetString(r.Body, at + Dirent.SizeOf, (int)d.NameLen));
                Assert.Equal(FileType.RegularFile.ToDirentType(), d.Type);
                offset = d.Off;
                at += (Dirent.SizeOf + (int)d.NameLen + 7) & ~7;
            }
        }

        Assert.Equal(Enumerable.Range(0, 50).Select(i => $"file-{i:D3}"), names);
        h.Ok(FuseOpcode.ReleaseDir, Root, Protocol.Bytes(new ReleaseIn { Fh = fh }));
        h.Ok(FuseOpcode.FsyncDir, Root, Protocol.Bytes(new FsyncIn { Fh = fh }));
    }

    [Fact]
    public void Xattrs_SizeProbeValueRangeListAndRemove()
    {
        var fs = new MemoryFileSystem();
        ulong node = fs.AddFile(Root, "f", []);
        var h = new DispatcherHarness(fs);
        byte[] value = Encoding.ASCII.GetBytes("value-123");

        h.Ok(FuseOpcode.SetXattr, node, Protocol.Bytes(new SetXattrIn { Size = (uint)value.Length }), Protocol.Name("user.k"), value);
        Assert.Equal(Errno.EEXIST, h.Call(FuseOpcode.SetXattr, node, Protocol.Bytes(new SetXattrIn { Size = 1, Flags = (uint)XattrFlags.Create }), Protocol.Name("user.k"), [1]).Errno);

        Assert.Equal((uint)value.Length, h.Ok(FuseOpcode.GetXattr, node, Protocol.Bytes(new GetXattrIn { Size = 0 }), Protocol.Name("user.k")).Read<GetXattrOut>().Size);
        Assert.Equal(value, h.Ok(FuseOpcode.GetXattr, node, Protocol.Bytes(new GetXattrIn { Size = 100 }), Protocol.Name("user.k")).Body);
        Assert.Equal(Errno.ERANGE, h.Call(FuseOpcode.GetXattr, node, Protocol.Bytes(new GetXattrIn { Size = 3 }), Protocol.Name("user.k")).Errno);
        Assert.Equal(Errno.ENODATA, h.Call(FuseOpcode.GetXattr, node, Protocol.Bytes(new GetXattrIn { Size = 100 }), Protocol.Name("user.none")).Errno);

        Assert.Equal(7u, h.Ok(FuseOpcode.ListXattr, node, Protocol.Bytes(new GetXattrIn { Size = 0 })).Read<GetXattrOut>().Size);
        Assert.Equal("user.k\0", Encoding.ASCII.GetString(h.Ok(FuseOpcode.ListXattr, node, Protocol.Bytes(new GetXattrIn { Size = 64 })).Body));

        h.Ok(FuseOpcode.RemoveXattr, node, Protocol.Name("user.k"));
        Assert.Equal(Errno.ENODATA, h.Call(FuseOpcode.RemoveXattr, node, Protocol.Name("user.k")).Errno);
    }

    [Fact]
    public void Locks_GetLkReportsConflict_SetLkFailsWithEAGAIN_FlockIsSeparate()
    {
        var fs = new MemoryFileSystem();
        ulong node = fs.AddFile(Root, "f", []);
        var h = new DispatcherHarness(fs);
        var writeLock = new FileLock { Start = 0, End = 99, Type = (uint)FuseLockType.Write, Pid = 7 };

        h.Ok(FuseOpcode.SetLk, node, Protocol.Bytes(new LkIn { Owner = 1, Lk = writeLock }));
        FileLock conflict = h.Ok(FuseOpcode.GetLk, node, Protocol.Bytes(new LkIn { Owner = 2, Lk = writeLock with { Start = 50, End = 60 } })).Read<LkOut>().Lk;
        Assert.Equal((uint)FuseLockType.Write, conflict.Type);
        Assert.Equal(7u, conflict.Pid);
        Assert.Equal(Errno.EAGAIN, h.Call(FuseOpcode.SetLk, node, Protocol.Bytes(new LkIn { Owner = 2, Lk = writeLock })).Errno);

        // flock locks live in their own namespace (FUSE_LK_FLOCK).
        h.Ok(FuseOpcode.SetLk, node, Protocol.Bytes(new LkIn { Owner = 2, Lk = writeLock, LkFlags = LkIn.FlagFlock }));

        // FLUSH by the owner releases its POSIX locks, even though the FS's Flush does nothing.
        h.Ok(FuseOpcode.Flush, node, Protocol.Bytes(new FlushIn { LockOwner = 1 }));
        Assert.Equal((uint)FuseLockType.Unlock, h.Ok(FuseOpcode.GetLk, node, Protocol.Bytes(new LkIn { Owner = 2, Lk = writeLock })).Read<LkOut>().Lk.Type);
    }

    [Fact]
    public void StatFsFallocateAndDestroy_AreAnswered()
    {
        var fs = new MemoryFileSystem();
        ulong node = fs.AddFile(Root, "f", []);
        var h = new DispatcherHarness(fs);

        KStatFs st = h.Ok(FuseOpcode.StatFs, Root).Read<KStatFs>();
        Assert.Equal(4096u, st.BSize);
        Assert.Equal(255u, st.NameLen);

        h.Ok(FuseOpcode.Fallocate, node, Protocol.Bytes(new FallocateIn { Offset = 0, Length = 8192 }));
        Assert.Equal(8192ul, h.Ok(FuseOpcode.GetAttr, node, Protocol.Bytes(new GetAttrIn())).Read<AttrOut>().Attr.Size);
        Assert.Equal(Errno.EOPNOTSUPP, h.Call(FuseOpcode.Fallocate, node, Protocol.Bytes(new FallocateIn { Length = 1, Mode = 3 })).Errno);

        Assert.Empty(h.Ok(FuseOpcode.Destroy, 0).Body);
    }

    [Theory]
    [InlineData(FuseOpcode.Access, 8)]
    [InlineData(FuseOpcode.Lseek, 24)]
    [InlineData(FuseOpcode.CopyFileRange, 56)]
    [InlineData(FuseOpcode.CopyFileRange64, 56)]
    [InlineData(FuseOpcode.Poll, 24)]
    [InlineData(FuseOpcode.SyncFs, 8)]
    [InlineData(FuseOpcode.Bmap, 16)]
    [InlineData(FuseOpcode.Ioctl, 32)]
    [InlineData(FuseOpcode.Statx, 24)]
    [InlineData((FuseOpcode)99, 0)]
    [InlineData((FuseOpcode)4096, 16)]
    public void UnimplementedOrUnknownOpcode_IsAnsweredENOSYS(FuseOpcode opcode, int bodySize)
    {
        var h = new DispatcherHarness(new MemoryFileSystem());

        Reply r = h.Call(opcode, Root, new byte[bodySize]);

        Assert.Equal(Errno.ENOSYS, r.Errno);
        Assert.Empty(r.Body);
    }

    [Fact]
    public void OptionalOperations_WhenImplemented_ReplyWithTheirStructs()
    {
        var h = new DispatcherHarness(new OptionalOperationsFileSystem());

        Assert.Empty(h.Ok(FuseOpcode.Access, 5, Protocol.Bytes(new AccessIn { Mask = 4 })).Body);
        Assert.Equal(4096ul, h.Ok(FuseOpcode.Lseek, 5, Protocol.Bytes(new LseekIn { Offset = 10, Whence = 3 })).Read<LseekOut>().Offset);
        Assert.Equal(123u, h.Ok(FuseOpcode.CopyFileRange, 5, Protocol.Bytes(new CopyFileRangeIn { Len = 123 })).Read<WriteOut>().Size);
        Assert.Equal(5_000_000_000ul, h.Ok(FuseOpcode.CopyFileRange64, 5, Protocol.Bytes(new CopyFileRangeIn { Len = 5_000_000_000 })).Read<CopyFileRangeOut>().BytesCopied);
        Assert.Equal(1u, h.Ok(FuseOpcode.Poll, 5, Protocol.Bytes(new PollIn { Events = 1 })).Read<PollOut>().Revents);
        Reply tmp = h.Ok(FuseOpcode.TmpFile, 5, Protocol.Bytes(new CreateIn { Mode = 0x8180 }), Protocol.Name(""));
        Assert.Equal(77ul, tmp.Read<EntryOut>().NodeId);
        Assert.Empty(h.Ok(FuseOpcode.SyncFs, 5, Protocol.Bytes(new SyncFsIn())).Body);
    }

    [Fact]
    public void Counters_CountRequestsByOpcode()
    {
        var h = new DispatcherHarness(new MemoryFileSystem());
        for (int i = 0; i < 3; i++)
        {
            h.Call(FuseOpcode.Lookup, Root, Protocol.Name("nothing"));
        }

        h.Call(FuseOpcode.GetAttr, Root, Protocol.Bytes(new GetAttrIn()));

        FuseCounters c = h.Dispatcher.Counters;
        Assert.Equal(3, c[FuseOpcode.Lookup]);
        Assert.Equal(1, c[FuseOpcode.GetAttr]);
        Assert.Equal(1, c[FuseOpcode.Init]);
        Assert.Equal(5, c.TotalRequests);
        Assert.Equal(3, c.ErrorReplies);
        Assert.Equal(new Dictionary<FuseOpcode, long> { [FuseOpcode.Lookup] = 3, [FuseOpcode.GetAttr] = 1, [FuseOpcode.Init] = 1 }, c.Snapshot());
    }

    [Fact]
    public void HandlerException_BecomesEIO_AndIsCounted()
    {
        var fs = new MemoryFileSystem { OnLookup = _ => throw new InvalidOperationException("boom") };
        var h = new DispatcherHarness(fs);

        Assert.Equal(Errno.EIO, h.Call(FuseOpcode.Lookup, Root, Protocol.Name("x")).Errno);
        Assert.Equal(1, h.Dispatcher.Counters.HandlerExceptions);
    }

    [Fact]
    public void HandlerResults_TheKernelWouldReject_BecomeEIO()
    {
        var h = new DispatcherHarness(new BrokenFileSystem());

        Assert.Equal(Errno.EIO, h.Call(FuseOpcode.Unlink, Root, Protocol.Name("x")).Errno);
        Assert.Equal(Errno.EIO, h.Call(FuseOpcode.MkDir, Root, Protocol.Bytes(new MkDirIn()), Protocol.Name("x")).Errno);
        Assert.Equal(Errno.EIO, h.Call(FuseOpcode.Read, 5, Protocol.Bytes(new ReadIn { Size = 10 })).Errno);
    }

    [Fact]
    public void LookupSuccessWithNodeZero_IsANegativeEntryWithTimeout()
    {
        var h = new DispatcherHarness(new BrokenFileSystem());

        EntryOut e = h.Ok(FuseOpcode.Lookup, Root, Protocol.Name("neg")).Read<EntryOut>();

        Assert.Equal(0ul, e.NodeId);
        Assert.Equal(2u, e.EntryValid);
        Assert.Equal(500_000_000u, e.EntryValidNsec);
    }

    private sealed class OptionalOperationsFileSystem : IFuseFileSystem
    {
        public Errno Access(in FuseContext context, ulong nodeId, uint mask) => Errno.Ok;

        public Errno Lseek(in FuseContext context, ulong nodeId, ulong fileHandle, long offset, int whence, out long resultOffset)
        {
            resultOffset = 4096;
            return Errno.Ok;
        }

        public Errno CopyFileRange(in FuseContext context, ulong nodeIn, ulong fileHandleIn, long offsetIn, ulong nodeOut, ulong fileHandleOut, long offsetOut, ulong length, ulong flags, out ulong bytesCopied)
        {
            bytesCopied = length;
            return Errno.Ok;
        }

        public Errno Poll(in FuseContext context, ulong nodeId, ulong fileHandle, ulong pollHandle, bool scheduleNotify, uint events, out uint readyEvents)
        {
            readyEvents = events;
            return Errno.Ok;
        }

        public Errno TmpFile(in FuseContext context, ulong parent, uint mode, uint umask, OpenFlags flags, out FuseEntry entry, out FuseOpenReply reply)
        {
            entry = new FuseEntry { NodeId = 77, Attributes = new InodeAttributes { Ino = 77, Mode = mode, Nlink = 0 } };
            reply = new FuseOpenReply(1);
            return Errno.Ok;
        }

        public Errno SyncFs(in FuseContext context, ulong nodeId) => Errno.Ok;
    }

    private sealed class BrokenFileSystem : IFuseFileSystem
    {
        public Errno Lookup(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, out FuseEntry entry)
        {
            entry = FuseEntry.Negative(TimeSpan.FromSeconds(2.5));
            return Errno.Ok;
        }

        public Errno Unlink(in FuseContext context, ulong parent, ReadOnlySpan<byte> name) => (Errno)600;

        public Errno MkDir(in FuseContext context, ulong parent, ReadOnlySpan<byte> name, uint mode, uint umask, out FuseEntry entry)
        {
            entry = default;
            return Errno.Ok;
        }

        public Errno Read(in FuseContext context, ulong nodeId, ulong fileHandle, long offset, Span<byte> buffer, out int bytesRead)
        {
            bytesRead = buffer.Length + 1;
            return Errno.Ok;
        }
    }
}
