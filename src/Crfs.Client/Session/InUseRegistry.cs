// SPDX-License-Identifier: MIT
using Crfs.Protocol.Messages;

namespace Crfs.Client.Session;

/// <summary>
/// Which inodes this client is using (open handles, or names the kernel still holds): the answer to
/// the server's INUSE_QUERY, which it asks before deleting an orphan (coherence.md §5.11). The
/// file-system layer feeds it; counts nest, so every <see cref="Acquire"/> needs one <see cref="Release"/>.
/// </summary>
public sealed class InUseRegistry
{
    private readonly Lock _gate = new();
    private readonly Dictionary<(ulong Tree, ulong Ino), int> _uses = [];

    public void Acquire(ulong treeId, ulong ino)
    {
        lock (_gate)
        {
            _uses[(treeId, ino)] = _uses.GetValueOrDefault((treeId, ino)) + 1;
        }
    }

    /// <summary>Drops one use; returns true when that was the last.</summary>
    public bool Release(ulong treeId, ulong ino)
    {
        lock (_gate)
        {
            if (!_uses.TryGetValue((treeId, ino), out int n))
            {
                throw new InvalidOperationException($"inode {ino} of tree {treeId} released more often than acquired");
            }

            if (n == 1)
            {
                _uses.Remove((treeId, ino));
                return true;
            }

            _uses[(treeId, ino)] = n - 1;
            return false;
        }
    }

    public bool IsInUse(ulong treeId, ulong ino)
    {
        lock (_gate)
        {
            return _uses.ContainsKey((treeId, ino));
        }
    }

    /// <summary>Bit <c>i</c> of byte <c>i / 8</c> is set when objectid <c>group·1024 + i</c> is in use.</summary>
    public byte[] Bitmap(ulong treeId, ulong group)
    {
        byte[] bitmap = new byte[KeyRange.InodeGroupSize / 8];
        ulong first = group * KeyRange.InodeGroupSize;
        lock (_gate)
        {
            foreach ((ulong tree, ulong ino) in _uses.Keys)
            {
                if (tree == treeId && ino >= first && ino - first < KeyRange.InodeGroupSize)
                {
                    int bit = (int)(ino - first);
                    bitmap[bit / 8] |= (byte)(1 << (bit % 8));
                }
            }
        }

        return bitmap;
    }
}
