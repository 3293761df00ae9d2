// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using Crfs.Format.Btrfs;

namespace Crfs.Protocol.Messages;

/// <summary>
/// A forward-only writer into a span sized exactly by the message's <c>BodyLength</c>; the
/// encoder checks afterwards that every byte was written.
/// </summary>
internal ref struct WireWriter
{
    private readonly Span<byte> _span;
    private int _position;

    public WireWriter(Span<byte> destination)
    {
        _span = destination;
        _position = 0;
    }

    public readonly int Position => _position;

    public void U8(byte value) => _span[_position++] = value;

    public void U16(ushort value)
    {
        BinaryPrimitives.WriteUInt16LittleEndian(_span[_position..], value);
        _position += 2;
    }

    public void U32(uint value)
    {
        BinaryPrimitives.WriteUInt32LittleEndian(_span[_position..], value);
        _position += 4;
    }

    public void U64(ulong value)
    {
        BinaryPrimitives.WriteUInt64LittleEndian(_span[_position..], value);
        _position += 8;
    }

    public void Key(BtrfsKey key)
    {
        DiskKeyLayout.Write(_span.Slice(_position, DiskKeyLayout.Size), key);
        _position += DiskKeyLayout.Size;
    }

    public void Uuid(Guid value)
    {
        if (!value.TryWriteBytes(_span.Slice(_position, WireSizes.Uuid), bigEndian: true, out _))
        {
            throw new InvalidOperationException("a UUID did not fit its 16 bytes");
        }

        _position += WireSizes.Uuid;
    }

    public void Range(KeyRange range)
    {
        U64(range.TreeId);
        Key(range.Start);
        Key(range.End);
    }

    public void Bytes(ReadOnlySpan<byte> bytes)
    {
        bytes.CopyTo(_span[_position..]);
        _position += bytes.Length;
    }

    public void SizedBytes(ReadOnlySpan<byte> bytes)
    {
        U32((uint)bytes.Length);
        Bytes(bytes);
    }
}

/// <summary>Sizes of the building blocks of message bodies.</summary>
public static class WireSizes
{
    public const int Key = DiskKeyLayout.Size;
    public const int Uuid = 16;

    /// <summary>A <see cref="KeyRange"/>: tree id u64, start key, end key.</summary>
    public const int Range = 8 + (2 * Key);

    /// <summary>A <see cref="WireItem"/> without its value: key, value length u32.</summary>
    public const int ItemHeader = Key + 4;
}
