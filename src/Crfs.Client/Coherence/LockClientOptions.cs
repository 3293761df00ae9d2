// SPDX-License-Identifier: MIT
namespace Crfs.Client.Coherence;

public sealed record LockClientOptions
{
    /// <summary>
    /// How many idle locks (held, no user, nothing waiting) are kept, least recently used first out
    /// (default 1024; scoutfs's <c>lock_idle_count</c>). When one more goes idle, the oldest is written
    /// back if it was written, invalidated and released to NULL. 0 releases every lock as soon as it is idle.
    /// </summary>
    public int IdleLockLimit { get; init; } = 1024;
}
