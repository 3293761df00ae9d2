// SPDX-License-Identifier: MIT
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;
using Crfs.Fuse.Abi;
using Crfs.Posix;

namespace Crfs.Fuse.Tests;

/// <summary>The notifier without a kernel: message encoding, ordering, completion, retrieve round trips.</summary>
public sealed class FuseNotifierTests
{
    [Fact]
    public async Task InvalidateEntry_EncodesHeaderBodyAndNulTerminatedName()
    {
        (DispatcherHarness h, RecordingSink sink) = Attached();

        Assert.Equal(Errno.Ok, await h.Dispatcher.Notifier.InvalidateEntryAsync(5, "name"u8, expireOnly: true));

        byte[] m = sink.Messages.Single();
        OutHeader o = MemoryMarshal.Read<OutHeader>(m);
        Assert.Equal((uint)m.Length, o.Len);
        Assert.Equal((int)FuseNotifyCode.InvalEntry, o.Error);
        Assert.Equal(0ul, o.Unique);
        NotifyInvalEntryOut body = MemoryMarshal.Read<NotifyInvalEntryOut>(m.AsSpan(OutHeader.SizeOf));
        Assert.Equal(5ul, body.Parent);
        Assert.Equal(4u, body.NameLen);
        Assert.Equal(NotifyInvalEntryOut.FlagExpireOnly, body.Flags);
        Assert.Equal("name\0", Encoding.ASCII.GetString(m, OutHeader.SizeOf + NotifyInvalEntryOut.SizeOf, 5));
        Assert.Equal(1, h.Dispatcher.Counters.Notifications);
    }

    [Fact]
    public async Task InvalidateEntry_ExpireOnlyWithoutKernelSupport_FallsBackToFullInvalidation()
    {
        (DispatcherHarness h, RecordingSink sink) = Attached(flags2: Protocol.KernelFlags2 & ~(uint)((ulong)FuseInitFlags.HasExpireOnly >> 32));

        await h.Dispatcher.Notifier.InvalidateEntryAsync(5, "n"u8, expireOnly: true);

        Assert.Equal(0u, MemoryMarshal.Read<NotifyInvalEntryOut>(sink.Messages.Single().AsSpan(OutHeader.SizeOf)).Flags);
    }

    [Fact]
    public async Task AllNotifications_AreWrittenInQueueOrderWithTheirCodes()
    {
        (DispatcherHarness h, RecordingSink sink) = Attached();
        IFuseNotifier n = h.Dispatcher.Notifier;

        Task<Errno>[] all =
        [
            n.InvalidateInodeAsync(7, 4096, 8192),
            n.DeleteAsync(1, 7, "gone"u8),
            n.StoreAsync(7, 100, [1, 2, 3]),
            n.IncrementEpochAsync(),
            n.PruneAsync([7, 8, 9]),
            n.PollWakeupAsync(42),
        ];
        await Task.WhenAll(all);
        byte[][] messages = sink.Messages.ToArray();

        Assert.Equal(
            [FuseNotifyCode.InvalInode, FuseNotifyCode.Delete, FuseNotifyCode.Store, FuseNotifyCode.IncEpoch, FuseNotifyCode.Prune, FuseNotifyCode.Poll],
            messages.Select(m => (FuseNotifyCode)MemoryMarshal.Read<OutHeader>(m).Error));
        NotifyInvalInodeOut inval = MemoryMarshal.Read<NotifyInvalInodeOut>(messages[0].AsSpan(OutHeader.SizeOf));
        Assert.Equal((7ul, 4096L, 8192L), (inval.Ino, inval.Off, inval.Len));
        Assert.Equal(OutHeader.SizeOf + NotifyStoreOut.SizeOf + 3, messages[2].Length);
        Assert.Equal(OutHeader.SizeOf, messages[3].Length);
        Assert.Equal(OutHeader.SizeOf + NotifyPruneOut.SizeOf + 24, messages[4].Length);
    }

    [Fact]
    public async Task KernelAnswer_IsTheTaskResult()
    {
        (DispatcherHarness h, RecordingSink sink) = Attached();
        sink.Result = Errno.ENOENT;

        Assert.Equal(Errno.ENOENT, await h.Dispatcher.Notifier.InvalidateInodeAsync(99));
        Assert.Equal(0, h.Dispatcher.Counters.Notifications);
    }

