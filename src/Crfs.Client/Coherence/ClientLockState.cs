// SPDX-License-Identifier: MIT
using Crfs.Protocol.Messages;

namespace Crfs.Client.Coherence;

/// <summary>A lock as the client sees it, for diagnostics, invariant checks and (later) LOCK_RECOVER.</summary>
/// <param name="Mode">The granted mode; during a revoke still the old one until the answer is sent (what recovery must report).</param>
/// <param name="DowngradeTarget">The mode a revoke or release in progress is lowering the lock to, or null.</param>
public readonly record struct ClientLockState(
    KeyRange Range, LockMode Mode, ulong GrantGen, int Users, int Waiters, bool RequestInFlight, LockMode? DowngradeTarget);
