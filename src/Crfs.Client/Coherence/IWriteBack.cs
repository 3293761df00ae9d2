// SPDX-License-Identifier: MIT
using Crfs.Protocol.Messages;

namespace Crfs.Client.Coherence;

/// <summary>
/// What the lock client asks of the item cache and transaction layer when it gives a lock up. Called
/// outside the lock client's internal lock, from the task that processes the revoke or release; calls
/// for different locks may overlap.
/// </summary>
public interface IWriteBack
{
    /// <summary>
    /// COMMIT the whole open transaction — not only <paramref name="range"/>'s items, because one
    /// operation (a create) dirties two lock groups and both must land together — and complete when
    /// the server has made it durable. Returns false when the server refused it (the session was
    /// evicted): the lock client then behaves as evicted and never answers the revoke. Must not wait
    /// for any lock.
    /// </summary>
    Task<bool> FlushAsync(KeyRange range);

    /// <summary>
    /// Drop every cached item and buffered byte in <paramref name="range"/> (nothing in it is dirty
    /// any more) and queue the kernel invalidations for it; must not wait on the kernel without bound
    /// (see coherence.md §5.12: the notifier thread runs them).
    /// </summary>
    Task InvalidateAsync(KeyRange range);
}
