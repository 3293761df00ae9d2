// SPDX-License-Identifier: MIT
using Crfs.Protocol.Framing;

namespace Crfs.Protocol.Messages;

/// <summary>
/// Client to server: which inodes of group <see cref="Group"/> in tree <see cref="TreeId"/> are in
/// use on any <i>other</i> live session. A client asks before it deletes an inode whose last name
/// is gone (the last unlink, or the last local close of an orphan); the server asks every other
/// session with INUSE_QUERY and answers the union. A session the server cannot ask (detached, or
/// silent past the server's query timeout) counts as using every inode of the group, so the answer
/// errs towards keeping the orphan, never towards deleting a file someone has open.
/// <code>tree id u64 | group u64   (16 bytes)</code>
/// </summary>
public sealed record InUseCheckRequest(ulong TreeId, ulong Group) : RequestMessage<InUseCheckReply>
{
    public const int Size = 16;

    public override Command Command => Command.InUseCheck;

    internal override int BodyLength => Size;

    internal override void Write(ref WireWriter writer)
    {
        writer.U64(TreeId);
        writer.U64(Group);
    }

    internal static InUseCheckRequest Read(ref WireReader reader) => new(reader.U64("tree id"), reader.U64("group"));
}

/// <summary>
/// The union of the other sessions' INUSE_QUERY bitmaps: one bit per inode of the group, least
/// significant bit of byte 0 first; set means some other session uses it (or could not be asked).
/// <code>length u32 | bitmap bytes</code>
/// </summary>
public sealed record InUseCheckReply(ReadOnlyMemory<byte> Bitmap) : ResponseMessage
{
    public override Command Command => Command.InUseCheck;

    internal override int BodyLength => 4 + Bitmap.Length;

    internal override void Write(ref WireWriter writer) => writer.SizedBytes(Bitmap.Span);

    internal static InUseCheckReply Read(ref WireReader reader) => new(reader.SizedBytes("bitmap"));

    /// <summary>Whether the bit of objectid <paramref name="ino"/> is set; an inode outside the bitmap counts as in use.</summary>
    public bool IsInUse(ulong ino)
    {
        ulong bit = ino % KeyRange.InodeGroupSize;
        return bit / 8 >= (ulong)Bitmap.Length || (Bitmap.Span[(int)(bit / 8)] & (1 << (int)(bit % 8))) != 0;
    }
}
