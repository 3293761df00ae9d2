// SPDX-License-Identifier: MIT
using System.Buffers;
using System.IO.Pipelines;
using Crfs.Protocol.Framing;
using Crfs.Protocol.Messages;

namespace Crfs.Protocol;

public sealed partial class CrfsConnection
{
    private async Task ReadLoopAsync(Attachment attachment)
    {
        PipeReader input = attachment.Transport.Input;
        CancellationToken stop = attachment.Stop.Token;
        DisconnectReason? reason = null;
        try
        {
            while (reason is null)
            {
                ReadResult result = await input.ReadAsync(stop);
                ReadOnlySequence<byte> buffer = result.Buffer;
                while (reason is null)
                {
                    FrameReadStatus status = FrameDecoder.TryReadFrame(ref buffer, _options.MaxPayload, out Frame frame, out ProtocolViolation? violation);
                    if (status == FrameReadStatus.NeedMoreData)
                    {
                        break;
                    }

                    reason = status == FrameReadStatus.Violation
                        ? DisconnectReason.FromViolation(violation!)
                        : OnFrame(attachment, frame);
                }

                if (reason is null && result.IsCompleted)
                {
                    ProtocolViolation? truncated = FrameDecoder.DescribeTruncation(buffer, _options.MaxPayload);
                    reason = truncated is null
                        ? new DisconnectReason(DisconnectKind.PeerClosed, "the peer closed the stream")
                        : DisconnectReason.FromViolation(truncated);
                }

                input.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException)
        {
            reason = new DisconnectReason(DisconnectKind.TransportError, $"read failed: {ex.Message}");
        }
        catch (Exception ex)
        {
            ProtocolLog.LoopFailed(_logger, Id, attachment.Transport.Name, "read", ex);
            reason = new DisconnectReason(DisconnectKind.LocalClose, $"read loop failed: {ex.GetType().Name}: {ex.Message}");
        }

        Detach(attachment, reason);
    }

    /// <summary>
    /// Applies the stream rules to one validated frame, then delivers it: a response completes its
    /// pending request, a request goes to the handler. Returns the reason to drop the transport,
    /// or null.
    /// </summary>
    private DisconnectReason? OnFrame(Attachment attachment, Frame frame)
    {
        FrameHeader header = frame.Header;
        if (header.Command == Command.Hello)
        {
            return Violation(ViolationKind.UnexpectedCommand, header, "a second HELLO on one transport");
        }

        bool allowed = header.IsResponse ? MaySendRequest(header.Command) : PeerMaySendRequest(header.Command);
        if (!allowed)
        {
            string peer = Role == ConnectionRole.Client ? "server" : "client";
            return Violation(ViolationKind.UnexpectedCommand, header, header.IsResponse
                ? $"a {peer} may not send {CommandInfo.Name(header.Command)} responses"
                : $"a {peer} may not send {CommandInfo.Name(header.Command)} requests");
        }

        int epoch;
        lock (_gate)
        {
            if (attachment.Detaching)
            {
                return null;
            }

            if (header.Ack >= _nextSendSeq)
            {
                return Violation(ViolationKind.BadSequence, header, $"ack {header.Ack} covers frames never sent (highest sent {_nextSendSeq - 1})");
            }

            if (header.Ack > _peerAck)
            {
                _peerAck = header.Ack;
                while (_retained.Count > 0 && _retained.Peek().Seq <= _peerAck)
                {
                    _retained.Dequeue();
                }
            }

            if (header.Seq <= _lastDelivered)
            {
                ProtocolLog.DuplicateFrameDropped(_logger, Id, attachment.Transport.Name, header.Seq, header.RequestId, _lastDelivered);
                return null;
            }

            if (header.Seq != _lastDelivered + 1)
            {
                return Violation(ViolationKind.BadSequence, header, $"seq {header.Seq} skips ahead of the next expected {_lastDelivered + 1}");
            }

            epoch = _epoch;
        }

        byte[] body;
        if (_partial is not null)
        {
            FrameHeader first = _partial.First;
            if (header.Command != first.Command || header.RequestId != first.RequestId || header.IsResponse != first.IsResponse || header.Status != WireError.Ok)
            {
                return Violation(ViolationKind.BadContinuation, header, $"does not continue the More run begun by {first}");
            }

            if (_partial.Length + header.PayloadLength > _options.MaxMessageLength)
            {
                return Violation(ViolationKind.BadContinuation, header, $"More run grows past the message limit {_options.MaxMessageLength}");
            }

            _partial.Parts.Add(frame.Payload);
            _partial.Length += header.PayloadLength;
            if (header.HasMore)
            {
                return Delivered(header);
            }

            body = new byte[_partial.Length];
            int offset = 0;
            foreach (byte[] part in _partial.Parts)
            {
                part.CopyTo(body, offset);
                offset += part.Length;
            }

            _partial = null;
        }
        else if (header.HasMore)
        {
            _partial = new Reassembly(header);
            _partial.Parts.Add(frame.Payload);
            _partial.Length = header.PayloadLength;
            return Delivered(header);
        }
        else
        {
            body = frame.Payload;
        }

        Message? message = null;
        if (header.Status == WireError.Ok && !MessageCodec.TryDecode(header.Command, header.IsResponse, body, out message, out ProtocolViolation? bad))
        {
            return DisconnectReason.FromViolation(bad with { Reason = $"{bad.Reason} (seq {header.Seq}, id {header.RequestId})" });
        }

        if (header.IsResponse)
        {
            PendingRequest? pending;
            lock (_gate)
            {
                if (_pending.TryGetValue(header.RequestId, out pending) && pending.Message.Command != header.Command)
                {
                    return Violation(ViolationKind.UnexpectedCommand, header, $"answers request {header.RequestId}, a {CommandInfo.Name(pending.Message.Command)} request");
                }

                if (pending is not null)
                {
                    _pending.Remove(header.RequestId);
                }
            }

            Delivered(header);
            if (pending is null)
            {
                ProtocolLog.UnmatchedResponseDropped(_logger, Id, attachment.Transport.Name, CommandInfo.Name(header.Command), header.Seq, header.RequestId);
                return null;
            }

            pending.Registration.Dispose();
            pending.Completion.TrySetResult(new RawReply(header.Status, (ResponseMessage?)message));
            return null;
        }

        Delivered(header);
        _ = RespondAsync(header, (RequestMessage)message!, epoch);
        return null;
    }

    private DisconnectReason? Delivered(FrameHeader header)
    {
        lock (_gate)
        {
            _lastDelivered = header.Seq;
        }

        return null;
    }

    /// <summary>Runs the handler (synchronously up to its first await, so dispatch keeps arrival order) and queues its reply.</summary>
    private async Task RespondAsync(FrameHeader request, RequestMessage message, int epoch)
    {
        Reply reply;
        try
        {
            reply = await _handler.HandleRequestAsync(new IncomingRequest(this, request.RequestId, message), _lifetime.Token);
        }
        catch (OperationCanceledException) when (_lifetime.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex)
        {
            ProtocolLog.HandlerFailed(_logger, Id, PeerName, CommandInfo.Name(request.Command), request.Seq, request.RequestId, ex);
            reply = Reply.Error(WireError.Io);
        }

        EnqueueResponse(request, reply, epoch);
    }

    private static DisconnectReason Violation(ViolationKind kind, FrameHeader header, string detail) =>
        DisconnectReason.FromViolation(new ProtocolViolation(kind, $"{CommandInfo.Name(header.Command)} {(header.IsResponse ? "response" : "request")} seq {header.Seq} id {header.RequestId}: {detail}"));
}
