// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;

namespace Crfs.Volume.Trees;

/// <summary>
/// One B-tree of the volume: its id, where its root is, and where its blocks come from. Cheap and
/// immutable; a tree whose root moves (a commit) is a new <see cref="BtrfsTree"/>.
/// </summary>
public sealed class BtrfsTree
{
    public BtrfsTree(ITreeBlockSource source, ulong treeId, ulong rootBytenr, int rootLevel, ulong rootGeneration)
    {
        Source = source;
        TreeId = treeId;
        RootBytenr = rootBytenr;
        RootLevel = rootLevel;
        RootGeneration = rootGeneration;
    }

    public ITreeBlockSource Source { get; }

    public ulong TreeId { get; }

    public ulong RootBytenr { get; }

    public int RootLevel { get; }

    public ulong RootGeneration { get; }

    public TreeBlock ReadRoot() =>
        Source.Read(RootBytenr, new TreeBlockExpectation(RootLevel, RootGeneration, TreeId, null));

    /// <summary>Reads the child in <paramref name="slot"/> of <paramref name="node"/>, checked against the pointer.</summary>
    public TreeBlock ReadChild(TreeBlock node, int slot) =>
        Source.Read(node.ChildPointer(slot), node.ChildExpectation(slot, TreeId));

    public TreeCursor OpenCursor() => new(this);

    /// <summary>Finds the item with exactly <paramref name="key"/>.</summary>
    public bool TryGetItem(BtrfsKey key, out TreeItem item)
    {
        var cursor = new TreeCursor(this);
        if (cursor.Seek(key) && cursor.Key == key)
        {
            item = cursor.Item;
            return true;
        }

        item = default;
        return false;
    }

    /// <summary>
    /// Finds the first item whose objectid and type match <paramref name="objectId"/> and
    /// <paramref name="type"/>, whatever its offset (e.g. a ROOT_ITEM, whose offset is a snapshot transid).
    /// </summary>
    public bool TryGetFirstItem(ulong objectId, ItemType type, out TreeItem item)
    {
        var cursor = new TreeCursor(this);
        if (cursor.Seek(new BtrfsKey(objectId, type, 0)) && cursor.Key.ObjectId == objectId && cursor.Key.Type == type)
        {
            item = cursor.Item;
            return true;
        }

        item = default;
        return false;
    }

    public override string ToString() => $"tree {TreeId} (root {RootBytenr} level {RootLevel} generation {RootGeneration})";
}
