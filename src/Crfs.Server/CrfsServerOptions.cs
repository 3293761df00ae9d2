// SPDX-License-Identifier: MIT
using Crfs.Protocol;
using Crfs.Server.Locks;

namespace Crfs.Server;

/// <summary>Settings of a <see cref="CrfsServer"/>. Every interval is measured on the server's <see cref="TimeProvider"/>.</summary>
public sealed record CrfsServerOptions
{
    /// <summary>How long a session whose transport was lost waits for its client to reconnect before it is reclaimed (default 20 s, as scoutfs).</summary>
    public TimeSpan ReconnectWindow { get; init; } = TimeSpan.FromSeconds(20);

    /// <summary>The lease advertised in HELLO: the client pings well within it (default 30 s).</summary>
    public TimeSpan Lease { get; init; } = TimeSpan.FromSeconds(30);

    /// <summary>How often the lock server is ticked and reconnect windows are checked (default 1 s).</summary>
    public TimeSpan TickInterval { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>The largest DATA_READ answered (default 8 MiB); a longer request is refused with TooBig.</summary>
    public int MaxDataRead { get; init; } = 8 << 20;

    /// <summary>Frame and message limits of every session's connection; resumption across transports is always on.</summary>
    public CrfsConnectionOptions Connection { get; init; } = new() { ResumeAcrossTransports = true };

    /// <summary>
    /// How long the server waits for a session's INUSE_QUERY answer before counting it as using the
    /// whole group (default 2 s). Doubt only keeps an orphan longer; a silent client is evicted by
    /// the revoke timeout anyway, and its end starts another orphan scan.
    /// </summary>
    public TimeSpan InUseQueryTimeout { get; init; } = TimeSpan.FromSeconds(2);

    /// <summary>Revoke resend, warning and eviction timeouts (<see cref="LockServerOptions.RevokeTimeout"/>, default 60 s).</summary>
    public LockServerOptions Locks { get; init; } = new();
}
