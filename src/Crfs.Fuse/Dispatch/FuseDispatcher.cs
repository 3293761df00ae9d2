// SPDX-License-Identifier: MIT
using System.Reflection;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Crfs.Fuse.Abi;
using Crfs.Posix;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Crfs.Fuse;

/// <summary>
/// Turns one FUSE request (the bytes a read of /dev/fuse returned) into one reply (the bytes to
/// write back), calling an <see cref="IFuseFileSystem"/> in between. It knows nothing of the
/// transport, so the whole protocol is testable from byte arrays, and /dev/fuse and io_uring
/// share it.
/// </summary>
/// <remarks>
/// <para><b>Boundary.</b> Request bytes come from the kernel but are validated once, here, as if
/// they were hostile: the header's length must equal the bytes read, the body must hold the
/// opcode's fixed struct, names must be NUL-terminated inside the body, data lengths must match
/// what the fixed struct says. A malformed request gets EINVAL (or, for opcodes the kernel waits
/// on no reply for, is dropped) and one log line; it never reaches the file system and never
/// throws. Everything past this point trusts the parsed values.</para>
/// <para><b>Hot path.</b> No allocation per request: structs are read from the request span,
/// names are slices of it, replies are written in place into the caller's reply buffer (READ data
/// and directory listings included), and the file system's results come back through
/// <c>out</c> structs on the stack. The only shared writes are one interlocked counter increment
/// and the in-flight slot of the calling thread.</para>
/// <para><b>Interrupts.</b> Each calling thread owns an in-flight slot (a <see cref="ThreadLocal{T}"/>)
/// holding the unique of the request it is serving and a reusable <see cref="CancellationTokenSource"/>.
/// An INTERRUPT scans the slots for its target and cancels that token; if the target is not in
/// flight yet (it is still being read by another thread) the INTERRUPT is answered EAGAIN and the
/// kernel re-queues it. A cancelled source is replaced, never reset, so a late cancel cannot hit
/// the next request. Lock order: a slot's monitor is the only lock, held for a few field writes.</para>
/// <para><b>Errors.</b> Handler results are errno values. An exception from a handler becomes EIO and
/// one log line; so does an errno outside (0, 512) or a success that hands out node id 0 where the
/// kernel requires a node.</para>
/// </remarks>
public sealed partial class FuseDispatcher
{
    public const uint KernelMajor = 7;

    /// <summary>The newest protocol minor this library speaks (Linux 6.18).</summary>
    public const uint MaxSupportedMinor = 45;

    /// <summary>The oldest kernel protocol accepted (Linux 2.6.31): every struct has its modern size from here on.</summary>
    public const uint MinSupportedMinor = 12;

    /// <summary>The largest extended attribute value or list (XATTR_SIZE_MAX).</summary>
    public const int MaxXattrSize = 65536;

    private const int ReplyBody = OutHeader.SizeOf;

    private readonly IFuseFileSystem _fs;
    private readonly FuseOptions _options;
    private readonly ILogger _logger;
    private readonly Implemented _implemented;
    private readonly ThreadLocal<InFlightSlot> _slots;

    // Decided once: the per-request trace costs one branch when off.
    private readonly bool _trace;

    // Written once by INIT before the kernel sends anything else (it holds every other request
    // until INIT is answered), read by every later request.
    private volatile FuseConnectionInfo? _connection;
    private bool _setXattrExt;

    public FuseDispatcher(IFuseFileSystem fileSystem, FuseOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(fileSystem);
        _fs = fileSystem;
        _options = options ?? new FuseOptions();
        _options.Validate();
        _logger = logger ?? NullLogger.Instance;
        _implemented = FindImplemented(fileSystem.GetType());
        _trace = _logger.IsEnabled(LogLevel.Trace);
        _slots = new ThreadLocal<InFlightSlot>(() => new InFlightSlot(), trackAllValues: true);
        Notifier = new FuseNotifier(this, _logger);
        RequestBufferSize = InHeader.SizeOf + WriteIn.SizeOf + Math.Max(_options.MaxWrite, MaxXattrSize + 4096) + 4096;
        ReplyBufferSize = OutHeader.SizeOf + Math.Max(_options.MaxWrite, MaxXattrSize);
    }

    public FuseCounters Counters { get; } = new();

    /// <summary>Queues kernel cache notifications; bound to a transport when the server starts.</summary>
    public FuseNotifier Notifier { get; }

    /// <summary>The negotiated connection, or null before INIT.</summary>
    public FuseConnectionInfo? Connection => _connection;

    public FuseOptions Options => _options;

    /// <summary>The request buffer a transport must read into (at least max_write plus headers, as the kernel demands).</summary>
    public int RequestBufferSize { get; }

    /// <summary>The reply buffer a transport must pass to <see cref="Dispatch"/>.</summary>
    public int ReplyBufferSize { get; }

