// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Protocol.Framing;

namespace Crfs.Protocol.Messages;

/// <summary>What an <see cref="ItemOperation"/> does. Wire values: frozen.</summary>
public enum ItemOperationKind : byte
{
    /// <summary>Insert the item, or replace the value of an existing one.</summary>
    Put = 1,

    /// <summary>Delete the item with exactly this key, if present.</summary>
    Delete = 2,

    /// <summary>Delete every item in <c>[Key, EndKey]</c>.</summary>
    DeleteRange = 3,
}

/// <summary>
/// One item change of a COMMIT. <see cref="EndKey"/> equals <see cref="Key"/> except for a
/// <see cref="ItemOperationKind.DeleteRange"/>; <see cref="Value"/> is empty except for a
/// <see cref="ItemOperationKind.Put"/>.
/// <code>
/// kind u8 | key [17] | Put: value length u32, value | DeleteRange: end key [17]
/// </code>
/// </summary>
public readonly record struct ItemOperation(ItemOperationKind Kind, BtrfsKey Key, BtrfsKey EndKey, ReadOnlyMemory<byte> Value)
{
    internal const int MinSize = 1 + WireSizes.Key;

    public static ItemOperation Put(BtrfsKey key, ReadOnlyMemory<byte> value) => new(ItemOperationKind.Put, key, key, value);

    public static ItemOperation Delete(BtrfsKey key) => new(ItemOperationKind.Delete, key, key, ReadOnlyMemory<byte>.Empty);

    public static ItemOperation DeleteRange(BtrfsKey first, BtrfsKey last) =>
        new(ItemOperationKind.DeleteRange, first, last, ReadOnlyMemory<byte>.Empty);

    internal int EncodedLength => Kind switch
    {
        ItemOperationKind.Put => MinSize + 4 + Value.Length,
        ItemOperationKind.DeleteRange => MinSize + WireSizes.Key,
        _ => MinSize,
    };

    internal void Write(ref WireWriter writer)
    {
        writer.U8((byte)Kind);
        writer.Key(Key);
        if (Kind == ItemOperationKind.Put)
        {
            writer.SizedBytes(Value.Span);
        }
        else if (Kind == ItemOperationKind.DeleteRange)
        {
            writer.Key(EndKey);
        }
    }

    internal static ItemOperation Read(ref WireReader reader)
    {
        var kind = (ItemOperationKind)reader.U8("item op kind");
        BtrfsKey key = reader.Key("item op key");
        switch (kind)
        {
            case ItemOperationKind.Put:
                return Put(key, reader.SizedBytes("item op value"));
            case ItemOperationKind.Delete:
                return Delete(key);
            case ItemOperationKind.DeleteRange:
                return DeleteRange(key, reader.Key("item op end key"));
            default:
                reader.Invalid($"item operation kind {(byte)kind} is not Put, Delete or DeleteRange");
                return default;
        }
    }

    internal string? Validate() => Kind switch
    {
        ItemOperationKind.Put or ItemOperationKind.Delete when EndKey != Key => $"{Kind} of {Key} has end key {EndKey}",
        ItemOperationKind.Delete or ItemOperationKind.DeleteRange when !Value.IsEmpty => $"{Kind} of {Key} carries a {Value.Length}-byte value",
        ItemOperationKind.DeleteRange when Key > EndKey => $"delete range [{Key}, {EndKey}] starts after it ends",
        ItemOperationKind.Put or ItemOperationKind.Delete or ItemOperationKind.DeleteRange => null,
        _ => $"item operation kind {(byte)Kind} is not Put, Delete or DeleteRange",
    };

    public override string ToString() => Kind switch
    {
        ItemOperationKind.Put => $"put {Key} ({Value.Length} bytes)",
        ItemOperationKind.Delete => $"delete {Key}",
        _ => $"delete [{Key}, {EndKey}]",
    };
}

