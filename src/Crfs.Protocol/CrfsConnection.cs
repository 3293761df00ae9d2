// SPDX-License-Identifier: MIT
using System.Threading.Channels;
using Crfs.Protocol.Framing;
using Crfs.Protocol.Messages;
using Crfs.Protocol.Transports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Crfs.Protocol;

/// <summary>
/// One end of a CRFS session's message stream: it frames, decodes and correlates, and it keeps
/// the sequence state that lets a session survive the loss of its transport. It decides nothing:
/// when to reconnect, which HELLO mode to grant, how to de-duplicate mutating requests (op_seq),
/// when to ping and how long to wait are the policies of Crfs.Client and Crfs.Server, built on
/// the mechanics here. (scoutfs's <c>net.c</c> regrets knowing too much about its client and
/// server; this type is the narrower boundary it asks for.)
/// </summary>
/// <remarks>
/// <para>
/// <b>Correlation.</b> Either end may send requests (the client LOCK and COMMIT, the server
/// REVOKE, SYNC, INUSE_QUERY, LOCK_RECOVER), so both ends keep a table of their own requests in
/// flight, keyed by a request id they choose; a response echoes the id. Incoming requests go to
/// the <see cref="ICrfsRequestHandler"/>, whose reply is queued back when it is ready, so
/// responses may leave in any order.
/// </para>
/// <para>
/// <b>Sequencing.</b> Every frame except HELLO carries <c>seq</c>, numbered per direction from 1,
/// and <c>ack</c>, the highest sequence number its sender has delivered in order. The receiver
/// delivers only <c>seq = delivered + 1</c>, silently drops <c>seq ≤ delivered</c> (a resent
/// duplicate), and treats a gap as a protocol violation. The sender retains every frame until an
/// ack covers it. A request additionally stays in the pending table, with its encoded body, until
/// it is answered.
/// </para>
/// <para>
/// <b>Transports.</b> The connection runs over one <see cref="ICrfsTransport"/> at a time, with two
/// loops: the read loop decodes and dispatches, the write loop drains the outbox into the pipe
/// (its flush is where pipe back-pressure bites). A transport ends with a <see cref="DisconnectReason"/>
/// (a malformed frame names the broken rule), logged once. Unless
/// <see cref="CrfsConnectionOptions.ResumeAcrossTransports"/> is set, that also closes the
/// connection and fails the requests in flight with <see cref="ConnectionClosedException"/>.
/// With it set the connection detaches and keeps its state, and the next greeting decides what
/// survives: mode Resumed (same server instance) resends the retained frames the peer's HELLO
/// <c>recv_ack</c> does not cover; modes New and Recover (a new peer instance) restart both
/// sequences at 1, drop queued and retained responses meant for the old peer, and requeue every
/// unanswered request in request-id order. Requests sent while detached or greeting are queued,
/// not failed; frames that arrive right after a HELLO wait in the pipe until it is answered.
/// </para>
/// <para>
/// <b>Concurrency.</b> One lock, <c>_gate</c>, guards the stream state: state, attachment, pending
/// table, outbox, retained and resend queues, sequence and ack counters, epoch. It is never held
/// across an await, nor while calling out (handler, task completions, logging). The read loop
/// alone reads the transport's input and owns the reassembly of More runs; after the greeting the
/// write loop alone writes its output and stamps frame headers. A new transport is attached only
/// after the previous one's loops have ended, so no two loops ever share the state's frames.
/// </para>
/// </remarks>
public sealed partial class CrfsConnection : IAsyncDisposable
{
    private const int WriteBatchBytes = 256 << 10;

    private static long s_nextId;

