// SPDX-License-Identifier: MIT
using System.Buffers.Binary;

namespace Crfs.Format.Btrfs;

/// <summary>
/// <c>btrfs_root_ref</c>, followed by the name: ROOT_REF <c>(parent tree, ROOT_REF, child tree)</c>
/// and ROOT_BACKREF <c>(child tree, ROOT_BACKREF, parent tree)</c> in the root tree.
/// <code>
///   off  size  field
/// 0x000     8  dirid u64                  directory holding the subvolume
/// 0x008     8  sequence u64               its DIR_INDEX
/// 0x010     2  name_length u16
/// 0x012        (end)
/// </code>
/// </summary>
public static class RootRefLayout
{
    public const int DirId = 0;
    public const int Sequence = 8;
    public const int NameLength = 16;
    public const int Size = 18;
}

/// <summary>A read view of a ROOT_REF or ROOT_BACKREF (<see cref="RootRefLayout"/>).</summary>
public readonly ref struct RootRefView
{
    private readonly ReadOnlySpan<byte> _b;

    public RootRefView(ReadOnlySpan<byte> bytes)
    {
        LayoutGuard.RequireLength(bytes, RootRefLayout.Size, "a ROOT_REF or ROOT_BACKREF");
        _b = bytes;
    }

    public ulong DirId => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootRefLayout.DirId..]);

    public ulong Sequence => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootRefLayout.Sequence..]);

    public ushort NameLength => BinaryPrimitives.ReadUInt16LittleEndian(_b[RootRefLayout.NameLength..]);

    public ReadOnlySpan<byte> Name => _b.Slice(RootRefLayout.Size, NameLength);
}

/// <summary>A write view of a ROOT_REF or ROOT_BACKREF (<see cref="RootRefLayout"/>).</summary>
public readonly ref struct RootRefWriter
{
    private readonly Span<byte> _b;

    public RootRefWriter(Span<byte> bytes)
    {
        LayoutGuard.RequireLength(bytes, RootRefLayout.Size, "a ROOT_REF or ROOT_BACKREF");
        _b = bytes;
    }

    public ulong DirId
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootRefLayout.DirId..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[RootRefLayout.DirId..], value);
    }

    public ulong Sequence
    {
        get => BinaryPrimitives.ReadUInt64LittleEndian(_b[RootRefLayout.Sequence..]);
        set => BinaryPrimitives.WriteUInt64LittleEndian(_b[RootRefLayout.Sequence..], value);
    }

    public ushort NameLength
    {
        get => BinaryPrimitives.ReadUInt16LittleEndian(_b[RootRefLayout.NameLength..]);
        set => BinaryPrimitives.WriteUInt16LittleEndian(_b[RootRefLayout.NameLength..], value);
    }

    public Span<byte> Name => _b.Slice(RootRefLayout.Size, NameLength);
}
