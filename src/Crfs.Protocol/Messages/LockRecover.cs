// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Protocol.Framing;

namespace Crfs.Protocol.Messages;

/// <summary>
/// Server to client, after a server restart: list the locks you hold, starting at
/// (<see cref="TreeId"/>, <see cref="FromKey"/>) in (tree, start key) order. The client answers in
/// pages; an empty page ends its part of recovery.
/// <code>tree id u64 | from key [17]   (25 bytes)</code>
/// </summary>
public sealed record LockRecoverRequest(ulong TreeId, BtrfsKey FromKey) : RequestMessage<LockRecoverReply>
{
    public const int Size = 8 + WireSizes.Key;

    public override Command Command => Command.LockRecover;

    internal override int BodyLength => Size;

    internal override void Write(ref WireWriter writer)
    {
        writer.U64(TreeId);
        writer.Key(FromKey);
    }

    internal static LockRecoverRequest Read(ref WireReader reader) => new(reader.U64("tree id"), reader.Key("from key"));
}

/// <summary>
/// One lock a client reports in recovery. A client in the middle of a revoke reports the mode it
/// is giving up, not the one it is going to.
/// </summary>
public readonly record struct RecoveredLock(KeyRange Range, LockMode Mode)
{
    internal const int Size = WireSizes.Range + 1;
}

/// <summary>
/// One page of recovered locks, strictly ascending by (tree, start key).
/// <code>count u32 | { range [42] | mode u8 } * count</code>
/// </summary>
public sealed record LockRecoverReply(IReadOnlyList<RecoveredLock> Locks) : ResponseMessage
{
    public override Command Command => Command.LockRecover;

    internal override int BodyLength => 4 + (Locks.Count * RecoveredLock.Size);

    internal override void Write(ref WireWriter writer)
    {
        writer.U32((uint)Locks.Count);
        foreach (RecoveredLock l in Locks)
        {
            writer.Range(l.Range);
            writer.U8((byte)l.Mode);
        }
    }

    internal static LockRecoverReply Read(ref WireReader reader)
    {
        int count = reader.Count("locks", RecoveredLock.Size);
        var locks = new RecoveredLock[count];
        for (int i = 0; i < count && !reader.Failed; i++)
        {
            locks[i] = new RecoveredLock(reader.Range("lock range"), reader.Mode("lock mode"));
        }

        return new LockRecoverReply(locks);
    }

    internal override string? Validate()
    {
        for (int i = 0; i < Locks.Count; i++)
        {
            RecoveredLock l = Locks[i];
            if (LockBodies.Validate(l.Range, l.Mode, l.Mode) is string error)
            {
                return $"lock {i}: {error}";
            }

            if (i > 0)
            {
                KeyRange previous = Locks[i - 1].Range;
                if (l.Range.TreeId < previous.TreeId || (l.Range.TreeId == previous.TreeId && l.Range.Start <= previous.Start))
                {
                    return $"lock {i} {l.Range} does not follow {previous} in (tree, start key) order";
                }
            }
        }

        return null;
    }
}
