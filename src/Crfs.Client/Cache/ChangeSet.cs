// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Protocol.Messages;

namespace Crfs.Client.Cache;

/// <summary>
/// The item and data changes of one file-system operation, built privately and then applied to the
/// open transaction in one step (<see cref="Session.CrfsSession.Apply"/>), so a commit never carries
/// half a create. While it is being built, <see cref="TryGetStaged"/> lets the builder read its own
/// changes before the cache (a rename that touches one directory twice sees its first edit).
/// </summary>
public sealed class ChangeSet
{
    private readonly List<Change> _changes = [];
    private readonly Dictionary<BtrfsKey, byte[]?> _staged = [];
    private readonly List<(BtrfsKey First, BtrfsKey Last)> _deletedRanges = [];

    public ChangeSet(ulong treeId)
    {
        TreeId = treeId;
    }

    public ulong TreeId { get; }

    public bool IsEmpty => _changes.Count == 0;

    internal IReadOnlyList<Change> Changes => _changes;

    public void Put(BtrfsKey key, byte[] value)
    {
        _changes.Add(new Change(ChangeKind.Put, key, key, value, default));
        _staged[key] = value;
    }

    public void Delete(BtrfsKey key)
    {
        _changes.Add(new Change(ChangeKind.Delete, key, key, null, default));
        _staged[key] = null;
    }

    public void DeleteRange(BtrfsKey first, BtrfsKey last)
    {
        _changes.Add(new Change(ChangeKind.DeleteRange, first, last, null, default));
        foreach (BtrfsKey key in _staged.Keys.ToArray())
        {
            if (key >= first && key <= last)
            {
                _staged[key] = null;
            }
        }

        _deletedRanges.Add((first, last));
    }

    public void Data(DataOperation op) => _changes.Add(new Change(ChangeKind.Data, default, default, null, op));

    /// <summary>
    /// True when this change set decides <paramref name="key"/>: <paramref name="value"/> is the staged
    /// value, or null when the key is staged as deleted.
    /// </summary>
    public bool TryGetStaged(BtrfsKey key, out byte[]? value)
    {
        if (_staged.TryGetValue(key, out value))
        {
            return true;
        }

        foreach ((BtrfsKey first, BtrfsKey last) in _deletedRanges)
        {
            if (key >= first && key <= last)
            {
                value = null;
                return true;
            }
        }

        return false;
    }

    /// <summary>The staged item keys (puts and deletes), for tests and diagnostics.</summary>
    public IEnumerable<KeyValuePair<BtrfsKey, byte[]?>> Staged => _staged;

    internal enum ChangeKind : byte
    {
        Put,
        Delete,
        DeleteRange,
        Data,
    }

    internal readonly record struct Change(ChangeKind Kind, BtrfsKey Key, BtrfsKey Last, byte[]? Value, DataOperation Data);
}
