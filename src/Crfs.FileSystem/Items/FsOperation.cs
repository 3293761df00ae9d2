// SPDX-License-Identifier: MIT
using Crfs.Client.Cache;
using Crfs.Client.Coherence;
using Crfs.Client.Session;
using Crfs.Format.Btrfs;
using Crfs.Protocol.Messages;

namespace Crfs.FileSystem.Items;

/// <summary>
/// Thrown inside an operation that touched a key whose lock it does not hold (in the needed mode).
/// The runner releases every lock, adds this one to the set and starts the operation again: the
/// only way to take locks that are discovered late (a name's inode, a parent chain) without ever
/// waiting for a lock that sorts before one already held.
/// </summary>
internal sealed class LockNeededException(KeyRange range, LockMode mode)
    : Exception($"operation needs {mode} on {range}")
{
    public KeyRange Range { get; } = range;

    public LockMode Mode { get; } = mode;
}

/// <summary>
/// One attempt of one file-system operation: the locks it holds, its private <see cref="ChangeSet"/>,
/// and reads that see the change set first and then the session's cache. Every access checks that
/// the key's lock range is held in a sufficient mode and asks for it otherwise
/// (<see cref="LockNeededException"/>).
/// </summary>
public sealed class FsOperation
{
    private readonly CrfsSession _session;
    private readonly IReadOnlyDictionary<KeyRange, LockMode> _held;
    private readonly CancellationToken _cancellationToken;

    internal FsOperation(CrfsSession session, ulong treeId, IReadOnlyDictionary<KeyRange, LockMode> held, bool mutating, CancellationToken cancellationToken)
    {
        _session = session;
        TreeId = treeId;
        _held = held;
        Mutating = mutating;
        _cancellationToken = cancellationToken;
        Changes = new ChangeSet(treeId);
    }

    public ulong TreeId { get; }

    /// <summary>True when the operation may change items: every inode group it discovers is locked for WRITE.</summary>
    public bool Mutating { get; }

    public ChangeSet Changes { get; }

    public CrfsSession Session => _session;

    public KeyRange RangeOf(ulong objectId) =>
        objectId == ObjectIds.Orphan ? LockRanges.Orphans(TreeId) : KeyRange.ForInodeGroup(TreeId, objectId);

    /// <summary>Makes sure the lock of <paramref name="objectId"/>'s items is held for reading (or more).</summary>
    public KeyRange RequireRead(ulong objectId)
    {
        KeyRange range = RangeOf(objectId);
        if (!_held.TryGetValue(range, out LockMode mode) || mode == LockMode.WriteOnly)
        {
            throw new LockNeededException(range, Mutating ? LockMode.Write : LockMode.Read);
        }

        return range;
    }

    public KeyRange RequireWrite(ulong objectId)
    {
        KeyRange range = RangeOf(objectId);
        LockMode wanted = objectId == ObjectIds.Orphan ? LockMode.WriteOnly : LockMode.Write;
        if (!_held.TryGetValue(range, out LockMode mode) || mode != wanted)
        {
            throw new LockNeededException(range, wanted);
        }

        return range;
    }

    public async ValueTask<byte[]?> GetAsync(BtrfsKey key)
    {
        KeyRange range = RequireRead(key.ObjectId);
        if (Changes.TryGetStaged(key, out byte[]? staged))
        {
            return staged;
        }

        return await _session.ReadItemAsync(range, key, _cancellationToken);
    }

    /// <summary>Items of <c>[first, last]</c> (one objectid's keys) as this operation sees them.</summary>
    public async ValueTask<List<KeyValuePair<BtrfsKey, byte[]>>> RangeAsync(BtrfsKey first, BtrfsKey last)
    {
        KeyRange range = RequireRead(first.ObjectId);
        List<KeyValuePair<BtrfsKey, byte[]>> cached = await _session.ReadRangeAsync(range, first, last, _cancellationToken);
        var merged = new SortedDictionary<BtrfsKey, byte[]>();
        foreach (KeyValuePair<BtrfsKey, byte[]> kv in cached)
        {
            if (!Changes.TryGetStaged(kv.Key, out byte[]? staged))
            {
                merged[kv.Key] = kv.Value;
            }
            else if (staged is not null)
            {
                merged[kv.Key] = staged;
            }
        }

        foreach (KeyValuePair<BtrfsKey, byte[]?> kv in Changes.Staged)
        {
            if (kv.Value is not null && kv.Key >= first && kv.Key <= last)
            {
                merged[kv.Key] = kv.Value;
            }
        }

        return [.. merged];
    }

    /// <summary>The greatest key of <c>[first, last]</c> ever present in this operation's view (staged deletes are ignored: numbers are not reused).</summary>
    public async ValueTask<BtrfsKey?> LastKeyAsync(BtrfsKey first, BtrfsKey last)
    {
        KeyRange range = RequireRead(first.ObjectId);
        BtrfsKey? best = await _session.ReadLastKeyAsync(range, first, last, _cancellationToken);
        foreach (KeyValuePair<BtrfsKey, byte[]?> kv in Changes.Staged)
        {
            if (kv.Value is not null && kv.Key >= first && kv.Key <= last && (best is null || kv.Key > best.Value))
            {
                best = kv.Key;
            }
        }

        return best;
    }

    public void Put(BtrfsKey key, byte[] value)
    {
        RequireWrite(key.ObjectId);
        Changes.Put(key, value);
    }

    public void Delete(BtrfsKey key)
    {
        RequireWrite(key.ObjectId);
        Changes.Delete(key);
    }

    public void DeleteRange(BtrfsKey first, BtrfsKey last)
    {
        RequireWrite(first.ObjectId);
        RequireWrite(last.ObjectId);
        Changes.DeleteRange(first, last);
    }

    public void Data(DataOperation op)
    {
        RequireWrite(op.Ino);
        Changes.Data(op);
    }

    /// <summary>Records that a fresh inode's keys are empty (its lock must be held).</summary>
    public void MarkFresh(ulong ino)
    {
        RequireWrite(ino);
        _session.MarkKnownEmpty(TreeId, new BtrfsKey(ino, 0, 0), new BtrfsKey(ino, (ItemType)byte.MaxValue, ulong.MaxValue));
    }
}
