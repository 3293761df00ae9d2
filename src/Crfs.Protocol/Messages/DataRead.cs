// SPDX-License-Identifier: MIT
using Crfs.Protocol.Framing;

namespace Crfs.Protocol.Messages;

/// <summary>
/// Client to server: bytes <c>[Offset, Offset + Length)</c> of inode <see cref="Ino"/> in tree
/// <see cref="TreeId"/>. The client must hold a lock covering the inode.
/// <code>tree id u64 | ino u64 | offset u64 | length u32   (28 bytes)</code>
/// </summary>
public sealed record DataReadRequest(ulong TreeId, ulong Ino, ulong Offset, uint Length) : RequestMessage<DataReadReply>
{
    public const int Size = 8 + 8 + 8 + 4;

    public override Command Command => Command.DataRead;

    internal override int BodyLength => Size;

    internal override void Write(ref WireWriter writer)
    {
        writer.U64(TreeId);
        writer.U64(Ino);
        writer.U64(Offset);
        writer.U32(Length);
    }

    internal static DataReadRequest Read(ref WireReader reader) =>
        new(reader.U64("tree id"), reader.U64("ino"), reader.U64("offset"), reader.U32("length"));

    internal override string? Validate() =>
        Offset > ulong.MaxValue - Length ? $"read of inode {Ino} at [{Offset}, {Offset} + {Length}) overflows" : null;
}

/// <summary>
/// The bytes read: shorter than asked at end of file, holes as zeros.
/// <code>length u32 | bytes</code>
/// </summary>
public sealed record DataReadReply(ReadOnlyMemory<byte> Data) : ResponseMessage
{
    public override Command Command => Command.DataRead;

    internal override int BodyLength => 4 + Data.Length;

    internal override void Write(ref WireWriter writer) => writer.SizedBytes(Data.Span);

    internal static DataReadReply Read(ref WireReader reader) => new(reader.SizedBytes("data"));
}

/// <summary>
/// The figures <c>statfs(2)</c> reports, in <see cref="BlockSize"/> units.
/// <code>blocks u64 | free u64 | avail u64 | files u64 | ffree u64 | bsize u32 | namemax u32   (48 bytes)</code>
/// </summary>
public sealed record StatfsReply(
    ulong Blocks,
    ulong FreeBlocks,
    ulong AvailableBlocks,
    ulong Files,
    ulong FreeFiles,
    uint BlockSize,
    uint NameMax) : ResponseMessage
{
    public const int Size = (5 * 8) + 4 + 4;

    public override Command Command => Command.Statfs;

    internal override int BodyLength => Size;

    internal override void Write(ref WireWriter writer)
    {
        writer.U64(Blocks);
        writer.U64(FreeBlocks);
        writer.U64(AvailableBlocks);
        writer.U64(Files);
        writer.U64(FreeFiles);
        writer.U32(BlockSize);
        writer.U32(NameMax);
    }

    internal static StatfsReply Read(ref WireReader reader) => new(
        reader.U64("blocks"),
        reader.U64("free"),
        reader.U64("avail"),
        reader.U64("files"),
        reader.U64("ffree"),
        reader.U32("bsize"),
        reader.U32("namemax"));
}

/// <summary>
/// Server to client: which inodes of group <see cref="Group"/> (objectids
/// <c>[Group * 1024, Group * 1024 + 1023]</c>) in tree <see cref="TreeId"/> are in use on this
/// client (looked up by the kernel or open). Asked before an orphan is deleted.
/// <code>tree id u64 | group u64   (16 bytes)</code>
/// </summary>
public sealed record InUseQueryRequest(ulong TreeId, ulong Group) : RequestMessage<InUseQueryReply>
{
    public const int Size = 16;

    public override Command Command => Command.InUseQuery;

    internal override int BodyLength => Size;

    internal override void Write(ref WireWriter writer)
    {
        writer.U64(TreeId);
        writer.U64(Group);
    }

    internal static InUseQueryRequest Read(ref WireReader reader) => new(reader.U64("tree id"), reader.U64("group"));
}

/// <summary>
/// One bit per inode of the group, least significant bit of byte 0 first; set means in use.
/// <code>length u32 | bitmap bytes</code>
/// </summary>
public sealed record InUseQueryReply(ReadOnlyMemory<byte> Bitmap) : ResponseMessage
{
    public override Command Command => Command.InUseQuery;

    internal override int BodyLength => 4 + Bitmap.Length;

    internal override void Write(ref WireWriter writer) => writer.SizedBytes(Bitmap.Span);

    internal static InUseQueryReply Read(ref WireReader reader) => new(reader.SizedBytes("bitmap"));
}
