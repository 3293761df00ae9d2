// SPDX-License-Identifier: MIT
using System.Diagnostics.CodeAnalysis;
using System.Globalization;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Crfs.Fuse.Abi;
using Crfs.Posix;
using Microsoft.Extensions.Logging;

namespace Crfs.Fuse;

/// <summary>
/// FUSE over io_uring (protocol 7.42+): one ring and one thread per possible CPU, each with
/// <see cref="FuseOptions.IoUringQueueDepth"/> registered entries. The kernel puts a request in an
/// entry of the queue of the CPU the caller runs on and completes that entry's pending command;
/// the queue thread (pinned to that CPU) answers with COMMIT_AND_FETCH, which in one
/// io_uring_enter both delivers the reply and re-arms the entry for the next request.
/// </summary>
/// <remarks>
/// <para><b>Handshake.</b> INIT still travels over /dev/fuse; if OVER_IO_URING was negotiated the
/// queues register their entries (FUSE_IO_URING_CMD_REGISTER, an iovec of header buffer and
/// payload buffer). From INIT on, the kernel holds new requests until every queue has an entry,
/// then sends them through the rings — so a queue that cannot start must end the connection
/// (<c>onFailure</c>), and <see cref="TryProbe"/> runs before io_uring is even asked for. FORGETs
/// and INTERRUPTs always stay on /dev/fuse, as do notifications, so the /dev/fuse readers keep
/// running beside the rings.</para>
/// <para><b>Layout of an entry.</b> The kernel writes the fuse_in_header into the header buffer's
/// in_out area, the opcode's fixed struct into op_in, the rest (names, data) into the payload
/// buffer, and its size into ring_ent_in_out.payload_sz. The dispatcher wants one contiguous
/// request, so the payload buffer is the tail of a larger pinned buffer and the header and fixed
/// struct (at most 168 bytes) are copied in front of it: the payload itself is never copied. The
/// reply goes back the same way: out header into in_out, body into the payload buffer.</para>
/// <para><b>Limits.</b> A queue serves its requests one at a time on its thread: a handler that
/// blocks (a lock wait, a slow backend) stalls the requests of callers on that CPU, where the
/// /dev/fuse pool would grow a reader. Interrupts still work (they arrive on /dev/fuse and cancel
/// the handler's token). This transport is opt-in.</para>
/// </remarks>
internal sealed unsafe class IoUringTransport
{
    private const int HeaderBufferSize = 288;
    private const int InOutOffset = 0;
    private const int OpInOffset = 128;
    private const int OpInSize = 128;
    private const int EntInOutOffset = 256;
    private const uint CmdRegister = 1;
    private const uint CmdCommitAndFetch = 2;

    // Room in front of the payload for the in_header and the largest fixed struct.
    private const int Prefix = InHeader.SizeOf + OpInSize;

    private readonly int _fd;
    private readonly FuseDispatcher _dispatcher;
    private readonly ILogger _logger;
    private readonly Action _onFailure;
    private readonly List<Thread> _threads = [];
    private int _running;

    /// <param name="onFailure">
    /// Called (once per failing queue) when a queue cannot be set up: with OVER_IO_URING
    /// negotiated the kernel waits for every queue, so the owner must end the connection.
    /// </param>
    public IoUringTransport(int fd, FuseDispatcher dispatcher, ILogger logger, Action onFailure)
    {
        _fd = fd;
        _dispatcher = dispatcher;
        _logger = logger;
        _onFailure = onFailure;
        QueueDepth = dispatcher.Options.IoUringQueueDepth;
    }

    /// <summary>Whether this process can create the kind of ring the queues use (io_uring may be disabled by sysctl or seccomp).</summary>
    public static bool TryProbe([NotNullWhen(false)] out string? reason)
    {
        try
        {
            using IoUring ring = IoUring.Create(1);
            reason = null;
            return true;
        }
        catch (IOException e)
        {
            reason = e.Message;
            return false;
        }
    }

    /// <summary>True while queue threads run.</summary>
    public bool IsActive => Volatile.Read(ref _running) > 0;

    public int QueueCount { get; private set; }

    public int QueueDepth { get; }

