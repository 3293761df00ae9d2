// SPDX-License-Identifier: MIT
namespace Crfs.Volume.Transactions;

/// <summary>
/// Where one tree's root is, as the writer tracks it across commits. The root and chunk trees
/// are recorded in the superblock; every other tree in its ROOT_ITEM, which the commit rewrites
/// whenever <see cref="Bytenr"/> or <see cref="Level"/> no longer match what was recorded.
/// </summary>
internal sealed class TreeRoot
{
    public TreeRoot(ulong treeId, ulong bytenr, int level, ulong generation)
    {
        TreeId = treeId;
        Bytenr = bytenr;
        Level = level;
        Generation = generation;
        RecordedBytenr = bytenr;
        RecordedGeneration = generation;
    }

    public ulong TreeId { get; }

    public ulong Bytenr { get; set; }

    public int Level { get; set; }

    /// <summary>The root node's header generation.</summary>
    public ulong Generation { get; set; }

    /// <summary>The root address the ROOT_ITEM (or superblock) holds.</summary>
    public ulong RecordedBytenr { get; set; }

    public ulong RecordedGeneration { get; set; }

    /// <summary>Net tree-block bytes allocated minus freed since the ROOT_ITEM was last written.</summary>
    public long BytesUsedDelta { get; set; }

    /// <summary>True once an item of this tree changed in the running transaction.</summary>
    public bool Changed { get; set; }

    public bool RootItemStale => RecordedBytenr != Bytenr || RecordedGeneration != Generation || BytesUsedDelta != 0;

    public override string ToString() => $"tree {TreeId} root {Bytenr} level {Level} generation {Generation}";
}
