// SPDX-License-Identifier: MIT
using Crfs.Client.Coherence;

namespace Crfs.Client.Session;

/// <summary>Settings of a <see cref="CrfsSession"/>.</summary>
public sealed record CrfsSessionOptions
{
    /// <summary>Identifies this mount to the server across reconnects; random by default.</summary>
    public Guid ClientId { get; init; } = Guid.NewGuid();

    /// <summary>The file system the client expects; <see cref="Guid.Empty"/> accepts any.</summary>
    public Guid FsUuid { get; init; }

    /// <summary>The open transaction is committed at the latest this long after its first change (default 5 s).</summary>
    public TimeSpan CommitInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The open transaction is committed once it holds this many dirty bytes (default 16 MiB).</summary>
    public long DirtyLimit { get; init; } = 16L << 20;

    /// <summary>How often an idle session pings; zero means a quarter of the server's lease.</summary>
    public TimeSpan PingInterval { get; init; }

    /// <summary>
    /// How long the client may go without hearing from the server and still answer from its cache
    /// without asking first (default 1 s). Past it, the next read sends one PING, so a client that
    /// was stopped or cut off finds out about an eviction before it serves stale items. Keep it well
    /// below the server's revoke timeout.
    /// </summary>
    public TimeSpan FreshnessWindow { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>First delay between reconnect attempts; doubles up to <see cref="MaxReconnectDelay"/>.</summary>
    public TimeSpan ReconnectDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    public TimeSpan MaxReconnectDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>Inode numbers asked for per ALLOC_INO.</summary>
    public uint InodeLeaseCount { get; init; } = 1024;

    /// <summary>The readahead budget of one ITEM_READ.</summary>
    public uint ItemReadMaxBytes { get; init; } = 64 << 10;

    /// <summary>The largest DATA_READ sent at once.</summary>
    public uint DataReadChunk { get; init; } = 1 << 20;

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    public LockClientOptions Locks { get; init; } = new();
}
