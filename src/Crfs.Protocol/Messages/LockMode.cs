// SPDX-License-Identifier: MIT
namespace Crfs.Protocol.Messages;

/// <summary>
/// Lock modes over key ranges, as in scoutfs. Wire values: frozen.
/// <list type="bullet">
/// <item><see cref="Null"/>: holds nothing; the client may cache nothing.</item>
/// <item><see cref="Read"/>: many holders; each may cache the range's items clean.</item>
/// <item><see cref="Write"/>: one holder; may cache, read and dirty the range.</item>
/// <item><see cref="WriteOnly"/>: many holders; each may add changes that commute (e.g. creates of
/// distinct new inodes, counters) but may not read the range's cached state.</item>
/// </list>
/// Compatibility: Read–Read and WriteOnly–WriteOnly are compatible; everything else with a
/// non-Null mode conflicts.
/// </summary>
public enum LockMode : byte
{
    Null = 0,
    Read = 1,
    Write = 2,
    WriteOnly = 3,
}

public static class LockModes
{
    public static bool Compatible(LockMode a, LockMode b) =>
        a == LockMode.Null || b == LockMode.Null || (a == b && a != LockMode.Write);

    /// <summary>Whether holding <paramref name="held"/> satisfies a request for <paramref name="wanted"/>.</summary>
    public static bool Covers(LockMode held, LockMode wanted) =>
        wanted == LockMode.Null || held == wanted || (held == LockMode.Write && wanted == LockMode.Read);
}
