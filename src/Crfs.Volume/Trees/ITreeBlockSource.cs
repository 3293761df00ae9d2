// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;

namespace Crfs.Volume.Trees;

/// <summary>
/// Where tree walks get their blocks. The read side has one implementation over the devices and
/// the cache (<see cref="VolumeBlockSource"/>); the copy-on-write writer is meant to put a
/// transaction's overlay of dirty blocks in front of it, so that cursors see uncommitted changes
/// without the reader changing.
/// </summary>
public interface ITreeBlockSource
{
    /// <summary>
    /// Returns the validated block at <paramref name="logical"/> that matches
    /// <paramref name="expected"/>, or throws <see cref="CorruptBlockException"/> naming the
    /// address and each copy's fault.
    /// </summary>
    TreeBlock Read(ulong logical, in TreeBlockExpectation expected);
}
