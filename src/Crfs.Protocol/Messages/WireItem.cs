// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;

namespace Crfs.Protocol.Messages;

/// <summary>
/// One btrfs item as it travels: its key and its value bytes (the item body exactly as it sits in
/// a leaf). On the wire: key (17 bytes, <c>btrfs_disk_key</c> layout), value length u32, value.
/// </summary>
public readonly record struct WireItem(BtrfsKey Key, ReadOnlyMemory<byte> Value)
{
    internal int EncodedLength => WireSizes.ItemHeader + Value.Length;

    internal void Write(ref WireWriter writer)
    {
        writer.Key(Key);
        writer.SizedBytes(Value.Span);
    }

    internal static WireItem Read(ref WireReader reader, string field) => new(reader.Key(field), reader.SizedBytes(field));

    public override string ToString() => $"{Key} ({Value.Length} bytes)";
}

/// <summary>
/// The list codec shared by every message that carries items: a u32 count, then the items in
/// strictly ascending key order (no duplicates).
/// </summary>
internal static class WireItemList
{
    public static int EncodedLength(IReadOnlyList<WireItem> items)
    {
        int length = 4;
        foreach (WireItem item in items)
        {
            length += item.EncodedLength;
        }

        return length;
    }

    public static void Write(ref WireWriter writer, IReadOnlyList<WireItem> items)
    {
        writer.U32((uint)items.Count);
        foreach (WireItem item in items)
        {
            item.Write(ref writer);
        }
    }

    public static IReadOnlyList<WireItem> Read(ref WireReader reader, string field)
    {
        int count = reader.Count(field, WireSizes.ItemHeader);
        var items = new WireItem[count];
        for (int i = 0; i < count && !reader.Failed; i++)
        {
            items[i] = WireItem.Read(ref reader, field);
        }

        return items;
    }

    /// <summary>Null when the keys ascend strictly and lie in <c>[low, high]</c>, else why not.</summary>
    public static string? Validate(IReadOnlyList<WireItem> items, string field, BtrfsKey low, BtrfsKey high)
    {
        for (int i = 0; i < items.Count; i++)
        {
            BtrfsKey key = items[i].Key;
            if (i > 0 && key <= items[i - 1].Key)
            {
                return $"{field}[{i}] key {key} does not follow {items[i - 1].Key} in ascending order";
            }

            if (key < low || key > high)
            {
                return $"{field}[{i}] key {key} lies outside [{low}, {high}]";
            }
        }

        return null;
    }
}

/// <summary>
/// A run of items read from one or more leaves together with the key span <c>[Low, High]</c>
/// they describe completely: every item of the tree inside the span is in <see cref="Items"/>, so
/// the reader may cache a key missing from it as absent. On the wire: low key, high key, item list.
/// </summary>
public sealed record LeafGroup(BtrfsKey Low, BtrfsKey High, IReadOnlyList<WireItem> Items)
{
    internal int EncodedLength => (2 * WireSizes.Key) + WireItemList.EncodedLength(Items);

    internal void Write(ref WireWriter writer)
    {
        writer.Key(Low);
        writer.Key(High);
        WireItemList.Write(ref writer, Items);
    }

    internal static LeafGroup Read(ref WireReader reader)
    {
        BtrfsKey low = reader.Key("low");
        BtrfsKey high = reader.Key("high");
        return new LeafGroup(low, high, WireItemList.Read(ref reader, "items"));
    }

    internal string? Validate() =>
        Low > High ? $"leaf group [{Low}, {High}] starts after it ends" : WireItemList.Validate(Items, "items", Low, High);

    public override string ToString() => $"[{Low}, {High}] {Items.Count} items";
}
