// SPDX-License-Identifier: MIT
using Crfs.Protocol.Messages;

namespace Crfs.Client.Coherence;

/// <summary>
/// Where the <see cref="LockClient"/> sends its messages: the connection layer encodes them as a LOCK
/// request and as the answer to a REVOKE.
/// <para>
/// Contract: called while the lock client holds its internal lock, in order, so an implementation must
/// only enqueue (never block on the network) and must never call back into the <see cref="LockClient"/>
/// synchronously. Lock order: <c>LockClient</c> gate, then the outbox.
/// </para>
/// </summary>
public interface ILockClientOutbox
{
    /// <summary>LOCK(range, old, wanted). At most one is in flight per lock; the reply goes to <see cref="LockClient.ReceiveGrant"/>.</summary>
    void SendRequest(ulong requestId, KeyRange range, LockMode oldMode, LockMode wantedMode);

    /// <summary>The answer to REVOKE(range, grantGen, old, new), echoing it, sent once the lock is at <paramref name="newMode"/> or below.</summary>
    void SendRevokeAnswer(KeyRange range, ulong grantGen, LockMode oldMode, LockMode newMode);
}
