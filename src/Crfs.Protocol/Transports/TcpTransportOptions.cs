// SPDX-License-Identifier: MIT
using Crfs.Protocol.Framing;

namespace Crfs.Protocol.Transports;

/// <summary>Socket and buffering settings of <see cref="TcpTransport"/>; the defaults follow scoutfs.</summary>
public sealed class TcpTransportOptions
{
    public static readonly TcpTransportOptions Default = new();

    /// <summary>TCP_NODELAY: small frames (LOCK, ITEM_READ) go out at once. Default on.</summary>
    public bool NoDelay { get; init; } = true;

    /// <summary>Idle time before the first keepalive probe. Default 10 s.</summary>
    public TimeSpan KeepAliveTime { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>Time between keepalive probes. Default 5 s.</summary>
    public TimeSpan KeepAliveInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Unanswered probes before the kernel drops the connection. Default 3.</summary>
    public int KeepAliveRetryCount { get; init; } = 3;

    /// <summary>
    /// Linux TCP_USER_TIMEOUT (option 18): how long sent data may stay unacknowledged before the
    /// kernel drops the connection, so a dead peer is noticed even while we are sending. Default
    /// 24 s (scoutfs); <see cref="TimeSpan.Zero"/> leaves the kernel default.
    /// </summary>
    public TimeSpan UserTimeout { get; init; } = TimeSpan.FromSeconds(24);

    /// <summary>
    /// How many received bytes may wait unread before the socket stops being read (back-pressure
    /// on the peer). It must exceed the largest frame the connection accepts: the frame decoder
    /// needs a whole frame buffered before it consumes anything, so a smaller threshold would stall
    /// the receive pump forever. Default: the 16 MiB hard payload cap plus a header and 64 KiB.
    /// </summary>
    public long ReceivePauseThreshold { get; init; } = WireFormat.HardMaxPayload + FrameHeader.Size + (64 << 10);

    /// <summary>How many bytes the connection may queue ahead of the socket before its flush waits. Default 1 MiB.</summary>
    public long SendPauseThreshold { get; init; } = 1 << 20;

    /// <summary>How long disposal waits for queued bytes to reach the socket before aborting. Default 2 s.</summary>
    public TimeSpan DrainTimeout { get; init; } = TimeSpan.FromSeconds(2);
}
