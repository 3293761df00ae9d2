// SPDX-License-Identifier: MIT
using Microsoft.Extensions.Logging;

namespace Crfs.Volume;

/// <summary>How to open a volume.</summary>
public sealed class VolumeOptions
{
    /// <summary>
    /// Bytes of validated tree blocks kept in the cache (at least 64 blocks). Default 128 MiB:
    /// enough for the metadata of a few hundred thousand files to stay resident during a full copy.
    /// </summary>
    public long CacheBytes { get; init; } = 128L << 20;

    /// <summary>Where warnings go (bad copies, bad superblock mirrors, stale devices). Null: nowhere.</summary>
    public ILogger? Logger { get; init; }

    /// <summary>Called (on the reading thread) for each bad copy that another copy replaced.</summary>
    public Action<BadCopyEventArgs>? BadCopyFound { get; init; }
}
