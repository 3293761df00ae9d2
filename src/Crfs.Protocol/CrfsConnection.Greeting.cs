// SPDX-License-Identifier: MIT
using System.Buffers;
using System.IO.Pipelines;
using Crfs.Protocol.Framing;
using Crfs.Protocol.Messages;
using Crfs.Protocol.Transports;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Crfs.Protocol;

public sealed partial class CrfsConnection
{
    /// <summary>
    /// Client side: greets the server over a fresh <paramref name="transport"/> and, if the server
    /// attaches it, starts the loops. The connection fills in <see cref="HelloRequest.RecvAck"/>
    /// and <see cref="HelloRequest.MaxPayload"/>; the caller supplies identity, the last server
    /// instance it saw, flags and capabilities. On Resumed both sides resend what the other has not
    /// acknowledged; on New or Recover the stream restarts and unanswered requests are requeued.
    /// A refusal or failure leaves the connection detached (or closed, without resumption) and the
    /// transport disposed; what to do next is the caller's policy.
    /// </summary>
    public async Task<GreetingResult> ConnectAsync(ICrfsTransport transport, HelloRequest hello, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transport);
        ArgumentNullException.ThrowIfNull(hello);
        if (Role != ConnectionRole.Client)
        {
            throw new InvalidOperationException("only a client connection greets; a server accepts with AcceptAsync");
        }

        Attachment attachment = await BeginAttachAsync(transport);
        lock (_gate)
        {
            hello = hello with { RecvAck = _lastDelivered, MaxPayload = _options.MaxPayload };
        }

        Frame? frame;
        DisconnectReason? failure;
        try
        {
            await WriteHelloFrameAsync(transport.Output, WireError.Ok, hello, cancellationToken, isResponse: false);
            (frame, failure) = await ReadFirstFrameAsync(transport.Input, _options.MaxPayload, cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            Detach(attachment, new DisconnectReason(DisconnectKind.LocalClose, "greeting cancelled"));
            throw;
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException)
        {
            (frame, failure) = (null, new DisconnectReason(DisconnectKind.TransportError, $"greeting failed: {ex.Message}"));
        }

        HelloReply? reply = null;
        if (failure is null)
        {
            FrameHeader header = frame!.Value.Header;
            if (header.Command != Command.Hello || !header.IsResponse)
            {
                failure = Violation(ViolationKind.UnexpectedCommand, header, "the first frame from a server must be the HELLO reply");
            }
            else if (header.Status != WireError.Ok)
            {
                return Refuse(attachment, header.Status, null);
            }
            else if (!MessageCodec.TryDecode(Command.Hello, true, frame.Value.Payload, out Message? decoded, out ProtocolViolation? bad))
            {
                failure = DisconnectReason.FromViolation(bad);
            }
            else
            {
                reply = (HelloReply)decoded;
            }
        }

        if (failure is not null)
        {
            ProtocolLog.GreetingFailed(_logger, Id, transport.Name, failure.ToString());
            Detach(attachment, failure);
            return new GreetingResult(GreetingOutcome.Failed, WireError.Ok, null, failure);
        }

        if (reply!.Mode is HelloMode.Evicted or HelloMode.FarewellDone)
        {
            return Refuse(attachment, WireError.Ok, reply);
        }

        int resent;
        (int Dropped, int Requeued) reset = default;
        lock (_gate)
        {
            if (reply.Mode == HelloMode.Resumed)
            {
                failure = ResumeLocked(reply.RecvAck);
            }
            else
            {
                reset = ResetStreamLocked();
            }

            _sendLimit = Math.Min(_options.MaxPayload, reply.MaxPayload);
            resent = _toWrite.Count;
        }

        if (failure is not null)
        {
            ProtocolLog.GreetingFailed(_logger, Id, transport.Name, failure.ToString());
            Detach(attachment, failure);
            return new GreetingResult(GreetingOutcome.Failed, WireError.Ok, reply, failure);
        }

        if (reset.Dropped > 0 || reset.Requeued > 0)
        {
            ProtocolLog.StreamReset(_logger, Id, attachment.Transport.Name, reset.Dropped, reset.Requeued);
        }

        if (!StartLoops(attachment, reply.Mode, resent))
        {
            return new GreetingResult(GreetingOutcome.Failed, WireError.Ok, reply, new DisconnectReason(DisconnectKind.LocalClose, "closed during the greeting"));
        }

        return new GreetingResult(GreetingOutcome.Attached, WireError.Ok, reply, null);
    }