    private readonly object _gate = new();
    private readonly ICrfsRequestHandler _handler;
    private readonly CrfsConnectionOptions _options;
    private readonly ILogger _logger;
    private readonly CancellationTokenSource _lifetime = new();
    private readonly TaskCompletionSource<DisconnectReason> _closed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    // Guarded by _gate.
    private readonly Dictionary<ulong, PendingRequest> _pending = [];
    private readonly Queue<OutgoingMessage> _outbox = new();
    private readonly Queue<SentFrame> _retained = new();
    private readonly Queue<SentFrame> _toWrite = new();
    private ConnectionState _state = ConnectionState.Detached;
    private Attachment? _attachment;
    private Task _previousFinished = Task.CompletedTask;
    private DisconnectReason? _closeReason;
    private string _peerName = "(not attached)";
    private ulong _nextRequestId = 1;
    private ulong _nextSendSeq = 1;
    private ulong _lastDelivered;
    private ulong _peerAck;
    private int _sendLimit = WireFormat.MinMaxPayload;
    private int _epoch;

    // Owned by the read loop (or by a greeting, while no read loop runs).
    private Reassembly? _partial;

    public CrfsConnection(ConnectionRole role, ICrfsRequestHandler handler, CrfsConnectionOptions? options = null, ILogger? logger = null)
    {
        ArgumentNullException.ThrowIfNull(handler);
        options ??= CrfsConnectionOptions.Default;
        options.Validate();
        Role = role;
        _handler = handler;
        _options = options;
        _logger = logger ?? NullLogger.Instance;
        Id = Interlocked.Increment(ref s_nextId);
    }

    /// <summary>Raised after a transport has been let go (loops ended, transport disposed), with the logged reason.</summary>
    public event Action<CrfsConnection, DisconnectReason>? Detached;

    /// <summary>A process-unique number that every log line of this connection carries.</summary>
    public long Id { get; }

    public ConnectionRole Role { get; }

    public ConnectionState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    /// <summary>The current or last transport's name.</summary>
    public string PeerName
    {
        get
        {
            lock (_gate)
            {
                return _peerName;
            }
        }
    }

    /// <summary>Completes with the reason once the connection is closed for good.</summary>
    public Task<DisconnectReason> Completion => _closed.Task;

    /// <summary>A snapshot of the sequence state, for diagnostics and tests.</summary>
    public StreamSnapshot GetStreamSnapshot()
    {
        lock (_gate)
        {
            return new StreamSnapshot(_nextSendSeq - 1, _peerAck, _lastDelivered, _retained.Count, _pending.Count, _outbox.Count, _epoch);
        }
    }

    /// <summary>
    /// Sends <paramref name="request"/> and waits for its response. Queued (not failed) while the
    /// connection is detached or greeting. An error status is returned as a value; a connection
    /// that closes first throws <see cref="ConnectionClosedException"/>; cancellation abandons
    /// the wait (a request already sent may still be applied by the peer: mutating requests carry
    /// an op_seq for exactly that reason, and their senders should not cancel them).
    /// </summary>
    public async Task<Reply<TReply>> SendRequestAsync<TReply>(RequestMessage<TReply> request, CancellationToken cancellationToken = default)
        where TReply : ResponseMessage
    {
        ArgumentNullException.ThrowIfNull(request);
        if (request.Command == Command.Hello)
        {
            throw new ArgumentException("HELLO is sent by ConnectAsync, not as a request", nameof(request));
        }

        if (!MaySendRequest(request.Command))
        {
            throw new ArgumentException($"a {Role.ToString().ToLowerInvariant()} may not send {CommandInfo.Name(request.Command)} requests", nameof(request));
        }

        int length = MessageCodec.GetBodyLength(request);
        if (length > _options.MaxMessageLength)
        {
            throw new ArgumentException($"{CommandInfo.Name(request.Command)} request of {length} bytes exceeds the message limit {_options.MaxMessageLength}", nameof(request));
        }

        var buffer = new byte[FrameHeader.Size + length];
        MessageCodec.WriteBody(request, buffer.AsSpan(FrameHeader.Size));
        var pending = new PendingRequest(request.Command, buffer, length);
        lock (_gate)
        {
            if (_state == ConnectionState.Closed)
            {
                throw new ConnectionClosedException(_closeReason!);
            }

            pending.Message.RequestId = _nextRequestId++;
            _pending.Add(pending.Message.RequestId, pending);
            _outbox.Enqueue(pending.Message);
            _attachment?.Ring();
        }

        if (cancellationToken.CanBeCanceled)
        {
            pending.Registration = cancellationToken.Register(() => CancelRequest(pending, cancellationToken));
        }

        try
        {
            RawReply raw = await pending.Completion.Task;
            return new Reply<TReply>(raw.Status, (TReply?)raw.Body);
        }
        finally
        {
            pending.Registration.Dispose();
        }
    }

