// SPDX-License-Identifier: MIT
using Crfs.Protocol.Framing;

namespace Crfs.Protocol.Messages;

/// <summary>HELLO request flags. Wire values: frozen.</summary>
[Flags]
public enum HelloFlags : ushort
{
    None = 0,

    /// <summary>The client is unmounting: it has sent, or is about to send, FAREWELL.</summary>
    Farewell = 1,
}

/// <summary>Optional protocol features a peer offers (HELLO) or accepts (HELLO reply). None are defined yet.</summary>
[Flags]
public enum ProtocolCapabilities : ulong
{
    None = 0,
}

/// <summary>How the server received a greeting. Wire values: frozen.</summary>
public enum HelloMode : byte
{
    /// <summary>A new session; the server recorded the client durably before replying.</summary>
    New = 1,

    /// <summary>The same server instance still has the session: both sides resend frames the peer has not acknowledged.</summary>
    Resumed = 2,

    /// <summary>The server restarted: the client resends every unanswered request and answers LOCK_RECOVER.</summary>
    Recover = 3,

    /// <summary>The session was evicted; the client drops its dirty state and starts a new session.</summary>
    Evicted = 4,

    /// <summary>A farewell was already processed; the client may stop.</summary>
    FarewellDone = 5,
}

/// <summary>
/// The greeting, first frame on every transport from the client. HELLO frames stand outside the
/// sequence numbering (seq, ack and request id are 0); <see cref="RecvAck"/> carries the
/// acknowledgement instead.
/// <code>
/// version u16 | flags u16 | max payload u32 | fs uuid [16] | client id [16]
/// | last server instance u64 | recv ack u64 | capabilities u64            (64 bytes)
/// </code>
/// </summary>
public sealed record HelloRequest(
    ushort ProtocolVersion,
    HelloFlags Flags,
    int MaxPayload,
    Guid FsUuid,
    Guid ClientId,
    ulong LastServerInstance,
    ulong RecvAck,
    ProtocolCapabilities Capabilities) : RequestMessage<HelloReply>
{
    public const int Size = 2 + 2 + 4 + WireSizes.Uuid + WireSizes.Uuid + 8 + 8 + 8;

    public override Command Command => Command.Hello;

    internal override int BodyLength => Size;

    internal override void Write(ref WireWriter writer)
    {
        writer.U16(ProtocolVersion);
        writer.U16((ushort)Flags);
        writer.U32((uint)MaxPayload);
        writer.Uuid(FsUuid);
        writer.Uuid(ClientId);
        writer.U64(LastServerInstance);
        writer.U64(RecvAck);
        writer.U64((ulong)Capabilities);
    }

    internal static HelloRequest Read(ref WireReader reader) => new(
        reader.U16("protocol version"),
        (HelloFlags)reader.U16("flags"),
        (int)reader.U32("max payload"),
        reader.Uuid("fs uuid"),
        reader.Uuid("client id"),
        reader.U64("last server instance"),
        reader.U64("recv ack"),
        (ProtocolCapabilities)reader.U64("capabilities"));

    internal override string? Validate() =>
        (Flags & ~HelloFlags.Farewell) != 0 ? $"unknown HELLO flag bits 0x{(ushort)Flags:x4}"
        : MaxPayload is < WireFormat.MinMaxPayload or > WireFormat.HardMaxPayload
            ? $"max payload {MaxPayload} outside [{WireFormat.MinMaxPayload}, {WireFormat.HardMaxPayload}]"
            : null;
}

/// <summary>
/// The server's answer to HELLO.
/// <code>
/// server instance u64 | recv ack u64 | capabilities u64 | max payload u32 | lease ms u32 | mode u8   (33 bytes)
/// </code>
/// <see cref="MaxPayload"/> is the server's receive limit; each side sends frames no larger than
/// the smaller of the two advertised limits. <see cref="LeaseMilliseconds"/> is how long the
/// server keeps an idle session; the client pings well within it.
/// </summary>
public sealed record HelloReply(
    ulong ServerInstance,
    HelloMode Mode,
    ulong RecvAck,
    int MaxPayload,
    uint LeaseMilliseconds,
    ProtocolCapabilities Capabilities) : ResponseMessage
{
    public const int Size = 8 + 8 + 8 + 4 + 4 + 1;

    public override Command Command => Command.Hello;

    internal override int BodyLength => Size;

    internal override void Write(ref WireWriter writer)
    {
        writer.U64(ServerInstance);
        writer.U64(RecvAck);
        writer.U64((ulong)Capabilities);
        writer.U32((uint)MaxPayload);
        writer.U32(LeaseMilliseconds);
        writer.U8((byte)Mode);
    }

    internal static HelloReply Read(ref WireReader reader)
    {
        ulong instance = reader.U64("server instance");
        ulong ack = reader.U64("recv ack");
        var capabilities = (ProtocolCapabilities)reader.U64("capabilities");
        int maxPayload = (int)reader.U32("max payload");
        uint lease = reader.U32("lease ms");
        var mode = (HelloMode)reader.U8("mode");
        return new HelloReply(instance, mode, ack, maxPayload, lease, capabilities);
    }

    internal override string? Validate() =>
        Mode is < HelloMode.New or > HelloMode.FarewellDone ? $"mode {(byte)Mode} is not a HELLO mode"
        : MaxPayload is < WireFormat.MinMaxPayload or > WireFormat.HardMaxPayload
            ? $"max payload {MaxPayload} outside [{WireFormat.MinMaxPayload}, {WireFormat.HardMaxPayload}]"
            : null;
}