    internal ILogger Logger => _logger;

    /// <summary>
    /// Handles one request. Writes the reply into <paramref name="reply"/> and returns its length,
    /// or 0 when the request takes no reply. Thread-safe; never throws for bad request bytes.
    /// </summary>
    /// <param name="request">Exactly the bytes one read of /dev/fuse returned.</param>
    /// <param name="reply">At least <see cref="ReplyBufferSize"/> bytes (smaller buffers shorten READ and listings).</param>
    public int Dispatch(ReadOnlySpan<byte> request, Span<byte> reply)
    {
        if (reply.Length < OutHeader.SizeOf + AttrOut.SizeOf + OpenOut.SizeOf + EntryOut.SizeOf)
        {
            throw new ArgumentException($"reply buffer of {reply.Length} bytes is too small; use ReplyBufferSize ({ReplyBufferSize})", nameof(reply));
        }

        if (request.Length < InHeader.SizeOf)
        {
            Counters.CountMalformed();
            FuseLog.Malformed(_logger, "shorter than fuse_in_header", 0, 0, 0, request.Length);
            return 0;
        }

        InHeader header = MemoryMarshal.Read<InHeader>(request);
        Counters.CountRequest(header.Opcode);
        if (_trace)
        {
            FuseLog.Request(_logger, header.Opcode, header.Unique, header.NodeId, header.Uid, header.Pid, header.Len);
            int length = DispatchChecked(header, request, reply);
            FuseLog.Reply(_logger, header.Unique, length >= OutHeader.SizeOf ? (Errno)(-MemoryMarshal.Read<OutHeader>(reply).Error) : Errno.Ok, length);
            return length;
        }

        return DispatchChecked(header, request, reply);
    }

    private int DispatchChecked(in InHeader header, ReadOnlySpan<byte> request, Span<byte> reply)
    {
        if (header.Len != (uint)request.Length)
        {
            return Malformed(header, request.Length, "header length differs from bytes read", reply);
        }

        int extensionLength = header.TotalExtLen * 8;
        if (extensionLength > request.Length - InHeader.SizeOf)
        {
            return Malformed(header, request.Length, "extensions longer than the request", reply);
        }

        ReadOnlySpan<byte> body = request[InHeader.SizeOf..(request.Length - extensionLength)];
        int fixedSize = FuseOpcodeTable.FixedBodySize(header.Opcode, _setXattrExt);
        if (fixedSize < 0)
        {
            // Unknown to this library (CUSE, DAX mappings, future opcodes): ENOSYS is the protocol's "not supported".
            return ReplyError(header.Unique, Errno.ENOSYS, reply);
        }

        if (body.Length < fixedSize)
        {
            return Malformed(header, request.Length, $"body of {body.Length} bytes, opcode needs {fixedSize}", reply);
        }

        if (_connection is null && header.Opcode != FuseOpcode.Init)
        {
            return FuseOpcodeTable.IsNoReply(header.Opcode) ? 0 : ReplyError(header.Unique, Errno.EIO, reply);
        }

        switch (header.Opcode)
        {
            case FuseOpcode.Init:
                return DoInit(header, body, reply);
            case FuseOpcode.Interrupt:
                return DoInterrupt(header, body, reply);
            case FuseOpcode.Forget:
                return DoForget(header, body);
            case FuseOpcode.BatchForget:
                return DoBatchForget(header, body);
            case FuseOpcode.NotifyReply:
                return DoNotifyReply(header, body);
        }

        InFlightSlot slot = _slots.Value!;
        CancellationToken cancellationToken = slot.Begin(header.Unique);
        var context = new FuseContext(header.Opcode, header.Unique, header.Uid, header.Gid, header.Pid, cancellationToken);
        try
        {
            return DispatchOperation(header, body, reply, context);
        }
        catch (Exception e)
        {
            Counters.CountHandlerException();
            FuseLog.HandlerThrew(_logger, header.Opcode, header.Unique, header.NodeId, e);
            return ReplyError(header.Unique, Errno.EIO, reply);
        }
        finally
        {
            slot.End();
        }
    }

    /// <summary>Fixed body size of an opcode at the current connection, for transports that receive it separately (io_uring).</summary>
    internal int FixedBodySize(FuseOpcode opcode) => FuseOpcodeTable.FixedBodySize(opcode, _setXattrExt);

    private int Malformed(in InHeader header, int length, string reason, Span<byte> reply)
    {
        Counters.CountMalformed();
        FuseLog.Malformed(_logger, reason, (uint)header.Opcode, header.Unique, header.NodeId, length);
        return FuseOpcodeTable.IsNoReply(header.Opcode) ? 0 : ReplyError(header.Unique, Errno.EINVAL, reply);
    }

