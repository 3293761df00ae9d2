// SPDX-License-Identifier: MIT
using Crfs.Protocol.Messages;

namespace Crfs.Client.Coherence;

/// <summary>
/// One use of a lock: while it is alive the client may read (READ, WRITE) or dirty (WRITE,
/// WRITE_ONLY) cached items of <see cref="Range"/>, and a revoke waits for it. Dispose it as soon as
/// the operation is done; disposing twice is harmless, and a lease that outlived a
/// <see cref="LockClient.Reset"/> disposes into nothing.
/// </summary>
public sealed class LockLease : IDisposable
{
    private readonly LockClient _owner;
    private int _disposed;

    internal LockLease(LockClient owner, ClientLock state, LockMode mode, long epoch)
    {
        _owner = owner;
        State = state;
        Mode = mode;
        Epoch = epoch;
    }

    public KeyRange Range => State.Range;

    /// <summary>The mode this user asked for (the lock itself may be held in a stronger one).</summary>
    public LockMode Mode { get; }

    internal ClientLock State { get; }

    internal long Epoch { get; }

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            _owner.Release(this);
        }
    }
}

/// <summary>Leases on several ranges, taken in <see cref="LockOrder"/>; disposed together.</summary>
public sealed class LockLeaseSet : IDisposable
{
    internal LockLeaseSet(IReadOnlyList<LockLease> leases) => Leases = leases;

    /// <summary>In lock order.</summary>
    public IReadOnlyList<LockLease> Leases { get; }

    public void Dispose()
    {
        for (int i = Leases.Count - 1; i >= 0; i--)
        {
            Leases[i].Dispose();
        }
    }
}
