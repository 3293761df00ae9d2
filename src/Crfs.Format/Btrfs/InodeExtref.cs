// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace Crfs.Format.Btrfs;

/// <summary>
/// One entry of <c>btrfs_inode_extref</c>, followed by <c>name_len</c> name bytes. Key
/// <c>(ino, INODE_EXTREF, extref hash of (parent, name))</c>; used once an INODE_REF item would
/// overflow (EXTENDED_IREF). Entries whose hashes collide share an item.
/// <code>
///   off  size  field
/// 0x000     8  parent_objectid u64        parent directory inode
/// 0x008     8  index u64
/// 0x010     2  name_length u16
/// 0x012        (end)
/// </code>
/// </summary>
public static class InodeExtrefLayout
{
    public const int ParentObjectId = 0;
    public const int Index = 8;
    public const int NameLength = 16;
    public const int Size = 18;

    public static int EntrySize(int nameLength) => Size + nameLength;
}

/// <summary>A read view of an INODE_EXTREF entry (<see cref="InodeExtrefLayout"/>).</summary>
public readonly ref struct InodeExtrefView
{
    private readonly ReadOnlySpan<byte> _b;

    public InodeExtrefView(ReadOnlySpan<byte> bytes)
    {
        LayoutGuard.RequireLength(bytes, InodeExtrefLayout.Size, "an INODE_EXTREF entry");
        _b = bytes;
    }

    public ulong ParentObjectId => BinaryPrimitives.ReadUInt64LittleEndian(_b[InodeExtrefLayout.ParentObjectId..]);

    public ulong Index => BinaryPrimitives.ReadUInt64LittleEndian(_b[InodeExtrefLayout.Index..]);

    public ushort NameLength => BinaryPrimitives.ReadUInt16LittleEndian(_b[InodeExtrefLayout.NameLength..]);

    public ReadOnlySpan<byte> Name => _b.Slice(InodeExtrefLayout.Size, NameLength);

    public int EntrySize => InodeExtrefLayout.Size + NameLength;
}

/// <summary>A write view of an INODE_EXTREF entry (<see cref="InodeExtrefLayout"/>).</summary>
public readonly ref struct InodeExtrefWriter
{
    private readonly Span<byte> _b;

    public InodeExtrefWriter(Span<byte> bytes)
    {
        LayoutGuard.RequireLength(bytes, InodeExtrefLayout.Size, "an INODE_EXTREF entry");
        _b = bytes;
    }

    public ulong ParentObjectId
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[InodeExtrefLayout.ParentObjectId..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[InodeExtrefLayout.ParentObjectId..], value);
    }

    public ulong Index
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[InodeExtrefLayout.Index..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[InodeExtrefLayout.Index..], value);
    }

    public ushort NameLength
    {
        get => BinaryPrimitives.ReadUInt16LittleEndian(_b[InodeExtrefLayout.NameLength..]);
        set => BinaryPrimitives.WriteUInt16LittleEndian(_b[InodeExtrefLayout.NameLength..], value);
    }

    public Span<byte> Name => _b.Slice(InodeExtrefLayout.Size, NameLength);
}

/// <summary>
/// Iterates the entries packed in one INODE_EXTREF item. The item must have passed
/// <see cref="TreeBlockChecker"/>, which proved that every entry lies inside it.
/// </summary>
public ref struct InodeExtrefEnumerator
{
    private ReadOnlySpan<byte> _rest;

    public InodeExtrefEnumerator(ReadOnlySpan<byte> item)
    {
        _rest = item;
        Current = default;
    }

    public InodeExtrefView Current { get; private set; }

    public readonly InodeExtrefEnumerator GetEnumerator() => this;

    public bool MoveNext()
    {
        if (_rest.IsEmpty)
        {
            return false;
        }

        int size = new InodeExtrefView(_rest).EntrySize;
        Current = new InodeExtrefView(_rest[..size]);
        _rest = _rest[size..];
        return true;
    }
}
