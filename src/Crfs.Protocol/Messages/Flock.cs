// SPDX-License-Identifier: MIT
using Crfs.Protocol.Framing;

namespace Crfs.Protocol.Messages;

/// <summary>The kind of a FLOCK request. Wire values: frozen.</summary>
public enum FlockType : byte
{
    Read = 1,
    Write = 2,
    Unlock = 3,
}

/// <summary>FLOCK request flags. Wire values: frozen.</summary>
[Flags]
public enum FlockFlags : byte
{
    None = 0,

    /// <summary>Wait for a conflicting lock to go away (F_SETLKW); the reply comes once granted.</summary>
    Wait = 1,

    /// <summary>A whole-file <c>flock(2)</c> lock rather than a POSIX record lock.</summary>
    WholeFile = 2,
}

/// <summary>
/// Client to server: take or release a file lock on <c>[Start, End]</c> (inclusive, as FUSE
/// sends it; <c>End = ulong.MaxValue</c> reaches end of file) of inode <see cref="Ino"/> for lock
/// owner <see cref="Owner"/>. Mutating, on the FLOCK op_seq stream. A refusal is a status
/// (<see cref="WireError.Again"/>, <see cref="WireError.Deadlock"/>).
/// <code>op seq u64 | tree id u64 | ino u64 | owner u64 | start u64 | end u64 | type u8 | flags u8   (50 bytes)</code>
/// </summary>
public sealed record FlockRequest(
    ulong OpSeq,
    ulong TreeId,
    ulong Ino,
    ulong Owner,
    ulong Start,
    ulong End,
    FlockType Type,
    FlockFlags Flags) : RequestMessage<FlockReply>
{
    public const int Size = (6 * 8) + 1 + 1;

    public override Command Command => Command.Flock;

    internal override int BodyLength => Size;

    internal override void Write(ref WireWriter writer)
    {
        writer.U64(OpSeq);
        writer.U64(TreeId);
        writer.U64(Ino);
        writer.U64(Owner);
        writer.U64(Start);
        writer.U64(End);
        writer.U8((byte)Type);
        writer.U8((byte)Flags);
    }

    internal static FlockRequest Read(ref WireReader reader) => new(
        reader.U64("op seq"),
        reader.U64("tree id"),
        reader.U64("ino"),
        reader.U64("owner"),
        reader.U64("start"),
        reader.U64("end"),
        (FlockType)reader.U8("type"),
        (FlockFlags)reader.U8("flags"));

    internal override string? Validate() =>
        Type is < FlockType.Read or > FlockType.Unlock ? $"flock type {(byte)Type} is not Read, Write or Unlock"
        : (Flags & ~(FlockFlags.Wait | FlockFlags.WholeFile)) != 0 ? $"unknown flock flag bits 0x{(byte)Flags:x2}"
        : Start > End ? $"flock range [{Start}, {End}] of inode {Ino} starts after it ends"
        : null;
}