    [Fact]
    public async Task WithoutATransport_NotificationsCompleteWithENOTCONN()
    {
        var h = new DispatcherHarness(new MemoryFileSystem());
        Assert.Equal(Errno.ENOTCONN, await h.Dispatcher.Notifier.InvalidateInodeAsync(1));

        var uninitialized = new DispatcherHarness(new MemoryFileSystem(), init: false);
        Assert.Equal(Errno.ENOTCONN, await uninitialized.Dispatcher.Notifier.InvalidateInodeAsync(1));
    }

    [Fact]
    public async Task Queueing_DoesNotWaitForABlockedKernelWrite()
    {
        (DispatcherHarness h, RecordingSink sink) = Attached();
        sink.Gate.Reset();

        // The first write blocks (as a notify does while the kernel waits for an inode lock);
        // queuing more must still return at once, and everything completes when it unblocks.
        Task<Errno> first = h.Dispatcher.Notifier.InvalidateInodeAsync(1);
        Task<Errno> second = h.Dispatcher.Notifier.InvalidateEntryAsync(1, "x"u8);
        Assert.False(first.IsCompleted);
        Assert.False(second.IsCompleted);

        sink.Gate.Set();
        await Task.WhenAll(first, second).WaitAsync(TimeSpan.FromSeconds(30));
    }

    [Fact]
    public async Task Retrieve_CompletesWhenTheKernelsNotifyReplyArrives()
    {
        (DispatcherHarness h, RecordingSink sink) = Attached();
        Task<FuseRetrieveResult> pending = h.Dispatcher.Notifier.RetrieveAsync(7, 4096, 100);
        Assert.True(SpinWait.SpinUntil(() => !sink.Messages.IsEmpty, TimeSpan.FromSeconds(30)));
        NotifyRetrieveOut asked = MemoryMarshal.Read<NotifyRetrieveOut>(sink.Messages.Single().AsSpan(OutHeader.SizeOf));
        Assert.Equal((7ul, 4096ul, 100u), (asked.NodeId, asked.Offset, asked.Size));

        byte[] data = [9, 8, 7];
        byte[] notifyReply = Protocol.Request(FuseOpcode.NotifyReply, asked.NotifyUnique, 7, Protocol.Bytes(new NotifyRetrieveIn { Offset = 4096, Size = 3 }), data);
        Assert.Null(h.Send(notifyReply));

        FuseRetrieveResult result = await pending.WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Errno.Ok, result.Error);
        Assert.Equal(4096, result.Offset);
        Assert.Equal(data, result.Data);
    }

    [Fact]
    public async Task Detach_CompletesPendingRetrievesWithENOTCONN()
    {
        (DispatcherHarness h, _) = Attached();
        Task<FuseRetrieveResult> pending = h.Dispatcher.Notifier.RetrieveAsync(7, 0, 10);
        await Task.Delay(50);

        h.Dispatcher.Notifier.Detach();

        Assert.Equal(Errno.ENOTCONN, (await pending.WaitAsync(TimeSpan.FromSeconds(30))).Error);
    }

    private static (DispatcherHarness Harness, RecordingSink Sink) Attached(uint flags2 = Protocol.KernelFlags2)
    {
        var h = new DispatcherHarness(new MemoryFileSystem(), init: false);
        Assert.Equal(0, h.Send(Protocol.Init(flags2: flags2))!.Error);
        var sink = new RecordingSink();
        h.Dispatcher.Notifier.Attach(sink);
        return (h, sink);
    }

    private sealed class RecordingSink : IFuseMessageSink
    {
        public ConcurrentQueue<byte[]> Messages { get; } = new();

        public ManualResetEventSlim Gate { get; } = new(initialState: true);

        public Errno Result { get; set; } = Errno.Ok;

        public Errno Write(ReadOnlySpan<byte> message)
        {
            Gate.Wait(TimeSpan.FromSeconds(60));
            Messages.Enqueue(message.ToArray());
            return Result;
        }
    }
}