/// <summary>What a <see cref="DataOperation"/> does to a file's bytes. Wire values: frozen.</summary>
public enum DataOperationKind : byte
{
    /// <summary>Write <see cref="DataOperation.Data"/> at <see cref="DataOperation.Offset"/>.</summary>
    Write = 1,

    /// <summary>Drop the file's data from <see cref="DataOperation.Offset"/> (the new size) on.</summary>
    Truncate = 2,

    /// <summary>Make <c>[Offset, Offset + Length)</c> a hole.</summary>
    Punch = 3,
}

/// <summary>
/// One change to file data in a COMMIT. The client ships bytes; the server allocates extents,
/// writes them and their checksums, and returns the EXTENT_DATA items it produced. Applied in the
/// order listed (a write then a truncate differs from the reverse).
/// <code>
/// kind u8 | ino u64 | offset u64 | Write: length u32, bytes | Punch: length u64
/// </code>
/// </summary>
public readonly record struct DataOperation(DataOperationKind Kind, ulong Ino, ulong Offset, ulong Length, ReadOnlyMemory<byte> Data)
{
    internal const int MinSize = 1 + 8 + 8;

    public static DataOperation Write(ulong ino, ulong offset, ReadOnlyMemory<byte> data) =>
        new(DataOperationKind.Write, ino, offset, (ulong)data.Length, data);

    public static DataOperation Truncate(ulong ino, ulong size) =>
        new(DataOperationKind.Truncate, ino, size, 0, ReadOnlyMemory<byte>.Empty);

    public static DataOperation Punch(ulong ino, ulong offset, ulong length) =>
        new(DataOperationKind.Punch, ino, offset, length, ReadOnlyMemory<byte>.Empty);

    internal int EncodedLength => Kind switch
    {
        DataOperationKind.Write => MinSize + 4 + Data.Length,
        DataOperationKind.Punch => MinSize + 8,
        _ => MinSize,
    };

    internal void Write(ref WireWriter writer)
    {
        writer.U8((byte)Kind);
        writer.U64(Ino);
        writer.U64(Offset);
        if (Kind == DataOperationKind.Write)
        {
            writer.SizedBytes(Data.Span);
        }
        else if (Kind == DataOperationKind.Punch)
        {
            writer.U64(Length);
        }
    }

    internal static DataOperation Read(ref WireReader reader)
    {
        var kind = (DataOperationKind)reader.U8("data op kind");
        ulong ino = reader.U64("data op ino");
        ulong offset = reader.U64("data op offset");
        switch (kind)
        {
            case DataOperationKind.Write:
                return Write(ino, offset, reader.SizedBytes("data op bytes"));
            case DataOperationKind.Truncate:
                return Truncate(ino, offset);
            case DataOperationKind.Punch:
                return Punch(ino, offset, reader.U64("data op length"));
            default:
                reader.Invalid($"data operation kind {(byte)kind} is not Write, Truncate or Punch");
                return default;
        }
    }

    internal string? Validate() => Kind switch
    {
        DataOperationKind.Write when Length != (ulong)Data.Length => $"write to inode {Ino} declares {Length} bytes but carries {Data.Length}",
        DataOperationKind.Truncate or DataOperationKind.Punch when !Data.IsEmpty => $"{Kind} of inode {Ino} carries {Data.Length} data bytes",
        DataOperationKind.Truncate when Length != 0 => $"truncate of inode {Ino} has length {Length}",
        DataOperationKind.Write or DataOperationKind.Punch when Offset > ulong.MaxValue - Length => $"{Kind} of inode {Ino} at [{Offset}, {Offset} + {Length}) overflows",
        DataOperationKind.Write or DataOperationKind.Truncate or DataOperationKind.Punch => null,
        _ => $"data operation kind {(byte)Kind} is not Write, Truncate or Punch",
    };

    public override string ToString() => Kind switch
    {
        DataOperationKind.Write => $"write inode {Ino} [{Offset}, {Offset + Length})",
        DataOperationKind.Truncate => $"truncate inode {Ino} to {Offset}",
        _ => $"punch inode {Ino} [{Offset}, {Offset + Length})",
    };
}

