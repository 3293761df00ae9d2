// SPDX-License-Identifier: MIT
using Crfs.Protocol.Framing;

namespace Crfs.Protocol.Messages;

/// <summary>
/// Client to server: change my mode on <see cref="Range"/> from <see cref="OldMode"/> to
/// <see cref="NewMode"/>. At most one LOCK is in flight per range (client policy).
/// <code>range [42] | old mode u8 | new mode u8   (44 bytes)</code>
/// </summary>
public sealed record LockRequest(KeyRange Range, LockMode OldMode, LockMode NewMode) : RequestMessage<LockReply>
{
    public const int Size = WireSizes.Range + 2;

    public override Command Command => Command.Lock;

    internal override int BodyLength => Size;

    internal override void Write(ref WireWriter writer)
    {
        writer.Range(Range);
        writer.U8((byte)OldMode);
        writer.U8((byte)NewMode);
    }

    internal static LockRequest Read(ref WireReader reader) =>
        new(reader.Range("range"), reader.Mode("old mode"), reader.Mode("new mode"));

    internal override string? Validate() => LockBodies.Validate(Range, OldMode, NewMode);
}

/// <summary>
/// The grant. <see cref="GrantGeneration"/> increases with every grant of the range, so a client
/// can tell whether the range changed hands since it last cached it. <see cref="Items"/>, when
/// present, primes the cache with the range's items (like Lustre's lock value block).
/// <code>old mode u8 | new mode u8 | grant gen u64 | has items u8 | [leaf group]</code>
/// </summary>
public sealed record LockReply(LockMode OldMode, LockMode NewMode, ulong GrantGeneration, LeafGroup? Items) : ResponseMessage
{
    public override Command Command => Command.Lock;

    internal override int BodyLength => 1 + 1 + 8 + 1 + (Items?.EncodedLength ?? 0);

    internal override void Write(ref WireWriter writer)
    {
        writer.U8((byte)OldMode);
        writer.U8((byte)NewMode);
        writer.U64(GrantGeneration);
        writer.U8(Items is null ? (byte)0 : (byte)1);
        Items?.Write(ref writer);
    }

    internal static LockReply Read(ref WireReader reader)
    {
        LockMode oldMode = reader.Mode("old mode");
        LockMode newMode = reader.Mode("new mode");
        ulong generation = reader.U64("grant gen");
        LeafGroup? items = reader.Bool("has items") ? LeafGroup.Read(ref reader) : null;
        return new LockReply(oldMode, newMode, generation, items);
    }

    internal override string? Validate() => LockBodies.ValidateModes(OldMode, NewMode) ?? Items?.Validate();
}

/// <summary>
/// Server to client: give up <see cref="Range"/> down to <see cref="NewMode"/>. The client
/// writes back and invalidates as needed, then echoes the request. Resent until answered.
/// <see cref="GrantGen"/> names the grant being revoked (the <see cref="LockReply.GrantGeneration"/>
/// the client got): a revoke whose generation is newer than any grant the client has seen for the
/// range overtook its grant, and the client answers it only after that grant has arrived.
/// <code>range [42] | old mode u8 | new mode u8 | grant gen u64   (52 bytes)</code>
/// </summary>
public sealed record RevokeRequest(KeyRange Range, LockMode OldMode, LockMode NewMode, ulong GrantGen = 0) : RequestMessage<RevokeReply>
{
    public const int Size = LockRequest.Size + 8;

    public override Command Command => Command.Revoke;

    internal override int BodyLength => Size;

    internal override void Write(ref WireWriter writer)
    {
        writer.Range(Range);
        writer.U8((byte)OldMode);
        writer.U8((byte)NewMode);
        writer.U64(GrantGen);
    }

    internal static RevokeRequest Read(ref WireReader reader) =>
        new(reader.Range("range"), reader.Mode("old mode"), reader.Mode("new mode"), reader.U64("grant gen"));

    internal override string? Validate() => LockBodies.Validate(Range, OldMode, NewMode);
}

/// <summary>The REVOKE echoed back once done (grant gen included): same layout as the request.</summary>
public sealed record RevokeReply(KeyRange Range, LockMode OldMode, LockMode NewMode, ulong GrantGen = 0) : ResponseMessage
{
    public override Command Command => Command.Revoke;

    internal override int BodyLength => RevokeRequest.Size;

    internal override void Write(ref WireWriter writer)
    {
        writer.Range(Range);
        writer.U8((byte)OldMode);
        writer.U8((byte)NewMode);
        writer.U64(GrantGen);
    }

    internal static RevokeReply Read(ref WireReader reader) =>
        new(reader.Range("range"), reader.Mode("old mode"), reader.Mode("new mode"), reader.U64("grant gen"));

    internal override string? Validate() => LockBodies.Validate(Range, OldMode, NewMode);
}

internal static class LockBodies
{
    public static string? Validate(KeyRange range, LockMode oldMode, LockMode newMode) =>
        range.Start > range.End ? $"range {range} starts after it ends" : ValidateModes(oldMode, newMode);

    public static string? ValidateModes(LockMode oldMode, LockMode newMode) =>
        oldMode > LockMode.WriteOnly ? $"old mode {(byte)oldMode} is not a lock mode"
        : newMode > LockMode.WriteOnly ? $"new mode {(byte)newMode} is not a lock mode"
        : null;
}
