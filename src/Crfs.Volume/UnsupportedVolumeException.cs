// SPDX-License-Identifier: MIT
namespace Crfs.Volume;

/// <summary>
/// The volume uses something this reader does not implement (an incompat feature, a RAID5/6
/// chunk). Not corruption: the kernel may read it fine. An <see cref="IOException"/> so that
/// callers that report I/O failures report this too.
/// </summary>
public sealed class UnsupportedVolumeException : IOException
{
    public UnsupportedVolumeException(string message)
        : base(message)
    {
    }
}