/// <summary>
/// Client to server: apply one transaction of the client atomically and durably. Mutating: it
/// carries the client's <see cref="OpSeq"/> on the COMMIT stream, and a repeated op_seq is
/// answered with the recorded result instead of being applied twice.
/// <code>
/// op seq u64 | tree id u64 | item op count u32 | item ops | data op count u32 | data ops
/// </code>
/// Item operations are in strictly ascending key order and do not overlap (each starts after the
/// previous one's end key). The reply is sent only once the batch is on disk.
/// </summary>
public sealed record CommitRequest(
    ulong OpSeq,
    ulong TreeId,
    IReadOnlyList<ItemOperation> Items,
    IReadOnlyList<DataOperation> Data) : RequestMessage<CommitReply>
{
    public override Command Command => Command.Commit;

    internal override int BodyLength
    {
        get
        {
            int length = 8 + 8 + 4 + 4;
            foreach (ItemOperation op in Items)
            {
                length += op.EncodedLength;
            }

            foreach (DataOperation op in Data)
            {
                length += op.EncodedLength;
            }

            return length;
        }
    }

    internal override void Write(ref WireWriter writer)
    {
        writer.U64(OpSeq);
        writer.U64(TreeId);
        writer.U32((uint)Items.Count);
        foreach (ItemOperation op in Items)
        {
            op.Write(ref writer);
        }

        writer.U32((uint)Data.Count);
        foreach (DataOperation op in Data)
        {
            op.Write(ref writer);
        }
    }

    internal static CommitRequest Read(ref WireReader reader)
    {
        ulong opSeq = reader.U64("op seq");
        ulong treeId = reader.U64("tree id");
        int itemCount = reader.Count("item op", ItemOperation.MinSize);
        var items = new ItemOperation[itemCount];
        for (int i = 0; i < itemCount && !reader.Failed; i++)
        {
            items[i] = ItemOperation.Read(ref reader);
        }

        int dataCount = reader.Count("data op", DataOperation.MinSize);
        var data = new DataOperation[dataCount];
        for (int i = 0; i < dataCount && !reader.Failed; i++)
        {
            data[i] = DataOperation.Read(ref reader);
        }

        return new CommitRequest(opSeq, treeId, items, data);
    }

    internal override string? Validate()
    {
        for (int i = 0; i < Items.Count; i++)
        {
            if (Items[i].Validate() is string error)
            {
                return $"item op {i}: {error}";
            }

            if (i > 0 && Items[i].Key <= Items[i - 1].EndKey)
            {
                return $"item op {i} ({Items[i]}) does not start after item op {i - 1} ({Items[i - 1]})";
            }
        }

        for (int i = 0; i < Data.Count; i++)
        {
            if (Data[i].Validate() is string error)
            {
                return $"data op {i}: {error}";
            }
        }

        return null;
    }
}

/// <summary>
/// The durable acknowledgement of a COMMIT, with the FS-tree items only the server could write
/// (EXTENT_DATA items for the data it placed), which the client must cache to stay exact.
/// <code>count u32 | items (ascending keys)</code>
/// </summary>
public sealed record CommitReply(IReadOnlyList<WireItem> ServerItems) : ResponseMessage
{
    public override Command Command => Command.Commit;

    internal override int BodyLength => WireItemList.EncodedLength(ServerItems);

    internal override void Write(ref WireWriter writer) => WireItemList.Write(ref writer, ServerItems);

    internal static CommitReply Read(ref WireReader reader) => new(WireItemList.Read(ref reader, "server items"));

    internal override string? Validate() => WireItemList.Validate(ServerItems, "server items", BtrfsKey.Min, BtrfsKey.Max);
}
