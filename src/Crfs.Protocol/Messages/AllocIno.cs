// SPDX-License-Identifier: MIT
using Crfs.Protocol.Framing;

namespace Crfs.Protocol.Messages;

/// <summary>Which pool of inode numbers an ALLOC_INO draws from. Wire values: frozen.</summary>
public enum InodeKind : byte
{
    Directory = 1,
    File = 2,
}

/// <summary>
/// Client to server: lease me <see cref="Count"/> fresh inode numbers of <see cref="Kind"/> in
/// tree <see cref="TreeId"/>. Mutating, so it carries the client's <see cref="OpSeq"/> on the INO
/// stream: the server answers a repeated op_seq with the range it recorded the first time.
/// <code>op seq u64 | tree id u64 | kind u8 | count u32   (21 bytes)</code>
/// </summary>
public sealed record AllocInoRequest(ulong OpSeq, ulong TreeId, InodeKind Kind, uint Count) : RequestMessage<AllocInoReply>
{
    public const int Size = 8 + 8 + 1 + 4;

    public override Command Command => Command.AllocIno;

    internal override int BodyLength => Size;

    internal override void Write(ref WireWriter writer)
    {
        writer.U64(OpSeq);
        writer.U64(TreeId);
        writer.U8((byte)Kind);
        writer.U32(Count);
    }

    internal static AllocInoRequest Read(ref WireReader reader) =>
        new(reader.U64("op seq"), reader.U64("tree id"), (InodeKind)reader.U8("kind"), reader.U32("count"));

    internal override string? Validate() =>
        Kind is not (InodeKind.Directory or InodeKind.File) ? $"inode kind {(byte)Kind} is not Directory or File"
        : Count == 0 ? "count is 0"
        : null;
}

/// <summary>
/// The leased numbers: <c>[Start, Start + Count)</c>, possibly fewer than asked.
/// <code>start u64 | count u32   (12 bytes)</code>
/// </summary>
public sealed record AllocInoReply(ulong Start, uint Count) : ResponseMessage
{
    public const int Size = 8 + 4;

    public override Command Command => Command.AllocIno;

    internal override int BodyLength => Size;

    internal override void Write(ref WireWriter writer)
    {
        writer.U64(Start);
        writer.U32(Count);
    }

    internal static AllocInoReply Read(ref WireReader reader) => new(reader.U64("start"), reader.U32("count"));

    internal override string? Validate() =>
        Start > ulong.MaxValue - Count ? $"range [{Start}, {Start} + {Count}) overflows" : null;
}
