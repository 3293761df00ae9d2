// SPDX-License-Identifier: MIT
namespace Crfs.Bench.Passthrough;

/// <summary>
/// Node ids of the passthrough: one per backing inode (device, inode number), each remembering
/// one (parent, name) under which it was last seen, so a path can be rebuilt for every request.
/// No file descriptor is held per node (the process may open at most 20000).
/// </summary>
/// <remarks>
/// One lock guards both maps and every node's parent, name and count; it is held for dictionary
/// operations and a walk up the parent chain, never across a syscall. The kernel keeps a parent
/// dentry (and so its node) alive while any child is cached, so a cached node's chain of parents
/// is always present. A node detached by unlink or rmdir keeps serving through its open file
/// handles; path-based requests on it answer ESTALE.
/// </remarks>
internal sealed class NodeTable
{
    public const ulong RootId = 1;
    public const ulong Detached = 0;

    private readonly Lock _lock = new();
    private readonly Dictionary<ulong, Node> _byId = [];
    private readonly Dictionary<(ulong Dev, ulong Ino), Node> _byInode = [];
    private readonly byte[] _rootPath;
    private ulong _next = RootId + 1;

    public NodeTable(byte[] rootPath)
    {
        _rootPath = rootPath;
        _byId[RootId] = new Node(RootId, (0, 0)) { Parent = RootId, Name = [] };
    }

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _byId.Count;
            }
        }
    }

    /// <summary>
    /// The node for the backing inode found at parent/name, created if new; adds
    /// <paramref name="references"/> to its lookup count and records where it was seen.
    /// </summary>
    public ulong Remember(ulong parent, ReadOnlySpan<byte> name, ulong dev, ulong ino, long references)
    {
        lock (_lock)
        {
            if (!_byInode.TryGetValue((dev, ino), out Node? node))
            {
                node = new Node(_next++, (dev, ino)) { Parent = parent, Name = name.ToArray() };
                _byInode[node.Inode] = node;
                _byId[node.Id] = node;
            }
            else if (node.Parent != parent || !name.SequenceEqual(node.Name))
            {
                node.Parent = parent;
                node.Name = name.ToArray();
            }

            node.Lookups += references;
            if (node.Lookups == 0)
            {
                Drop(node);
            }

            return node.Id;
        }
    }

    /// <summary>Takes back <paramref name="count"/> kernel references; the node goes at zero.</summary>
    public void Forget(ulong id, ulong count)
    {
        lock (_lock)
        {
            if (id != RootId && _byId.TryGetValue(id, out Node? node))
            {
                node.Lookups -= (long)count;
                if (node.Lookups <= 0)
                {
                    Drop(node);
                }
            }
        }
    }

    /// <summary>Records that the name parent/name now names what was at oldParent/oldName (after a rename).</summary>
    public void Moved(ulong dev, ulong ino, ulong newParent, ReadOnlySpan<byte> newName)
    {
        lock (_lock)
        {
            if (_byInode.TryGetValue((dev, ino), out Node? node))
            {
                node.Parent = newParent;
                node.Name = newName.ToArray();
            }
        }
    }

    /// <summary>After unlink/rmdir of parent/name: the node seen there, if it was seen there, loses its path.</summary>
    public void Unlinked(ulong parent, ReadOnlySpan<byte> name, ulong dev, ulong ino)
    {
        lock (_lock)
        {
            if (_byInode.TryGetValue((dev, ino), out Node? node) && node.Parent == parent && name.SequenceEqual(node.Name))
            {
                node.Parent = Detached;
            }
        }
    }

    /// <summary>
    /// Writes the NUL-terminated backing path of node <paramref name="id"/> (plus "/" +
    /// <paramref name="name"/> if given) into <paramref name="buffer"/>; the length without the NUL,
    /// or -1 if the node is unknown or detached, -2 if the path does not fit.
    /// </summary>
    public int BuildPath(ulong id, ReadOnlySpan<byte> name, Span<byte> buffer)
    {
        // Assemble from the end of the buffer backwards (leaf first), then move it to the front.
        int end = buffer.Length - 1;
        int at = end;
        if (!name.IsEmpty)
        {
            if (!Prepend(buffer, ref at, name) || !Prepend(buffer, ref at, "/"u8))
            {
                return -2;
            }
        }

        lock (_lock)
        {
            ulong current = id;
            while (current != RootId)
            {
                if (!_byId.TryGetValue(current, out Node? node) || node.Parent == Detached)
                {
                    return -1;
                }

                if (!Prepend(buffer, ref at, node.Name) || !Prepend(buffer, ref at, "/"u8))
                {
                    return -2;
                }

                current = node.Parent;
            }
        }

        if (!Prepend(buffer, ref at, _rootPath))
        {
            return -2;
        }

        int length = end - at;
        buffer.Slice(at, length).CopyTo(buffer);
        buffer[length] = 0;
        return length;
    }

    private static bool Prepend(Span<byte> buffer, ref int at, ReadOnlySpan<byte> part)
    {
        if (part.Length > at)
        {
            return false;
        }

        at -= part.Length;
        part.CopyTo(buffer[at..]);
        return true;
    }

    private void Drop(Node node)
    {
        _byId.Remove(node.Id);
        _byInode.Remove(node.Inode);
    }

    private sealed class Node(ulong id, (ulong Dev, ulong Ino) inode)
    {
        public ulong Id { get; } = id;

        public (ulong Dev, ulong Ino) Inode { get; } = inode;

        public ulong Parent { get; set; }

        public byte[] Name { get; set; } = [];

        public long Lookups { get; set; }
    }
}