    /// <summary>
    /// Closes the connection for good: the transport (if any) is let go, requests in flight fail
    /// with <see cref="ConnectionClosedException"/> carrying <paramref name="reason"/>, and
    /// handlers' cancellation tokens fire. Idempotent: the first reason wins.
    /// </summary>
    public void Close(string reason) => Close(new DisconnectReason(DisconnectKind.LocalClose, reason));

    public async ValueTask DisposeAsync()
    {
        Close("disposed");
        Task finished;
        lock (_gate)
        {
            finished = _previousFinished;
        }

        await finished;
    }

    public override string ToString() => $"connection {Id} ({Role}) to {PeerName}";

    private void Close(DisconnectReason reason)
    {
        List<PendingRequest> failed;
        Attachment? attachment;
        lock (_gate)
        {
            if (_state == ConnectionState.Closed)
            {
                return;
            }

            _state = ConnectionState.Closed;
            _closeReason = reason;
            failed = [.. _pending.Values];
            _pending.Clear();
            _outbox.Clear();
            _retained.Clear();
            _toWrite.Clear();
            attachment = _attachment;
        }

        ProtocolLog.ConnectionClosed(_logger, Id, PeerName, reason.ToString(), failed.Count);
        _lifetime.Cancel();
        if (attachment is not null)
        {
            Detach(attachment, reason);
        }

        var exception = new ConnectionClosedException(reason);
        foreach (PendingRequest pending in failed)
        {
            pending.Registration.Dispose();
            pending.Completion.TrySetException(exception);
        }

        _closed.TrySetResult(reason);
    }

    private void CancelRequest(PendingRequest pending, CancellationToken cancellationToken)
    {
        lock (_gate)
        {
            if (!_pending.Remove(pending.Message.RequestId))
            {
                return;
            }

            pending.Message.Cancelled = true;
        }

        pending.Completion.TrySetCanceled(cancellationToken);
    }

    private bool MaySendRequest(Command command) =>
        (CommandInfo.RequestDirection(command) & (Role == ConnectionRole.Client ? CommandDirection.ClientToServer : CommandDirection.ServerToClient)) != 0;

    private bool PeerMaySendRequest(Command command) =>
        (CommandInfo.RequestDirection(command) & (Role == ConnectionRole.Client ? CommandDirection.ServerToClient : CommandDirection.ClientToServer)) != 0;

    /// <summary>
    /// Lets <paramref name="attachment"/> go (once): stops its loops, then in the background waits
    /// for them, disposes the transport, logs, closes the connection unless it resumes across
    /// transports, and raises <see cref="Detached"/>.
    /// </summary>
    private void Detach(Attachment attachment, DisconnectReason reason)
    {
        lock (_gate)
        {
            if (attachment.Detaching)
            {
                return;
            }

            attachment.Detaching = true;
            if (ReferenceEquals(_attachment, attachment))
            {
                _attachment = null;
                if (_state != ConnectionState.Closed)
                {
                    _state = ConnectionState.Detached;
                }
            }
        }

        attachment.Stop.Cancel();
        _ = FinishDetachAsync(attachment, reason);
    }