    /// <summary>Called on the reader that answered INIT: starts the queues if the kernel agreed.</summary>
    public void OnInit(FuseConnectionInfo connection)
    {
        if (!connection.Has(FuseInitFlags.OverIoUring))
        {
            string reason = (connection.KernelFlags & FuseInitFlags.OverIoUring) == 0
                ? "the kernel does not offer FUSE_OVER_IO_URING (set /sys/module/fuse/parameters/enable_uring to Y before mounting)"
                : "not negotiated";
            FuseLog.IoUringUnavailable(_logger, reason);
            return;
        }

        int queues = PossibleCpus();
        QueueCount = queues;
        int payloadSize = Math.Max(Math.Max(8192, (int)connection.MaxWrite), Math.Max(_dispatcher.ReplyBufferSize, _dispatcher.RequestBufferSize));
        for (int q = 0; q < queues; q++)
        {
            int queue = q;
            Interlocked.Increment(ref _running);
            var thread = new Thread(() => QueueLoop(queue, payloadSize)) { IsBackground = true, Name = $"fuse-uring-{q}" };
            _threads.Add(thread);
            thread.Start();
        }
    }

    /// <summary>Waits for the queue threads; the kernel ends their commands with ENOTCONN when the connection goes.</summary>
    public void Stop()
    {
        foreach (Thread thread in _threads)
        {
            thread.Join(FuseServer.ShutdownTimeout);
        }
    }

    private void QueueLoop(int queue, int payloadSize)
    {
        try
        {
            if (queue < 64)
            {
                // Requests are queued per CPU of the caller: serving them on that CPU avoids a
                // cross-CPU wakeup per request. Failure (an offline CPU) only costs speed.
                ulong mask = 1UL << queue;
                Libc.SchedSetAffinity(0, sizeof(ulong), &mask);
            }

            using IoUring ring = IoUring.Create((uint)QueueDepth);
            var entries = new Entry[QueueDepth];
            byte[] reply = GC.AllocateUninitializedArray<byte>(_dispatcher.ReplyBufferSize, pinned: true);
            Libc.IoVec* iov = stackalloc Libc.IoVec[2 * QueueDepth];
            for (int i = 0; i < QueueDepth; i++)
            {
                entries[i] = new Entry(payloadSize);
                iov[2 * i] = new Libc.IoVec { Base = entries[i].Header, Length = HeaderBufferSize };
                iov[(2 * i) + 1] = new Libc.IoVec { Base = entries[i].Payload, Length = (nuint)payloadSize };
                Register(ring, queue, i, &iov[2 * i]);
            }

            Errno submitted = ring.SubmitAndWait(1);
            while (submitted == Errno.Ok)
            {
                while (ring.TryReap(out ulong userData, out int result))
                {
                    int index = (int)userData;
                    if (result == -(int)Errno.EAGAIN)
                    {
                        // REGISTER raced INIT's completion in the kernel: try again.
                        Register(ring, queue, index, &iov[2 * index]);
                        continue;
                    }

                    if (result < 0)
                    {
                        // ENOTCONN/ECONNABORTED/ECANCELED: the connection is going away.
                        if (result is not (-(int)Errno.ENOTCONN or -(int)Errno.ECONNABORTED or -(int)Errno.ECANCELED))
                        {
                            FuseLog.IoUringQueueFailed(_logger, queue, (Errno)(-result));
                        }

                        return;
                    }

                    Serve(ring, queue, index, entries[index], reply);
                }

                submitted = ring.SubmitAndWait(1);
            }

            FuseLog.IoUringQueueFailed(_logger, queue, submitted);
        }
        catch (IOException e)
        {
            FuseLog.IoUringUnavailable(_logger, e.Message);
            _onFailure();
        }
        finally
        {
            Interlocked.Decrement(ref _running);
        }
    }

    private void Register(IoUring ring, int queue, int index, Libc.IoVec* iov)
    {
        byte* sqe = ring.NextSqe();
        FillCommand(sqe, CmdRegister, index, queue, commitId: 0);
        Unsafe.WriteUnaligned(sqe + 16, (ulong)iov);
        Unsafe.WriteUnaligned(sqe + 24, 2u);
    }

