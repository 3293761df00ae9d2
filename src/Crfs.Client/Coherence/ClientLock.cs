// SPDX-License-Identifier: MIT
using Crfs.Protocol.Messages;

namespace Crfs.Client.Coherence;

/// <summary>Per-lock state of the <see cref="LockClient"/>; every member is guarded by the client's gate.</summary>
internal sealed class ClientLock(KeyRange range)
{
    public KeyRange Range { get; } = range;

    /// <summary>The granted mode. Lowered only when a downgrade completes, raised only by a grant.</summary>
    public LockMode Mode { get; set; }

    /// <summary>The grant_gen of the last grant; a revoke names the grant it revokes by this.</summary>
    public ulong GrantGen { get; set; }

    public int Readers { get; set; }

    public int Writers { get; set; }

    public int WriteOnlyUsers { get; set; }

    public int Users => Readers + Writers + WriteOnlyUsers;

    /// <summary>A WRITE or WRITE_ONLY user was admitted since the last write-back: giving the lock up must flush first.</summary>
    public bool Dirtied { get; set; }

    /// <summary>The id of the LOCK request in flight, or 0. One at a time per lock.</summary>
    public ulong RequestInFlight { get; set; }

    /// <summary>The revoke(s) or release being carried out, or null.</summary>
    public Downgrade? Downgrade { get; set; }

    /// <summary>
    /// Revokes that cannot be handled yet: for a grant whose reply has not arrived (a newer grant_gen),
    /// or asking for a lower mode than the downgrade already running reaches.
    /// </summary>
    public List<RevokeMessage> Deferred { get; } = [];

    /// <summary>Users waiting, first come first served.</summary>
    public LinkedList<LockWaiter> Waiters { get; } = new();

    /// <summary>Our node in the idle LRU while the lock is idle, else null.</summary>
    public LinkedListNode<ClientLock>? IdleNode { get; set; }
}

internal readonly record struct RevokeMessage(ulong GrantGen, LockMode Old, LockMode New);

/// <summary>
/// Lowering a lock: wait for users incompatible with <see cref="Target"/> to drain, write back if it
/// was written, invalidate unless it is WRITE→READ, then set the mode and answer. Revokes that arrive
/// before it starts running merge into it (the lowest target wins).
/// </summary>
internal sealed class Downgrade(LockMode target, bool release)
{
    public LockMode Target { get; set; } = target;

    /// <summary>A release the client chose (LRU overflow, or a mode change that cannot happen in place): send LOCK(NULL) when done.</summary>
    public bool Release { get; set; } = release;

    /// <summary>The write-back task has started; no more merging.</summary>
    public bool Running { get; set; }

    /// <summary>The GrantGen when it started running; the result applies only to that grant.</summary>
    public ulong StartGen { get; set; }

    public List<RevokeMessage> Answers { get; } = [];
}

internal sealed class LockWaiter(ClientLock state, LockMode mode)
{
    public ClientLock State { get; } = state;

    public LockMode Mode { get; } = mode;

    public TaskCompletionSource<LockAcquisition> Completion { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

    public LinkedListNode<LockWaiter>? Node { get; set; }

    public CancellationTokenRegistration Registration { get; set; }
}