    private async Task FinishDetachAsync(Attachment attachment, DisconnectReason reason)
    {
        try
        {
            // The loops catch everything themselves; this only waits for them to be gone.
            await Task.WhenAll(attachment.ReadLoop, attachment.WriteLoop);
        }
        finally
        {
            try
            {
                await attachment.Transport.DisposeAsync();
            }
            catch (Exception ex)
            {
                ProtocolLog.TransportDisposeFailed(_logger, Id, attachment.Transport.Name, ex);
            }

            attachment.Stop.Dispose();
            if (reason.Kind == DisconnectKind.ProtocolViolation)
            {
                ProtocolLog.ProtocolViolation(_logger, Id, attachment.Transport.Name, reason.Message);
            }

            ProtocolLog.TransportDetached(_logger, Id, attachment.Transport.Name, reason.ToString());
            if (!_options.ResumeAcrossTransports)
            {
                Close(reason);
            }

            attachment.Finished.TrySetResult();
            Detached?.Invoke(this, reason);
        }
    }

    /// <summary>One transport's tenure: its loops, their stop signal and the write loop's doorbell.</summary>
    private sealed class Attachment(ICrfsTransport transport)
    {
        public ICrfsTransport Transport { get; } = transport;

        public CancellationTokenSource Stop { get; } = new();

        public Channel<bool> Doorbell { get; } = Channel.CreateBounded<bool>(
            new BoundedChannelOptions(1) { FullMode = BoundedChannelFullMode.DropWrite, SingleReader = true });

        public TaskCompletionSource Finished { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public Task ReadLoop { get; set; } = Task.CompletedTask;

        public Task WriteLoop { get; set; } = Task.CompletedTask;

        /// <summary>Guarded by the connection's gate.</summary>
        public bool Detaching { get; set; }

        public void Ring() => Doorbell.Writer.TryWrite(true);
    }

    /// <summary>A message waiting in the outbox to be cut into sequenced frames.</summary>
    private sealed class OutgoingMessage(Command command, bool isResponse, WireError status, ulong requestId, byte[] buffer, int bodyLength)
    {
        public Command Command { get; } = command;

        public bool IsResponse { get; } = isResponse;

        public WireError Status { get; } = status;

        public ulong RequestId { get; set; } = requestId;

        /// <summary>A frame header's worth of room, then the body.</summary>
        public byte[] Buffer { get; } = buffer;

        public int BodyLength { get; } = bodyLength;

        /// <summary>Guarded by the gate; the write loop skips a cancelled request.</summary>
        public bool Cancelled { get; set; }
    }

    /// <summary>A sequenced frame: retained until acknowledged, (re)written by the write loop.</summary>
    private sealed class SentFrame(ulong seq, Command command, FrameFlags flags, WireError status, ulong requestId, byte[] buffer, int payloadLength)
    {
        public ulong Seq { get; } = seq;

        public Command Command { get; } = command;

        public FrameFlags Flags { get; } = flags;

        public WireError Status { get; } = status;

        public ulong RequestId { get; } = requestId;

        public byte[] Buffer { get; } = buffer;

        public int PayloadLength { get; } = payloadLength;

        public int FrameLength => FrameHeader.Size + PayloadLength;
    }

    private readonly record struct RawReply(WireError Status, ResponseMessage? Body);

    private sealed class PendingRequest(Command command, byte[] buffer, int bodyLength)
    {
        public OutgoingMessage Message { get; } = new(command, isResponse: false, WireError.Ok, 0, buffer, bodyLength);

        public TaskCompletionSource<RawReply> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public CancellationTokenRegistration Registration { get; set; }
    }

    /// <summary>The payloads of a More run received so far.</summary>
    private sealed class Reassembly(FrameHeader first)
    {
        public FrameHeader First { get; } = first;

        public List<byte[]> Parts { get; } = [];

        public long Length { get; set; }
    }
}

/// <summary>
/// The sequence state of a connection: highest seq sent and acknowledged by the peer, highest
/// seq delivered from the peer, and queue depths.
/// </summary>
public readonly record struct StreamSnapshot(
    ulong HighestSent,
    ulong PeerAck,
    ulong Delivered,
    int Retained,
    int PendingRequests,
    int Outbox,
    int Epoch);