    /// <summary>
    /// Server side: reads the first frame of a fresh transport, which must be a HELLO request of
    /// this protocol version. Anything else is logged, the transport disposed (after a
    /// <see cref="WireError.ProtocolError"/> reply for a version mismatch), and the reason returned.
    /// </summary>
    public static async Task<HelloReadResult> ReadHelloAsync(
        ICrfsTransport transport, CrfsConnectionOptions? options = null, ILogger? logger = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(transport);
        options ??= CrfsConnectionOptions.Default;
        logger ??= NullLogger.Instance;
        Frame? frame;
        DisconnectReason? failure;
        try
        {
            (frame, failure) = await ReadFirstFrameAsync(transport.Input, options.MaxPayload, cancellationToken);
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException)
        {
            (frame, failure) = (null, new DisconnectReason(DisconnectKind.TransportError, $"reading HELLO failed: {ex.Message}"));
        }
        catch (OperationCanceledException)
        {
            await transport.DisposeAsync();
            throw;
        }

        HelloRequest? hello = null;
        if (failure is null)
        {
            FrameHeader header = frame!.Value.Header;
            if (header.Command != Command.Hello || header.IsResponse)
            {
                failure = Violation(ViolationKind.UnexpectedCommand, header, "the first frame on a transport must be a HELLO request");
            }
            else if (!MessageCodec.TryDecode(Command.Hello, false, frame.Value.Payload, out Message? decoded, out ProtocolViolation? bad))
            {
                failure = DisconnectReason.FromViolation(bad);
            }
            else
            {
                hello = (HelloRequest)decoded;
                if (hello.ProtocolVersion != WireFormat.ProtocolVersion)
                {
                    failure = new DisconnectReason(
                        DisconnectKind.LocalClose,
                        $"client {hello.ClientId} speaks protocol version {hello.ProtocolVersion}, this server speaks {WireFormat.ProtocolVersion}");
                    try
                    {
                        await WriteHelloFrameAsync(transport.Output, WireError.ProtocolError, null, cancellationToken);
                    }
                    catch (Exception ex) when (ex is IOException or InvalidOperationException)
                    {
                        // The refusal is a courtesy; the transport goes either way.
                    }
                }
            }
        }

        if (failure is not null)
        {
            ProtocolLog.GreetingFailed(logger, 0, transport.Name, failure.ToString());
            await transport.DisposeAsync();
            return new HelloReadResult(null, failure);
        }

        return new HelloReadResult(new IncomingHello(transport, hello!), null);
    }

    /// <summary>
    /// Server side: attaches the transport of <paramref name="hello"/> to this connection, answers
    /// it with <paramref name="reply"/> (the connection fills in <see cref="HelloReply.RecvAck"/>
    /// and <see cref="HelloReply.MaxPayload"/>), and starts the loops. Mode Resumed resends the
    /// frames the client's <c>recv_ack</c> does not cover; New and Recover restart the stream. A
    /// transport still attached (the old socket of a client that reconnected before the server
    /// noticed) is replaced.
    /// </summary>
    public async Task<GreetingResult> AcceptAsync(IncomingHello hello, HelloReply reply, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(hello);
        ArgumentNullException.ThrowIfNull(reply);
        if (Role != ConnectionRole.Server)
        {
            throw new InvalidOperationException("only a server connection accepts a HELLO");
        }

        if (reply.Mode is not (HelloMode.New or HelloMode.Resumed or HelloMode.Recover))
        {
            throw new ArgumentException($"mode {reply.Mode} does not attach; use IncomingHello.RefuseAsync", nameof(reply));
        }

        hello.Claim();
        Attachment attachment = await BeginAttachAsync(hello.Transport);
        DisconnectReason? failure = null;
        int resent;
        (int Dropped, int Requeued) reset = default;
        lock (_gate)
        {
            if (reply.Mode == HelloMode.Resumed)
            {
                failure = ResumeLocked(hello.Request.RecvAck);
            }
            else
            {
                reset = ResetStreamLocked();
            }

            reply = reply with { RecvAck = _lastDelivered, MaxPayload = _options.MaxPayload };
            _sendLimit = Math.Min(_options.MaxPayload, hello.Request.MaxPayload);
            resent = _toWrite.Count;
        }

        if (failure is null)
        {
            try
            {
                await WriteHelloFrameAsync(hello.Transport.Output, WireError.Ok, reply, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                Detach(attachment, new DisconnectReason(DisconnectKind.LocalClose, "greeting cancelled"));
                throw;
            }
            catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException)
            {
                failure = new DisconnectReason(DisconnectKind.TransportError, $"HELLO reply failed: {ex.Message}");
            }
        }

        if (failure is not null)
        {
            ProtocolLog.GreetingFailed(_logger, Id, hello.Transport.Name, failure.ToString());
            Detach(attachment, failure);
            return new GreetingResult(GreetingOutcome.Failed, WireError.Ok, reply, failure);
        }

        if (reset.Dropped > 0 || reset.Requeued > 0)
        {
            ProtocolLog.StreamReset(_logger, Id, attachment.Transport.Name, reset.Dropped, reset.Requeued);
        }

        if (!StartLoops(attachment, reply.Mode, resent))
        {
            return new GreetingResult(GreetingOutcome.Failed, WireError.Ok, reply, new DisconnectReason(DisconnectKind.LocalClose, "closed during the greeting"));
        }

        return new GreetingResult(GreetingOutcome.Attached, WireError.Ok, reply, null);
    }

