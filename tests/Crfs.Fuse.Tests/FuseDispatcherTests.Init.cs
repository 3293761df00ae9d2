// SPDX-License-Identifier: MIT
using Crfs.Fuse.Abi;
using Crfs.Posix;

namespace Crfs.Fuse.Tests;

public sealed partial class FuseDispatcherTests
{
    [Fact]
    public void Init_Kernel745_NegotiatesMinor45WithFullReplyAndWantedFlags()
    {
        var h = new DispatcherHarness(new MemoryFileSystem(), init: false);
        Reply r = h.Send(Protocol.Init())!;

        Assert.Equal(0, r.Error);
        Assert.Equal(InitOut.SizeOf, r.Body.Length);
        InitOut o = r.Read<InitOut>();
        Assert.Equal(7u, o.Major);
        Assert.Equal(45u, o.Minor);
        Assert.Equal(1u << 20, o.MaxWrite);
        Assert.Equal(256, o.MaxPages);
        Assert.Equal(131072u, o.MaxReadahead);
        var flags = (FuseInitFlags)(o.Flags | ((ulong)o.Flags2 << 32));
        FuseInitFlags expected = FuseInitFlags.AsyncRead | FuseInitFlags.BigWrites | FuseInitFlags.AsyncDio
            | FuseInitFlags.InitExt | FuseInitFlags.MaxPages | FuseInitFlags.AbortError | FuseInitFlags.SetXattrExt
            | FuseInitFlags.ParallelDirOps | FuseInitFlags.PosixLocks | FuseInitFlags.FlockLocks
            | FuseInitFlags.DoReadDirPlus | FuseInitFlags.ReadDirPlusAuto | FuseInitFlags.AutoInvalData
            | FuseInitFlags.CacheSymlinks;
        Assert.Equal(expected, flags);
        Assert.Equal(expected, h.Dispatcher.Connection!.Flags);
        Assert.Equal(45u, h.Dispatcher.Connection.KernelMinor);
    }

    [Fact]
    public void Init_FileSystemWithoutOpen_NegotiatesZeroMessageOpens()
    {
        var h = new DispatcherHarness(new GetAttrOnlyFileSystem(), init: false);
        h.Send(Protocol.Init());

        FuseConnectionInfo c = h.Dispatcher.Connection!;
        Assert.True(c.Has(FuseInitFlags.NoOpenSupport));
        Assert.True(c.Has(FuseInitFlags.NoOpenDirSupport));
        Assert.False(c.Has(FuseInitFlags.PosixLocks));
        Assert.False(c.Has(FuseInitFlags.DoReadDirPlus));
    }

    [Fact]
    public void Init_OptionsOptIn_AreRequestedOnlyWhenKernelOffersThem()
    {
        var options = new FuseOptions { HandleKillPrivV2 = true, AtomicOTrunc = true, DataInvalidation = FuseDataInvalidation.Explicit, Transport = FuseTransportKind.IoUring };
        var h = new DispatcherHarness(new MemoryFileSystem(), options, init: false);

        // This kernel offers everything except OVER_IO_URING (enable_uring=N).
        h.Send(Protocol.Init());

        FuseConnectionInfo c = h.Dispatcher.Connection!;
        Assert.True(c.Has(FuseInitFlags.HandleKillPrivV2));
        Assert.True(c.Has(FuseInitFlags.AtomicOTrunc));
        Assert.True(c.Has(FuseInitFlags.ExplicitInvalData));
        Assert.False(c.Has(FuseInitFlags.AutoInvalData));
        Assert.False(c.Has(FuseInitFlags.OverIoUring));
    }

    [Fact]
    public void Init_Minor36_WithoutInitExtOffered_IgnoresFlags2()
    {
        var h = new DispatcherHarness(new MemoryFileSystem(), init: false);
        Reply r = h.Send(Protocol.Init(minor: 36, flags: Protocol.KernelFlags & ~(uint)FuseInitFlags.InitExt, flags2: 0xFFFF_FFFF))!;

        InitOut o = r.Read<InitOut>();
        Assert.Equal(36u, o.Minor);
        Assert.Equal(0u, o.Flags2);
        Assert.Equal(0u, o.Flags & (uint)FuseInitFlags.InitExt);
    }

