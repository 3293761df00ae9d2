// SPDX-License-Identifier: MIT
namespace Crfs.Server.Locks;

/// <summary>What became of a LOCK request. Everything but <see cref="Granted"/> and <see cref="Queued"/> sends nothing.</summary>
public enum LockRequestStatus : byte
{
    /// <summary>The grant was sent during the call (covered already, a release, or nothing in the way).</summary>
    Granted = 0,

    /// <summary>Waiting in the lock's FIFO; revokes may have been sent to incompatible holders.</summary>
    Queued = 1,

    /// <summary>A request id at or below the last one seen from this session for this lock: a duplicate, dropped.</summary>
    Duplicate = 2,

    /// <summary>The session is not open (never opened, closed or evicted): a late message, dropped.</summary>
    UnknownSession = 3,

    /// <summary>Not a lock range, or a mode the range does not allow (<see cref="LockRangeRules"/>): a protocol violation.</summary>
    InvalidRange = 4,

    /// <summary>The session already has a request waiting on this lock; a client sends one at a time. A protocol violation.</summary>
    AlreadyWaiting = 5,
}

/// <summary>What became of a revoke answer.</summary>
public enum RevokeAnswerStatus : byte
{
    /// <summary>It answered the outstanding revoke; the holder now has the answered mode.</summary>
    Accepted = 0,

    /// <summary>It matches no outstanding revoke (a duplicate, or an answer to a revoke made moot by a release): ignored.</summary>
    Stale = 1,

    /// <summary>The session is not open: ignored.</summary>
    UnknownSession = 2,
}
