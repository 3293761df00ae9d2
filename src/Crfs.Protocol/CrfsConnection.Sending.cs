// SPDX-License-Identifier: MIT
using System.Buffers;
using System.IO.Pipelines;
using Crfs.Protocol.Framing;
using Crfs.Protocol.Messages;

namespace Crfs.Protocol;

public sealed partial class CrfsConnection
{
    /// <summary>
    /// Queues the reply to a peer's request, unless the connection closed or the peer instance
    /// that asked is gone (<paramref name="epoch"/> is stale). A reply that breaks the rules
    /// (wrong command, Ok without a body, a body with an error, a body too large) is a handler
    /// bug: it is logged and the peer gets <see cref="WireError.Io"/> instead.
    /// </summary>
    private void EnqueueResponse(FrameHeader request, Reply reply, int epoch)
    {
        string? problem = reply.Status == WireError.Ok
            ? reply.Body is null ? "status Ok without a body"
                : reply.Body.Command != request.Command ? $"a {CommandInfo.Name(reply.Body.Command)} body"
                : null
            : !WireErrors.IsDefined(reply.Status) ? $"undefined status {(byte)reply.Status}"
            : reply.Body is not null ? $"status {reply.Status} with a body"
            : null;

        byte[] buffer = [];
        int length = 0;
        if (problem is null && reply.Body is not null)
        {
            length = MessageCodec.GetBodyLength(reply.Body);
            if (length > _options.MaxMessageLength)
            {
                problem = $"a {length}-byte body, over the message limit {_options.MaxMessageLength}";
            }
            else
            {
                buffer = new byte[FrameHeader.Size + length];
                try
                {
                    MessageCodec.WriteBody(reply.Body, buffer.AsSpan(FrameHeader.Size));
                }
                catch (ArgumentException ex)
                {
                    problem = ex.Message;
                }
            }
        }

        if (problem is not null)
        {
            ProtocolLog.HandlerBadReply(_logger, Id, PeerName, CommandInfo.Name(request.Command), request.Seq, request.RequestId, problem);
            reply = Reply.Error(WireError.Io);
            length = 0;
        }

        if (length == 0)
        {
            buffer = new byte[FrameHeader.Size];
        }

        var message = new OutgoingMessage(request.Command, isResponse: true, reply.Status, request.RequestId, buffer, length);
        lock (_gate)
        {
            if (_state == ConnectionState.Closed || epoch != _epoch)
            {
                return;
            }

            _outbox.Enqueue(message);
            _attachment?.Ring();
        }
    }

    /// <summary>
    /// Moves frames to write out of the resend queue and the outbox, numbering outbox messages as
    /// it cuts them into frames (so a message is numbered only once it is really about to go, and a
    /// request cancelled before that never uses a sequence number).
    /// </summary>
    private List<SentFrame> TakeBatchLocked()
    {
        var batch = new List<SentFrame>();
        long bytes = 0;
        while (_toWrite.Count > 0 && bytes < WriteBatchBytes)
        {
            SentFrame frame = _toWrite.Dequeue();
            batch.Add(frame);
            bytes += frame.FrameLength;
        }

        while (_outbox.Count > 0 && bytes < WriteBatchBytes)
        {
            OutgoingMessage message = _outbox.Dequeue();
            if (message.Cancelled)
            {
                continue;
            }

            int offset = 0;
            do
            {
                int chunk = Math.Min(_sendLimit, message.BodyLength - offset);
                bool more = offset + chunk < message.BodyLength;
                byte[] buffer;
                if (offset == 0 && !more)
                {
                    buffer = message.Buffer;
                }
                else
                {
                    buffer = new byte[FrameHeader.Size + chunk];
                    message.Buffer.AsSpan(FrameHeader.Size + offset, chunk).CopyTo(buffer.AsSpan(FrameHeader.Size));
                }

                FrameFlags flags = (message.IsResponse ? FrameFlags.Response : FrameFlags.None) | (more ? FrameFlags.More : FrameFlags.None);
                var frame = new SentFrame(_nextSendSeq++, message.Command, flags, message.Status, message.RequestId, buffer, chunk);
                _retained.Enqueue(frame);
                batch.Add(frame);
                bytes += frame.FrameLength;
                offset += chunk;
            }
            while (offset < message.BodyLength);
        }

        return batch;
    }

    private async Task WriteLoopAsync(Attachment attachment)
    {
        PipeWriter output = attachment.Transport.Output;
        CancellationToken stop = attachment.Stop.Token;
        DisconnectReason? reason = null;
        try
        {
            while (reason is null)
            {
                List<SentFrame> batch;
                ulong ack;
                lock (_gate)
                {
                    if (attachment.Detaching)
                    {
                        return;
                    }

                    batch = TakeBatchLocked();
                    ack = _lastDelivered;
                }

                if (batch.Count == 0)
                {
                    await attachment.Doorbell.Reader.ReadAsync(stop);
                    continue;
                }

                // Flush at least every WriteBatchBytes, so that one long More run cannot pile up in
                // the pipe past its pause threshold before back-pressure is felt.
                long unflushed = 0;
                for (int i = 0; i < batch.Count && reason is null; i++)
                {
                    SentFrame frame = batch[i];
                    Span<byte> bytes = frame.Buffer.AsSpan(0, frame.FrameLength);
                    FrameEncoder.Seal(bytes, new FrameHeader(frame.Command, frame.Flags, frame.Status, frame.Seq, ack, frame.RequestId, frame.PayloadLength));
                    output.Write(bytes);
                    unflushed += frame.FrameLength;
                    if (unflushed >= WriteBatchBytes || i == batch.Count - 1)
                    {
                        unflushed = 0;
                        FlushResult flush = await output.FlushAsync(stop);
                        if (flush.IsCompleted)
                        {
                            reason = new DisconnectReason(DisconnectKind.PeerClosed, "the transport stopped accepting writes");
                        }
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            return;
        }
        catch (Exception ex) when (ex is IOException or InvalidOperationException or ObjectDisposedException)
        {
            reason = new DisconnectReason(DisconnectKind.TransportError, $"write failed: {ex.Message}");
        }
        catch (Exception ex)
        {
            ProtocolLog.LoopFailed(_logger, Id, attachment.Transport.Name, "write", ex);
            reason = new DisconnectReason(DisconnectKind.LocalClose, $"write loop failed: {ex.GetType().Name}: {ex.Message}");
        }

        Detach(attachment, reason);
    }
}