    [Fact]
    public void Init_Minor35ShortInitIn_IsAcceptedWithModernReply()
    {
        var h = new DispatcherHarness(new MemoryFileSystem(), init: false);
        Reply r = h.Send(Protocol.Init(minor: 35))!;

        Assert.Equal(0, r.Error);
        Assert.Equal(InitOut.SizeOf, r.Body.Length);
        Assert.Equal(35u, r.Read<InitOut>().Minor);
        Assert.Equal(0u, r.Read<InitOut>().Flags2);
        Assert.False(h.Dispatcher.Connection!.Has(FuseInitFlags.InitExt));
    }

    [Fact]
    public void Init_Minor22_GetsThe24ByteCompatReply()
    {
        var h = new DispatcherHarness(new MemoryFileSystem(), init: false);
        Reply r = h.Send(Protocol.Init(minor: 22))!;

        Assert.Equal(0, r.Error);
        Assert.Equal(InitOut.Compat22SizeOf, r.Body.Length);
        Assert.Equal(22u, r.Read<uint>(4));
    }

    [Fact]
    public void Init_OlderThanMinimumMinor_IsRefusedWithEPROTO()
    {
        var h = new DispatcherHarness(new MemoryFileSystem(), init: false);
        Reply r = h.Send(Protocol.Init(minor: 11))!;

        Assert.Equal(Errno.EPROTO, r.Errno);
        Assert.Null(h.Dispatcher.Connection);
    }

    [Fact]
    public void Init_NewerMajor_AnswersMajor7SoTheKernelRetries()
    {
        var h = new DispatcherHarness(new MemoryFileSystem(), init: false);
        Reply r = h.Send(Protocol.Init(major: 8, minor: 0))!;

        Assert.Equal(0, r.Error);
        Assert.Equal(8, r.Body.Length);
        Assert.Equal(7u, r.Read<uint>());
        Assert.Null(h.Dispatcher.Connection);
    }

    [Fact]
    public void Init_Twice_IsRejected()
    {
        var h = new DispatcherHarness(new MemoryFileSystem());
        Reply r = h.Send(Protocol.Init())!;

        Assert.Equal(Errno.EINVAL, r.Errno);
    }

    [Fact]
    public void Init_WhenTheFileSystemThrows_FailsWithEIO_AndLeavesNoConnection()
    {
        var h = new DispatcherHarness(new ThrowingInitFileSystem(), init: false);

        Reply r = h.Send(Protocol.Init())!;

        Assert.Equal(Errno.EIO, r.Errno);
        Assert.Null(h.Dispatcher.Connection);
        Assert.Equal(1, h.Dispatcher.Counters.HandlerExceptions);
    }

    [Fact]
    public void RequestBeforeInit_IsAnsweredEIO()
    {
        var h = new DispatcherHarness(new MemoryFileSystem(), init: false);
        Reply r = h.Call(FuseOpcode.GetAttr, 1, Protocol.Bytes(new GetAttrIn()));

        Assert.Equal(Errno.EIO, r.Errno);
    }

    [Fact]
    public async Task Init_OldMinor_DisablesNotificationsItCannotCarry()
    {
        var h = new DispatcherHarness(new MemoryFileSystem(), init: false);
        h.Send(Protocol.Init(minor: 43));

        Assert.Equal(Errno.ENOSYS, await h.Dispatcher.Notifier.IncrementEpochAsync());
        Assert.Equal(Errno.ENOSYS, await h.Dispatcher.Notifier.PruneAsync([5]));
    }

    private sealed class ThrowingInitFileSystem : IFuseFileSystem
    {
        public void Init(FuseConnectionInfo connection) => throw new InvalidOperationException("backend unavailable");
    }

    /// <summary>Implements GETATTR only: everything else is the interface's ENOSYS default.</summary>
    private sealed class GetAttrOnlyFileSystem : IFuseFileSystem
    {
        public Errno GetAttr(in FuseContext context, ulong nodeId, ulong? fileHandle, out FuseAttrReply reply)
        {
            reply = new FuseAttrReply(new InodeAttributes { Ino = nodeId, Mode = (uint)FileType.Directory | 0x1ED, Nlink = 2 }, TimeSpan.FromSeconds(1));
            return Errno.Ok;
        }
    }
}
