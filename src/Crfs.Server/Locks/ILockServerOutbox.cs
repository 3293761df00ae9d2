// SPDX-License-Identifier: MIT
using Crfs.Protocol.Messages;

namespace Crfs.Server.Locks;

/// <summary>
/// Where the <see cref="LockServer"/> sends its effects: the session layer implements this by
/// encoding LOCK replies and REVOKE requests onto each session's connection.
/// <para>
/// Contract: every method is called while the lock server holds its internal lock, in the order
/// the effects happened, so an implementation must only enqueue (never block, never wait for the
/// network) and must never call back into the <see cref="LockServer"/> synchronously. Lock order:
/// <c>LockServer</c> gate, then whatever the outbox takes to enqueue.
/// </para>
/// </summary>
public interface ILockServerOutbox
{
    /// <summary>Reply to LOCK request <paramref name="requestId"/>: the session now holds <paramref name="newMode"/>.</summary>
    void SendGrant(ulong session, ulong requestId, KeyRange range, LockMode oldMode, LockMode newMode, ulong grantGen);

    /// <summary>
    /// Ask the session to lower its grant <paramref name="grantGen"/> from <paramref name="oldMode"/> to
    /// <paramref name="newMode"/>. Sent again, unchanged, every resend interval until answered.
    /// </summary>
    void SendRevoke(ulong session, KeyRange range, ulong grantGen, LockMode oldMode, LockMode newMode);

    /// <summary>
    /// The session did not answer a revoke within the revoke timeout and is being removed. Called just
    /// before its locks are released, in the same critical section, so every grant that release makes
    /// possible reaches the outbox after this. The session layer tells the client it is evicted, drops
    /// its queued frames and inode leases, and reclaims its orphans.
    /// </summary>
    void SessionEvicted(ulong session);
}
