// SPDX-License-Identifier: MIT
using Crfs.Fuse.Abi;
using Crfs.Posix;

namespace Crfs.Fuse.Tests;

public sealed partial class FuseDispatcherTests
{
    [Fact]
    public async Task Interrupt_OfABlockedSetLkW_CancelsItsToken_AndTheTargetAnswersEINTR()
    {
        var fs = new MemoryFileSystem();
        ulong node = fs.AddFile(Root, "f", []);
        var h = new DispatcherHarness(fs);
        var whole = new FileLock { Start = 0, End = long.MaxValue, Type = (uint)FuseLockType.Write };
        h.Ok(FuseOpcode.SetLk, node, Protocol.Bytes(new LkIn { Owner = 1, Lk = whole }));

        // Another "reader" blocks in SETLKW for a conflicting owner.
        byte[] blocked = Protocol.Request(FuseOpcode.SetLkW, 500, node, Protocol.Bytes(new LkIn { Owner = 2, Lk = whole }));
        byte[] blockedReply = new byte[h.Dispatcher.ReplyBufferSize];
        Task<int> waiter = Task.Factory.StartNew(() => h.Dispatcher.Dispatch(blocked, blockedReply), TaskCreationOptions.LongRunning);

        // The INTERRUPT races with the waiter registering its request: EAGAIN means "not in
        // flight yet", exactly what the kernel would re-queue.
        Reply? interruptReply;
        do
        {
            interruptReply = h.Send(Protocol.Request(FuseOpcode.Interrupt, 501, 0, Protocol.Bytes(new InterruptIn { Unique = 500 })));
            if (interruptReply is not null)
            {
                Assert.Equal(Errno.EAGAIN, interruptReply.Errno);
                Assert.Equal(501ul, interruptReply.Unique);
                await Task.Delay(5);
            }
        }
        while (interruptReply is not null);

        int length = await waiter.WaitAsync(TimeSpan.FromSeconds(30));
        Reply r = Reply.Parse(blockedReply, length)!;
        Assert.Equal(500ul, r.Unique);
        Assert.Equal(Errno.EINTR, r.Errno);
        Assert.Equal(1, h.Dispatcher.Counters.Interrupts);
    }

    [Fact]
    public void Interrupt_ForUnknownRequest_IsAnsweredEAGAINOnItsOwnUnique()
    {
        var h = new DispatcherHarness(new MemoryFileSystem());

        Reply r = h.Send(Protocol.Request(FuseOpcode.Interrupt, 77, 0, Protocol.Bytes(new InterruptIn { Unique = 76 })))!;

        Assert.Equal(Errno.EAGAIN, r.Errno);
        Assert.Equal(77ul, r.Unique);
    }

    [Fact]
    public void Interrupt_WhenDisabled_IsAnsweredENOSYSSoTheKernelStopsSendingThem()
    {
        var h = new DispatcherHarness(new MemoryFileSystem(), new FuseOptions { Interrupts = false });

        Reply r = h.Send(Protocol.Request(FuseOpcode.Interrupt, 77, 0, Protocol.Bytes(new InterruptIn { Unique = 76 })))!;

        Assert.Equal(Errno.ENOSYS, r.Errno);
    }

    [Fact]
    public async Task RequestAfterAnInterruptedOne_OnTheSameThread_GetsAFreshToken()
    {
        var fs = new TokenProbeFileSystem();
        var h = new DispatcherHarness(fs);
        Task<int> first = Task.Factory.StartNew(() =>
        {
            byte[] reply = new byte[h.Dispatcher.ReplyBufferSize];
            int n = h.Dispatcher.Dispatch(Protocol.Request(FuseOpcode.Fsync, 900, 5, Protocol.Bytes(new FsyncIn())), reply);
            fs.AfterFirst.Set();

            // Same thread, next request: its token must not be the cancelled one.
            fs.Observed = null;
            h.Dispatcher.Dispatch(Protocol.Request(FuseOpcode.Fsync, 902, 5, Protocol.Bytes(new FsyncIn())), reply);
            return n;
        }, TaskCreationOptions.LongRunning);

        Assert.True(fs.Entered.Wait(TimeSpan.FromSeconds(30)));
        Assert.Null(h.Send(Protocol.Request(FuseOpcode.Interrupt, 901, 0, Protocol.Bytes(new InterruptIn { Unique = 900 }))));
        await first.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.False(fs.Observed!.Value.IsCancellationRequested);
    }

    /// <summary>Blocks the first FSYNC until its token is cancelled; records the token of later ones.</summary>
    private sealed class TokenProbeFileSystem : IFuseFileSystem
    {
        private int _calls;

        public ManualResetEventSlim Entered { get; } = new();

        public ManualResetEventSlim AfterFirst { get; } = new();

        public CancellationToken? Observed { get; set; }

        public Errno Fsync(in FuseContext context, ulong nodeId, ulong fileHandle, bool dataOnly)
        {
            if (Interlocked.Increment(ref _calls) == 1)
            {
                Entered.Set();
                context.CancellationToken.WaitHandle.WaitOne(TimeSpan.FromSeconds(30));
                return context.CancellationToken.IsCancellationRequested ? Errno.EINTR : Errno.Ok;
            }

            Observed = context.CancellationToken;
            return Errno.Ok;
        }
    }
}