    private void Serve(IoUring ring, int queue, int index, Entry entry, byte[] reply)
    {
        Counters.CountRingRequest();
        byte* header = entry.Header;
        InHeader inHeader = Unsafe.ReadUnaligned<InHeader>(header + InOutOffset);
        ulong commitId = Unsafe.ReadUnaligned<ulong>(header + EntInOutOffset + 8);
        uint payloadLength = Unsafe.ReadUnaligned<uint>(header + EntInOutOffset + 16);
        long fixedSize = (long)inHeader.Len - InHeader.SizeOf - payloadLength;

        int length;
        if (fixedSize is < 0 or > OpInSize || payloadLength > (uint)entry.PayloadSize)
        {
            // Not something the dispatcher can even be shown: answer EIO so the entry is re-armed.
            Counters.CountMalformed();
            MemoryMarshal.Write(reply, new OutHeader { Len = OutHeader.SizeOf, Error = -(int)Errno.EIO, Unique = inHeader.Unique });
            length = OutHeader.SizeOf;
        }
        else
        {
            // Rebuild [in_header][fixed struct][payload] contiguously in front of the payload.
            byte* start = entry.Payload - InHeader.SizeOf - fixedSize;
            Buffer.MemoryCopy(header + InOutOffset, start, InHeader.SizeOf, InHeader.SizeOf);
            Buffer.MemoryCopy(header + OpInOffset, start + InHeader.SizeOf, fixedSize, fixedSize);
            var request = new ReadOnlySpan<byte>(start, (int)inHeader.Len);
            length = _dispatcher.Dispatch(request, reply);
            if (length == 0)
            {
                // No reply by protocol (NOTIFY_REPLY): the entry still has to be committed to be re-armed.
                MemoryMarshal.Write(reply, new OutHeader { Len = OutHeader.SizeOf, Error = 0, Unique = inHeader.Unique });
                length = OutHeader.SizeOf;
            }
        }

        fixed (byte* r = reply)
        {
            Buffer.MemoryCopy(r, header + InOutOffset, OutHeader.SizeOf, OutHeader.SizeOf);
            int body = length - OutHeader.SizeOf;
            Buffer.MemoryCopy(r + OutHeader.SizeOf, entry.Payload, entry.PayloadSize, body);
            Unsafe.WriteUnaligned(header + EntInOutOffset + 16, (uint)body);
        }

        byte* sqe = ring.NextSqe();
        FillCommand(sqe, CmdCommitAndFetch, index, queue, commitId);
    }

    private FuseCounters Counters => _dispatcher.Counters;

    private void FillCommand(byte* sqe, uint command, int index, int queue, ulong commitId)
    {
        sqe[0] = IoUring.OpUringCmd;
        Unsafe.WriteUnaligned(sqe + 4, _fd);
        Unsafe.WriteUnaligned(sqe + 8, command);
        Unsafe.WriteUnaligned(sqe + 32, (ulong)index);

        // fuse_uring_cmd_req in the command area: flags u64, commit_id u64, qid u16.
        Unsafe.WriteUnaligned(sqe + IoUring.SqeCommandOffset + 8, commitId);
        Unsafe.WriteUnaligned(sqe + IoUring.SqeCommandOffset + 16, (ushort)queue);
    }

    /// <summary>The kernel's queue count: num_possible_cpus (the highest id in /sys/.../possible, plus one).</summary>
    private static int PossibleCpus()
    {
        try
        {
            string text = File.ReadAllText("/sys/devices/system/cpu/possible").Trim();
            int highest = 0;
            foreach (string range in text.Split(','))
            {
                string last = range.Contains('-', StringComparison.Ordinal) ? range[(range.IndexOf('-', StringComparison.Ordinal) + 1)..] : range;
                highest = Math.Max(highest, int.Parse(last, CultureInfo.InvariantCulture));
            }

            return highest + 1;
        }
        catch (IOException)
        {
            return Environment.ProcessorCount;
        }
    }

    /// <summary>One ring entry's buffers, pinned for the life of the process (the kernel keeps their addresses).</summary>
    private sealed class Entry
    {
        private readonly byte[] _header;
        private readonly byte[] _buffer;

        public Entry(int payloadSize)
        {
            _header = GC.AllocateArray<byte>(HeaderBufferSize, pinned: true);
            _buffer = GC.AllocateArray<byte>(Prefix + payloadSize, pinned: true);
            PayloadSize = payloadSize;
        }

        public int PayloadSize { get; }

        public byte* Header => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_header));

        public byte* Payload => (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(_buffer)) + Prefix;
    }
}
