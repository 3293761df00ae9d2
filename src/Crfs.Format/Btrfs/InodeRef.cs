// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace Crfs.Format.Btrfs;

/// <summary>
/// One entry of <c>btrfs_inode_ref</c>, followed by <c>name_len</c> name bytes. Key
/// <c>(ino, INODE_REF, parent dir ino)</c>; all names of the inode in that directory share the item.
/// <code>
///   off  size  field
/// 0x000     8  index u64                  the DIR_INDEX offset of this name
/// 0x008     2  name_length u16
/// 0x00A        (end)
/// </code>
/// </summary>
public static class InodeRefLayout
{
    public const int Index = 0;
    public const int NameLength = 8;
    public const int Size = 10;

    public static int EntrySize(int nameLength) => Size + nameLength;
}

/// <summary>A read view of an INODE_REF entry (<see cref="InodeRefLayout"/>).</summary>
public readonly ref struct InodeRefView
{
    private readonly ReadOnlySpan<byte> _b;

    public InodeRefView(ReadOnlySpan<byte> bytes)
    {
        LayoutGuard.RequireLength(bytes, InodeRefLayout.Size, "an INODE_REF entry");
        _b = bytes;
    }

    public ulong Index => BinaryPrimitives.ReadUInt64LittleEndian(_b[InodeRefLayout.Index..]);

    public ushort NameLength => BinaryPrimitives.ReadUInt16LittleEndian(_b[InodeRefLayout.NameLength..]);

    public ReadOnlySpan<byte> Name => _b.Slice(InodeRefLayout.Size, NameLength);

    public int EntrySize => InodeRefLayout.Size + NameLength;
}

/// <summary>A write view of an INODE_REF entry (<see cref="InodeRefLayout"/>).</summary>
public readonly ref struct InodeRefWriter
{
    private readonly Span<byte> _b;

    public InodeRefWriter(Span<byte> bytes)
    {
        LayoutGuard.RequireLength(bytes, InodeRefLayout.Size, "an INODE_REF entry");
        _b = bytes;
    }

    public ulong Index
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[InodeRefLayout.Index..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[InodeRefLayout.Index..], value);
    }

    public ushort NameLength
    {
        get => BinaryPrimitives.ReadUInt16LittleEndian(_b[InodeRefLayout.NameLength..]);
        set => BinaryPrimitives.WriteUInt16LittleEndian(_b[InodeRefLayout.NameLength..], value);
    }

    public Span<byte> Name => _b.Slice(InodeRefLayout.Size, NameLength);
}

/// <summary>
/// Iterates the entries packed in one INODE_REF item. The item must have passed
/// <see cref="TreeBlockChecker"/>, which proved that every entry lies inside it.
/// </summary>
public ref struct InodeRefEnumerator
{
    private ReadOnlySpan<byte> _rest;

    public InodeRefEnumerator(ReadOnlySpan<byte> item)
    {
        _rest = item;
        Current = default;
    }

    public InodeRefView Current { get; private set; }

    public readonly InodeRefEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_rest.IsEmpty)
        {
            return false;
        }

        int size = new InodeRefView(_rest).EntrySize;
        Current = new InodeRefView(_rest[..size]);
        _rest = _rest[size..];
        return true;
    }
}
