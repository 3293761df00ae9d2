// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Protocol.Framing;

namespace Crfs.Protocol.Messages;

/// <summary>
/// Client to server: the items around <see cref="Key"/> in the tree of <see cref="LockRange"/>.
/// The server answers with the whole leaf span holding the key, clipped to the lock range, and
/// reads on into following leaves while the reply stays under <see cref="MaxBytes"/>.
/// <code>lock range [42] | key [17] | max bytes u32   (63 bytes)</code>
/// </summary>
public sealed record ItemReadRequest(KeyRange LockRange, BtrfsKey Key, uint MaxBytes) : RequestMessage<ItemReadReply>
{
    public const int Size = WireSizes.Range + WireSizes.Key + 4;

    public override Command Command => Command.ItemRead;

    public ulong TreeId => LockRange.TreeId;

    internal override int BodyLength => Size;

    internal override void Write(ref WireWriter writer)
    {
        writer.Range(LockRange);
        writer.Key(Key);
        writer.U32(MaxBytes);
    }

    internal static ItemReadRequest Read(ref WireReader reader) =>
        new(reader.Range("lock range"), reader.Key("key"), reader.U32("max bytes"));

    internal override string? Validate() =>
        LockRange.Start > LockRange.End ? $"lock range {LockRange} starts after it ends"
        : !LockRange.Contains(LockRange.TreeId, Key) ? $"key {Key} lies outside the lock range {LockRange}"
        : null;
}

/// <summary>
/// The items of <c>[Low, High]</c>, complete: a key in the span that is not listed does not exist.
/// <code>leaf group: low key [17] | high key [17] | count u32 | items</code>
/// </summary>
public sealed record ItemReadReply(LeafGroup Group) : ResponseMessage
{
    public override Command Command => Command.ItemRead;

    internal override int BodyLength => Group.EncodedLength;

    internal override void Write(ref WireWriter writer) => Group.Write(ref writer);

    internal static ItemReadReply Read(ref WireReader reader) => new(LeafGroup.Read(ref reader));

    internal override string? Validate() => Group.Validate();
}