    private int ReplyError(ulong unique, Errno errno, Span<byte> reply)
    {
        Counters.CountErrorReply();
        MemoryMarshal.Write(reply, new OutHeader { Len = OutHeader.SizeOf, Error = -(int)errno, Unique = unique });
        return OutHeader.SizeOf;
    }

    /// <summary>A successful reply whose <paramref name="bodyLength"/> bytes are already in place after the header.</summary>
    private static int ReplyOk(ulong unique, int bodyLength, Span<byte> reply)
    {
        int length = OutHeader.SizeOf + bodyLength;
        MemoryMarshal.Write(reply, new OutHeader { Len = (uint)length, Error = 0, Unique = unique });
        return length;
    }

    private static int ReplyOk<T>(ulong unique, in T body, Span<byte> reply)
        where T : unmanaged
    {
        MemoryMarshal.Write(reply[ReplyBody..], in body);
        return ReplyOk(unique, Unsafe.SizeOf<T>(), reply);
    }

    /// <summary>
    /// Maps a handler's errno onto an error reply; false for success. An errno the kernel would
    /// reject (zero is success, so outside (0, 512)) becomes EIO.
    /// </summary>
    private bool Failed(in InHeader header, Errno errno, Span<byte> reply, out int length)
    {
        if (errno == Errno.Ok)
        {
            length = 0;
            return false;
        }

        if ((int)errno is <= 0 or >= 512)
        {
            FuseLog.InvalidErrno(_logger, header.Opcode, header.Unique, header.NodeId, (int)errno);
            errno = Errno.EIO;
        }

        length = ReplyError(header.Unique, errno, reply);
        return true;
    }

    /// <summary>Takes one NUL-terminated name off the front of <paramref name="rest"/>.</summary>
    private static bool TryTakeName(scoped ref ReadOnlySpan<byte> rest, out ReadOnlySpan<byte> name, bool allowEmpty = false)
    {
        int nul = rest.IndexOf((byte)0);
        if (nul < 0 || (nul == 0 && !allowEmpty))
        {
            name = default;
            return false;
        }

        name = rest[..nul];
        rest = rest[(nul + 1)..];
        return true;
    }

    private static Implemented FindImplemented(Type type)
    {
        // A method counts as implemented when the class (or a base) supplies it rather than the
        // interface's ENOSYS default. Done once per dispatcher; requests never reflect.
        InterfaceMapping map = type.GetInterfaceMap(typeof(IFuseFileSystem));
        Implemented result = Implemented.None;
        for (int i = 0; i < map.InterfaceMethods.Length; i++)
        {
            MethodInfo target = map.TargetMethods[i];
            if (target.DeclaringType == typeof(IFuseFileSystem))
            {
                continue;
            }

            result |= map.InterfaceMethods[i].Name switch
            {
                nameof(IFuseFileSystem.Open) => Implemented.Open,
                nameof(IFuseFileSystem.OpenDir) => Implemented.OpenDir,
                nameof(IFuseFileSystem.ReadDirPlus) => Implemented.ReadDirPlus,
                nameof(IFuseFileSystem.SetLk) => Implemented.SetLk,
                nameof(IFuseFileSystem.Flock) => Implemented.Flock,
                nameof(IFuseFileSystem.Flush) => Implemented.Flush,
                _ => Implemented.None,
            };
        }

        return result;
    }

    [Flags]
    private enum Implemented
    {
        None = 0,
        Open = 1 << 0,
        OpenDir = 1 << 1,
        ReadDirPlus = 1 << 2,
        SetLk = 1 << 3,
        Flock = 1 << 4,
        Flush = 1 << 5,
    }

    /// <summary>What one thread is serving, so an INTERRUPT can find it.</summary>
    private sealed class InFlightSlot
    {
        private readonly Lock _lock = new();
        private ulong _unique;
        private bool _interrupted;
        private CancellationTokenSource _cancellation = new();

        public ulong Unique => Volatile.Read(ref _unique);

        public CancellationToken Begin(ulong unique)
        {
            lock (_lock)
            {
                _unique = unique;
                return _cancellation.Token;
            }
        }

        public void End()
        {
            lock (_lock)
            {
                _unique = 0;
                if (_interrupted)
                {
                    // The interrupter may still be about to cancel the old source; it must never be reused.
                    _interrupted = false;
                    _cancellation = new CancellationTokenSource();
                }
            }
        }

        /// <summary>Cancels the request if this slot is still serving <paramref name="unique"/>.</summary>
        public bool TryInterrupt(ulong unique)
        {
            CancellationTokenSource toCancel;
            lock (_lock)
            {
                if (_unique != unique || unique == 0)
                {
                    return false;
                }

                _interrupted = true;
                toCancel = _cancellation;
            }

            // Outside the lock: cancellation callbacks belong to the file system and may take a while.
            toCancel.Cancel();
            return true;
        }
    }
}
