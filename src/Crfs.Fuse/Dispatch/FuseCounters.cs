// SPDX-License-Identifier: MIT
using Crfs.Fuse.Abi;

namespace Crfs.Fuse;

/// <summary>
/// Requests seen, by opcode, plus a few totals. Incremented by the dispatcher with one interlocked
/// add per request; read at any time (values are individually atomic, not a consistent snapshot
/// across opcodes). Benchmarks divide by the number of files to get requests per file.
/// </summary>
public sealed class FuseCounters
{
    // Opcodes are below 64 except CUSE_INIT (4096), which lands in the last slot.
    private const int Slots = 64;

    private readonly long[] _requests = new long[Slots];
    private long _errorReplies;
    private long _handlerExceptions;
    private long _malformedRequests;
    private long _interrupts;
    private long _notifications;
    private long _ringRequests;

    public long this[FuseOpcode opcode] => Volatile.Read(ref _requests[Slot(opcode)]);

    /// <summary>All requests, every opcode.</summary>
    public long TotalRequests
    {
        get
        {
            long total = 0;
            for (int i = 0; i < Slots; i++)
            {
                total += Volatile.Read(ref _requests[i]);
            }

            return total;
        }
    }

    /// <summary>Replies that carried an errno.</summary>
    public long ErrorReplies => Volatile.Read(ref _errorReplies);

    /// <summary>Handler exceptions turned into EIO.</summary>
    public long HandlerExceptions => Volatile.Read(ref _handlerExceptions);

    /// <summary>Requests rejected at the boundary (truncated, inconsistent lengths, missing NULs).</summary>
    public long MalformedRequests => Volatile.Read(ref _malformedRequests);

    /// <summary>INTERRUPTs that found their target and cancelled it.</summary>
    public long Interrupts => Volatile.Read(ref _interrupts);

    /// <summary>Notifications written to the kernel.</summary>
    public long Notifications => Volatile.Read(ref _notifications);

    /// <summary>Requests that arrived through io_uring entries rather than read(2) on /dev/fuse.</summary>
    public long RingRequests => Volatile.Read(ref _ringRequests);

    /// <summary>Non-zero request counts by opcode.</summary>
    public IReadOnlyDictionary<FuseOpcode, long> Snapshot()
    {
        var result = new SortedDictionary<FuseOpcode, long>();
        for (int i = 0; i < Slots; i++)
        {
            long n = Volatile.Read(ref _requests[i]);
            if (n != 0)
            {
                result[i == Slots - 1 ? (FuseOpcode)4096 : (FuseOpcode)i] = n;
            }
        }

        return result;
    }

    public void Reset()
    {
        for (int i = 0; i < Slots; i++)
        {
            Volatile.Write(ref _requests[i], 0);
        }

        Volatile.Write(ref _errorReplies, 0);
        Volatile.Write(ref _handlerExceptions, 0);
        Volatile.Write(ref _malformedRequests, 0);
        Volatile.Write(ref _interrupts, 0);
        Volatile.Write(ref _notifications, 0);
        Volatile.Write(ref _ringRequests, 0);
    }

    internal void CountRequest(FuseOpcode opcode) => Interlocked.Increment(ref _requests[Slot(opcode)]);

    internal void CountErrorReply() => Interlocked.Increment(ref _errorReplies);

    internal void CountHandlerException() => Interlocked.Increment(ref _handlerExceptions);

    internal void CountMalformed() => Interlocked.Increment(ref _malformedRequests);

    internal void CountInterrupt() => Interlocked.Increment(ref _interrupts);

    internal void CountNotification() => Interlocked.Increment(ref _notifications);

    internal void CountRingRequest() => Interlocked.Increment(ref _ringRequests);

    private static int Slot(FuseOpcode opcode) => (uint)opcode < Slots - 1 ? (int)opcode : Slots - 1;
}
