// SPDX-License-Identifier: MIT
using Microsoft.Extensions.Logging;

namespace Crfs.Protocol;

/// <summary>
/// Every log event of the protocol layer, with fixed event ids (1xx connection life, 2xx frames
/// and requests, 3xx errors mapping). Each line names the connection id and the peer, and the
/// seq and request id when a frame is involved, so one grep follows a frame across both ends.
/// </summary>
internal static partial class ProtocolLog
{
    [LoggerMessage(EventId = 100, Level = LogLevel.Information,
        Message = "connection {ConnectionId} peer {Peer}: attached ({Mode}); highest seq sent {HighestSent}, delivered {Delivered}, {Resent} frames to resend, {Pending} requests pending")]
    public static partial void TransportAttached(ILogger logger, long connectionId, string peer, string mode, ulong highestSent, ulong delivered, int resent, int pending);

    [LoggerMessage(EventId = 101, Level = LogLevel.Information,
        Message = "connection {ConnectionId} peer {Peer}: transport detached: {Reason}")]
    public static partial void TransportDetached(ILogger logger, long connectionId, string peer, string reason);

    [LoggerMessage(EventId = 102, Level = LogLevel.Information,
        Message = "connection {ConnectionId} peer {Peer}: closed: {Reason}; {Failed} requests in flight failed")]
    public static partial void ConnectionClosed(ILogger logger, long connectionId, string peer, string reason, int failed);

    [LoggerMessage(EventId = 103, Level = LogLevel.Warning,
        Message = "connection {ConnectionId} peer {Peer}: protocol violation, dropping the transport: {Reason}")]
    public static partial void ProtocolViolation(ILogger logger, long connectionId, string peer, string reason);

    [LoggerMessage(EventId = 104, Level = LogLevel.Information,
        Message = "connection {ConnectionId} peer {Peer}: peer is a new instance; sequences restart at 1, {Dropped} retained frames dropped, {Requeued} unanswered requests requeued")]
    public static partial void StreamReset(ILogger logger, long connectionId, string peer, int dropped, int requeued);

    [LoggerMessage(EventId = 105, Level = LogLevel.Warning,
        Message = "connection {ConnectionId} peer {Peer}: greeting failed: {Reason}")]
    public static partial void GreetingFailed(ILogger logger, long connectionId, string peer, string reason);

    [LoggerMessage(EventId = 106, Level = LogLevel.Information,
        Message = "connection {ConnectionId} peer {Peer}: greeting refused with {What}")]
    public static partial void GreetingRefused(ILogger logger, long connectionId, string peer, string what);

    [LoggerMessage(EventId = 107, Level = LogLevel.Warning,
        Message = "connection {ConnectionId} peer {Peer}: disposing the transport failed")]
    public static partial void TransportDisposeFailed(ILogger logger, long connectionId, string peer, Exception exception);

    [LoggerMessage(EventId = 108, Level = LogLevel.Error,
        Message = "connection {ConnectionId} peer {Peer}: the {Loop} loop failed unexpectedly; dropping the transport")]
    public static partial void LoopFailed(ILogger logger, long connectionId, string peer, string loop, Exception exception);

    [LoggerMessage(EventId = 200, Level = LogLevel.Debug,
        Message = "connection {ConnectionId} peer {Peer}: dropped duplicate frame seq {Seq} id {RequestId} (delivered up to seq {Delivered})")]
    public static partial void DuplicateFrameDropped(ILogger logger, long connectionId, string peer, ulong seq, ulong requestId, ulong delivered);

    [LoggerMessage(EventId = 201, Level = LogLevel.Debug,
        Message = "connection {ConnectionId} peer {Peer}: dropped {Command} response seq {Seq} id {RequestId}: no request waits for it (cancelled)")]
    public static partial void UnmatchedResponseDropped(ILogger logger, long connectionId, string peer, string command, ulong seq, ulong requestId);

    [LoggerMessage(EventId = 202, Level = LogLevel.Error,
        Message = "connection {ConnectionId} peer {Peer}: handler for {Command} request seq {Seq} id {RequestId} threw; answering Io")]
    public static partial void HandlerFailed(ILogger logger, long connectionId, string peer, string command, ulong seq, ulong requestId, Exception exception);

    [LoggerMessage(EventId = 203, Level = LogLevel.Error,
        Message = "connection {ConnectionId} peer {Peer}: handler for {Command} request seq {Seq} id {RequestId} replied with {Problem}; answering Io")]
    public static partial void HandlerBadReply(ILogger logger, long connectionId, string peer, string command, ulong seq, ulong requestId, string problem);

    [LoggerMessage(EventId = 300, Level = LogLevel.Warning,
        Message = "errno {Errno} ({Value}) has no wire error; sending Invalid (logged once per errno)")]
    public static partial void UnmappedErrno(ILogger logger, string errno, int value);
}
