// SPDX-License-Identifier: MIT
using System.Diagnostics.CodeAnalysis;
using Crfs.Protocol.Messages;

namespace Crfs.Client.Coherence;

/// <summary>How an acquisition ended. Cancellation is not an outcome: it throws <see cref="OperationCanceledException"/>.</summary>
public enum LockOutcome : byte
{
    Granted = 0,

    /// <summary>The session was evicted (or its write-back was refused); nothing can be locked until <see cref="LockClient.Reset"/>.</summary>
    Evicted = 1,
}

/// <summary>One range and the mode a task needs on it.</summary>
public readonly record struct LockNeed(KeyRange Range, LockMode Mode);

public readonly record struct LockAcquisition(LockOutcome Outcome, LockLease? Lease)
{
    [MemberNotNullWhen(true, nameof(Lease))]
    public bool IsGranted => Outcome == LockOutcome.Granted && Lease is not null;

    internal static LockAcquisition Evicted => new(LockOutcome.Evicted, null);
}

public readonly record struct LockSetAcquisition(LockOutcome Outcome, LockLeaseSet? Leases)
{
    [MemberNotNullWhen(true, nameof(Leases))]
    public bool IsGranted => Outcome == LockOutcome.Granted && Leases is not null;
}