    /// <summary>Writes a HELLO request or reply: outside the sequence (seq, ack and id 0), flushed at once.</summary>
    internal static async Task WriteHelloFrameAsync(
        PipeWriter output, WireError status, Message? body, CancellationToken cancellationToken, bool isResponse = true)
    {
        int length = body is null ? 0 : MessageCodec.GetBodyLength(body);
        var frame = new byte[FrameHeader.Size + length];
        if (body is not null)
        {
            MessageCodec.WriteBody(body, frame.AsSpan(FrameHeader.Size));
        }

        FrameEncoder.Seal(frame, new FrameHeader(Command.Hello, isResponse ? FrameFlags.Response : FrameFlags.None, status, 0, 0, 0, length));
        FlushResult flush = await output.WriteAsync(frame, cancellationToken);
        if (flush.IsCompleted)
        {
            throw new IOException("the transport stopped accepting writes");
        }
    }

    /// <summary>
    /// Reads exactly one frame, leaving any bytes after it in the pipe (they are the read loop's,
    /// and are held there until the greeting is done).
    /// </summary>
    private static async Task<(Frame? Frame, DisconnectReason? Failure)> ReadFirstFrameAsync(PipeReader input, int maxPayload, CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadResult result = await input.ReadAsync(cancellationToken);
            ReadOnlySequence<byte> buffer = result.Buffer;
            FrameReadStatus status = FrameDecoder.TryReadFrame(ref buffer, maxPayload, out Frame frame, out ProtocolViolation? violation);
            if (status == FrameReadStatus.Frame)
            {
                input.AdvanceTo(buffer.Start);
                return (frame, null);
            }

            if (status == FrameReadStatus.Violation)
            {
                input.AdvanceTo(buffer.Start);
                return (null, DisconnectReason.FromViolation(violation!));
            }

            if (result.IsCompleted)
            {
                ProtocolViolation? truncated = FrameDecoder.DescribeTruncation(buffer, maxPayload);
                input.AdvanceTo(buffer.End);
                return (null, truncated is null
                    ? new DisconnectReason(DisconnectKind.PeerClosed, "the peer closed the stream before the greeting finished")
                    : DisconnectReason.FromViolation(truncated));
            }

            input.AdvanceTo(buffer.Start, buffer.End);
        }
    }

    /// <summary>Lets any current transport go, waits for its loops, and installs a new attachment in Greeting state.</summary>
    private async Task<Attachment> BeginAttachAsync(ICrfsTransport transport)
    {
        Attachment? current;
        Task previous;
        lock (_gate)
        {
            ThrowIfClosedLocked();
            current = _attachment;
            previous = _previousFinished;
        }

        if (current is not null)
        {
            Detach(current, new DisconnectReason(DisconnectKind.Replaced, $"replaced by a new transport from {transport.Name}"));
            previous = current.Finished.Task;
        }

        await previous;
        var attachment = new Attachment(transport);
        lock (_gate)
        {
            ThrowIfClosedLocked();
            if (_attachment is not null || _state != ConnectionState.Detached)
            {
                throw new InvalidOperationException($"connection {Id} is already {_state}; greet one transport at a time");
            }

            _attachment = attachment;
            _previousFinished = attachment.Finished.Task;
            _peerName = transport.Name;
            _state = ConnectionState.Greeting;
        }

        return attachment;
    }

    /// <summary>Starts both loops; false when the attachment was let go (the connection closed) during the greeting.</summary>
    private bool StartLoops(Attachment attachment, HelloMode mode, int resent)
    {
        StreamSnapshot snapshot;
        lock (_gate)
        {
            if (attachment.Detaching)
            {
                return false;
            }

            _state = ConnectionState.Attached;
            attachment.ReadLoop = Task.Run(() => ReadLoopAsync(attachment));
            attachment.WriteLoop = Task.Run(() => WriteLoopAsync(attachment));
            snapshot = new StreamSnapshot(_nextSendSeq - 1, _peerAck, _lastDelivered, _retained.Count, _pending.Count, _outbox.Count, _epoch);
        }

        ProtocolLog.TransportAttached(_logger, Id, attachment.Transport.Name, mode.ToString(), snapshot.HighestSent, snapshot.Delivered, resent, snapshot.PendingRequests);
        return true;
    }

    private GreetingResult Refuse(Attachment attachment, WireError status, HelloReply? reply)
    {
        string what = reply is null ? $"status {status}" : $"mode {reply.Mode}";
        ProtocolLog.GreetingRefused(_logger, Id, attachment.Transport.Name, what);
        Detach(attachment, new DisconnectReason(DisconnectKind.LocalClose, $"HELLO refused with {what}"));
        return new GreetingResult(GreetingOutcome.Refused, status, reply, null);
    }

    /// <summary>
    /// The peer still has our stream (same instance): forget what its <paramref name="peerAck"/>
    /// covers and queue every other retained frame for resending, in order. Returns why that is
    /// impossible, or null.
    /// </summary>
    private DisconnectReason? ResumeLocked(ulong peerAck)
    {
        ulong highestSent = _nextSendSeq - 1;
        if (peerAck > highestSent)
        {
            return DisconnectReason.FromViolation(new ProtocolViolation(
                ViolationKind.BadSequence, $"resume: the peer acknowledges seq {peerAck} but the highest sent is {highestSent}"));
        }

        ulong oldestRetained = _retained.Count > 0 ? _retained.Peek().Seq : _nextSendSeq;
        if (peerAck + 1 < oldestRetained)
        {
            return DisconnectReason.FromViolation(new ProtocolViolation(
                ViolationKind.BadSequence, $"resume: the peer acknowledges only seq {peerAck} but seq up to {oldestRetained - 1} were acknowledged and discarded before"));
        }

        _peerAck = peerAck;
        while (_retained.Count > 0 && _retained.Peek().Seq <= peerAck)
        {
            _retained.Dequeue();
        }

        _toWrite.Clear();
        foreach (SentFrame frame in _retained)
        {
            _toWrite.Enqueue(frame);
        }

        return null;
    }

    /// <summary>
    /// The peer is a new instance that knows nothing of our stream: both sequences restart at 1,
    /// responses meant for the old instance (queued, retained or still being computed) are
    /// dropped, a half-received More run is discarded, and every unanswered request is requeued
    /// in request-id order.
    /// </summary>
    private (int Dropped, int Requeued) ResetStreamLocked()
    {
        int dropped = _retained.Count;
        _retained.Clear();
        _toWrite.Clear();
        _outbox.Clear();
        _nextSendSeq = 1;
        _lastDelivered = 0;
        _peerAck = 0;
        _partial = null;
        _epoch++;
        var requests = new List<PendingRequest>(_pending.Values);
        requests.Sort(static (a, b) => a.Message.RequestId.CompareTo(b.Message.RequestId));
        foreach (PendingRequest pending in requests)
        {
            _outbox.Enqueue(pending.Message);
        }

        return (dropped, requests.Count);
    }

    private void ThrowIfClosedLocked()
    {
        if (_state == ConnectionState.Closed)
        {
            throw new ConnectionClosedException(_closeReason!);
        }
    }
}
