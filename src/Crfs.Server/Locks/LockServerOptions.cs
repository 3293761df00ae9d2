// SPDX-License-Identifier: MIT
namespace Crfs.Server.Locks;

/// <summary>Timing of revokes. Every interval is measured on the injected <see cref="TimeProvider"/>.</summary>
public sealed record LockServerOptions
{
    /// <summary>
    /// A revoke not answered after this long is sent again (default 5 s). The protocol layer already
    /// resends unacknowledged frames after a reconnect; this is the lock layer's own insurance against
    /// a lost or ignored revoke, the bug Ceph shipped as "failing to respond to capability release".
    /// </summary>
    public TimeSpan RevokeResendInterval { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>A revoke unanswered this long is logged once as a warning (default 10 s).</summary>
    public TimeSpan RevokeWarning { get; init; } = TimeSpan.FromSeconds(10);

    /// <summary>
    /// A session that leaves a revoke unanswered this long is evicted (default 60 s): its locks are
    /// released so the other sessions proceed, and <see cref="ILockServerOutbox.SessionEvicted"/> is raised.
    /// </summary>
    public TimeSpan RevokeTimeout { get; init; } = TimeSpan.FromSeconds(60);
}
