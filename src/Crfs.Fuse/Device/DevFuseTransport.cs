// SPDX-License-Identifier: MIT
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Crfs.Fuse.Abi;
using Crfs.Posix;
using Microsoft.Extensions.Logging;

namespace Crfs.Fuse;

/// <summary>
/// The classic transport: dedicated threads blocking in read(2) on one /dev/fuse descriptor, each
/// handling what it read inline and writing the reply with one write(2).
/// </summary>
/// <remarks>
/// <para><b>Readers.</b> Any number of threads may wait in read(2) on the same descriptor; the kernel
/// hands each request to exactly one (an exclusive wait). A reader serves its request itself —
/// measured about twice as fast as handing it to a worker — so a blocked handler blocks its
/// reader. To keep one reader always waiting (FORGETs, INTERRUPTs and requests a pending
/// notification waits for must get through), a reader that takes a request and sees no other
/// waiting starts one more thread, up to <see cref="FuseOptions.MaxReaders"/>. FORGETs do not
/// count: they are cheap and arrive in floods. Threads are never retired; an idle reader costs
/// only its buffers.</para>
/// <para><b>Buffers.</b> Each reader owns one request and one reply buffer, allocated once on the
/// pinned object heap (so their addresses can go to read/write without pinning per call) and
/// sized for the largest request and reply the negotiated max_write allows.</para>
/// <para><b>Shutdown.</b> Unmount or abort makes read(2) fail with ENODEV (ECONNABORTED after an
/// abort, since ABORT_ERROR is negotiated); every reader then exits and the last one completes
/// <see cref="Completion"/>. A reply write failing with ENOENT means the request is gone
/// (interrupted and answered, or the connection is being torn down) and is ignored.</para>
/// </remarks>
internal sealed class DevFuseTransport : IFuseMessageSink
{
    private readonly int _fd;
    private readonly FuseDispatcher _dispatcher;
    private readonly ILogger _logger;
    private readonly int _maxReaders;
    private readonly TaskCompletionSource<bool> _initialized = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _completion = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private int _readers;
    private int _liveReaders;
    private int _waiting;

    public DevFuseTransport(int fd, FuseDispatcher dispatcher, ILogger logger)
    {
        _fd = fd;
        _dispatcher = dispatcher;
        _logger = logger;
        _maxReaders = dispatcher.Options.MaxReaders;
    }

    /// <summary>Completes with true once INIT is answered, false if the kernel's INIT was refused.</summary>
    public Task<bool> Initialized => _initialized.Task;

    /// <summary>Completes when every reader has stopped (the connection ended).</summary>
    public Task Completion => _completion.Task;

    /// <summary>Threads started so far.</summary>
    public int ReaderCount => Volatile.Read(ref _readers);

    /// <summary>Called on the reader that answered INIT, after the reply was written and before it reads again.</summary>
    public Action<FuseConnectionInfo>? AfterInit { get; set; }

    public void Start()
    {
        for (int i = 0; i < _dispatcher.Options.MinReaders; i++)
        {
            Interlocked.Increment(ref _readers);
            StartReader();
        }
    }

    public unsafe Errno Write(ReadOnlySpan<byte> message)
    {
        fixed (byte* p = message)
        {
            nint written = Libc.Write(_fd, p, message.Length);
            return written < 0 ? Libc.LastErrno : Errno.Ok;
        }
    }

    private void StartReader()
    {
        Interlocked.Increment(ref _liveReaders);
        var thread = new Thread(ReaderLoop) { IsBackground = true, Name = "fuse-reader" };
        thread.Start();
    }

    private void TryGrow()
    {
        int current = Volatile.Read(ref _readers);
        while (current < _maxReaders)
        {
            int seen = Interlocked.CompareExchange(ref _readers, current + 1, current);
            if (seen == current)
            {
                StartReader();
                return;
            }

            current = seen;
        }
    }

    private unsafe void ReaderLoop()
    {
        byte[] requestBuffer = GC.AllocateUninitializedArray<byte>(_dispatcher.RequestBufferSize, pinned: true);
        byte[] replyBuffer = GC.AllocateUninitializedArray<byte>(_dispatcher.ReplyBufferSize, pinned: true);
        byte* request = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(requestBuffer));
        byte* reply = (byte*)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(replyBuffer));
        try
        {
            while (true)
            {
                Interlocked.Increment(ref _waiting);
                nint n = Libc.Read(_fd, request, requestBuffer.Length);
                int stillWaiting = Interlocked.Decrement(ref _waiting);
                if (n < 0)
                {
                    Errno e = Libc.LastErrno;
                    if (e is Errno.EINTR or Errno.EAGAIN or Errno.ENOENT)
                    {
                        continue;
                    }

                    if (e is not (Errno.ENODEV or Errno.ECONNABORTED))
                    {
                        FuseLog.ReadFailed(_logger, e);
                    }

                    return;
                }

                var opcode = n >= 8 ? (FuseOpcode)Unsafe.ReadUnaligned<uint>(request + 4) : 0;
                if (stillWaiting == 0 && opcode is not (FuseOpcode.Forget or FuseOpcode.BatchForget))
                {
                    TryGrow();
                }

                int length = _dispatcher.Dispatch(new ReadOnlySpan<byte>(request, (int)n), replyBuffer);
                if (length > 0)
                {
                    WriteReply(reply, length);
                }

                if (opcode == FuseOpcode.Init && !_initialized.Task.IsCompleted)
                {
                    FuseConnectionInfo? connection = _dispatcher.Connection;
                    if (connection is not null)
                    {
                        AfterInit?.Invoke(connection);
                    }

                    _initialized.TrySetResult(connection is not null);
                }
            }
        }
        finally
        {
            if (Interlocked.Decrement(ref _liveReaders) == 0)
            {
                _initialized.TrySetResult(false);
                _completion.TrySetResult();
            }
        }
    }

    private unsafe void WriteReply(byte* reply, int length)
    {
        nint written = Libc.Write(_fd, reply, length);
        if (written >= 0)
        {
            return;
        }

        Errno e = Libc.LastErrno;

        // ENOENT: the request was interrupted and already answered, or the connection is going
        // away; ENODEV/ECONNABORTED: it is gone. Neither is the file system's problem.
        if (e is not (Errno.ENOENT or Errno.ENODEV or Errno.ECONNABORTED))
        {
            FuseLog.ReplyWriteFailed(_logger, Unsafe.ReadUnaligned<ulong>(reply + 8), e);
        }
    }
}
