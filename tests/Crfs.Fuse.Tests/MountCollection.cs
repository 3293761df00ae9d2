// SPDX-License-Identifier: MIT
namespace Crfs.Fuse.Tests;

/// <summary>Real mounts run one at a time: they share two CPUs with everything else on the machine.</summary>
[CollectionDefinition(Name, DisableParallelization = true)]
public sealed class MountCollection
{
    public const string Name = "Mounts";
}
