// SPDX-License-Identifier: MIT
using Crfs.Protocol.Messages;

namespace Crfs.Server.Locks;

/// <summary>Per-lock state. Guarded by the <see cref="LockServer"/> gate, like everything below.</summary>
internal sealed class ServerLock(KeyRange range)
{
    public KeyRange Range { get; } = range;

    /// <summary>Sessions holding a non-Null mode, by session id (sorted, so effects come out in a deterministic order).</summary>
    public SortedDictionary<ulong, LockHolder> Holders { get; } = [];

    /// <summary>Waiting requests, first in first out. At most one per session.</summary>
    public LinkedList<QueuedRequest> Queue { get; } = new();

    public int OutstandingRevokes { get; set; }

    public bool IsUnused => Holders.Count == 0 && Queue.Count == 0;
}

internal sealed class LockHolder(ulong session)
{
    public ulong Session { get; } = session;

    public LockMode Mode { get; set; }

    public ulong GrantGen { get; set; }

    public PendingRevoke? Revoke { get; set; }
}

/// <summary>A revoke sent and not yet answered. Timestamps are <see cref="TimeProvider.GetTimestamp"/> values.</summary>
internal sealed class PendingRevoke(LockMode oldMode, LockMode newMode, long sentAt)
{
    public LockMode Old { get; } = oldMode;

    public LockMode New { get; } = newMode;

    public long FirstSent { get; } = sentAt;

    public long LastSent { get; set; } = sentAt;

    /// <summary>Time (timestamp units) during which the holder was itself waiting on another session; not held against it.</summary>
    public long Excused { get; set; }

    public bool Warned { get; set; }
}

internal sealed class QueuedRequest(ulong session, ulong requestId, LockMode oldMode, LockMode wanted)
{
    public ulong Session { get; } = session;

    public ulong RequestId { get; } = requestId;

    /// <summary>The client's own view of its mode when it asked; informational (logs) only.</summary>
    public LockMode Old { get; } = oldMode;

    public LockMode Wanted { get; } = wanted;
}

internal sealed class ServerSession(ulong id)
{
    public ulong Id { get; } = id;

    /// <summary>Locks this session holds or waits on.</summary>
    public HashSet<KeyRange> Locks { get; } = [];

    /// <summary>
    /// Highest request id seen per lock. A client numbers its requests upwards and has at most one in
    /// flight per lock, so anything at or below this is a duplicate; dropping it is what stops a stale
    /// duplicate release from taking away a lock granted since.
    /// </summary>
    public Dictionary<KeyRange, ulong> LastRequestId { get; } = [];
}
