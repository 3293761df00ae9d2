// SPDX-License-Identifier: MIT
using System.Diagnostics.CodeAnalysis;
using Crfs.Protocol.Framing;

namespace Crfs.Protocol.Messages;

/// <summary>
/// Encodes message bodies and decodes them by (command, request or response). Decoding is
/// validation at the boundary: a body shorter than its fields, with bytes left over, or with a
/// value out of its domain yields a <see cref="ProtocolViolation"/>; a decoded message is well
/// formed by <see cref="Message.Validate"/>. The encoding is canonical: a body that decodes
/// re-encodes to the same bytes.
/// </summary>
public static class MessageCodec
{
    /// <summary>The exact encoded length of <paramref name="message"/>'s body.</summary>
    public static int GetBodyLength(Message message) => message.BodyLength;

    /// <summary>
    /// Writes <paramref name="message"/>'s body into the first <see cref="GetBodyLength"/> bytes
    /// of <paramref name="destination"/>. Throws <see cref="ArgumentException"/> for a message that
    /// breaks its own invariants: sending it would be a bug.
    /// </summary>
    public static void WriteBody(Message message, Span<byte> destination)
    {
        if (message.Validate() is string error)
        {
            throw new ArgumentException(
                $"refusing to send a malformed {CommandInfo.Name(message.Command)} {(message.IsResponse ? "response" : "request")}: {error}",
                nameof(message));
        }

        WriteBodyUnchecked(message, destination);
    }

    /// <summary>Writes without <see cref="Message.Validate"/>: tests use it to play a peer that sends malformed bodies.</summary>
    internal static void WriteBodyUnchecked(Message message, Span<byte> destination)
    {
        int length = message.BodyLength;
        var writer = new WireWriter(destination[..length]);
        message.Write(ref writer);
        if (writer.Position != length)
        {
            throw new InvalidOperationException(
                $"{CommandInfo.Name(message.Command)} codec wrote {writer.Position} bytes but declared {length}");
        }
    }

    public static byte[] EncodeBody(Message message)
    {
        var body = new byte[message.BodyLength];
        WriteBody(message, body);
        return body;
    }

    /// <summary>
    /// Decodes the body of a <paramref name="command"/> request or response. Byte fields of the
    /// result are slices of <paramref name="body"/>. Never throws for any input.
    /// </summary>
    public static bool TryDecode(
        Command command,
        bool isResponse,
        ReadOnlyMemory<byte> body,
        [NotNullWhen(true)] out Message? message,
        [NotNullWhen(false)] out ProtocolViolation? violation)
    {
        var reader = new WireReader(body, command, isResponse);
        Message? decoded = (command, isResponse) switch
        {
            (Command.Hello, false) => HelloRequest.Read(ref reader),
            (Command.Hello, true) => HelloReply.Read(ref reader),
            (Command.Ping, false) => PingRequest.Instance,
            (Command.Ping, true) => PingReply.Instance,
            (Command.Lock, false) => LockRequest.Read(ref reader),
            (Command.Lock, true) => LockReply.Read(ref reader),
            (Command.Revoke, false) => RevokeRequest.Read(ref reader),
            (Command.Revoke, true) => RevokeReply.Read(ref reader),
            (Command.ItemRead, false) => ItemReadRequest.Read(ref reader),
            (Command.ItemRead, true) => ItemReadReply.Read(ref reader),
            (Command.AllocIno, false) => AllocInoRequest.Read(ref reader),
            (Command.AllocIno, true) => AllocInoReply.Read(ref reader),
            (Command.Commit, false) => CommitRequest.Read(ref reader),
            (Command.Commit, true) => CommitReply.Read(ref reader),
            (Command.DataRead, false) => DataReadRequest.Read(ref reader),
            (Command.DataRead, true) => DataReadReply.Read(ref reader),
            (Command.Statfs, false) => StatfsRequest.Instance,
            (Command.Statfs, true) => StatfsReply.Read(ref reader),
            (Command.Sync, false) => SyncRequest.Instance,
            (Command.Sync, true) => SyncReply.Instance,
            (Command.InUseQuery, false) => InUseQueryRequest.Read(ref reader),
            (Command.InUseQuery, true) => InUseQueryReply.Read(ref reader),
            (Command.LockRecover, false) => LockRecoverRequest.Read(ref reader),
            (Command.LockRecover, true) => LockRecoverReply.Read(ref reader),
            (Command.Flock, false) => FlockRequest.Read(ref reader),
            (Command.Flock, true) => FlockReply.Instance,
            (Command.Farewell, false) => FarewellRequest.Instance,
            (Command.Farewell, true) => FarewellReply.Instance,
            (Command.InUseCheck, false) => InUseCheckRequest.Read(ref reader),
            (Command.InUseCheck, true) => InUseCheckReply.Read(ref reader),
            _ => null,
        };

        if (decoded is null)
        {
            message = null;
            violation = new ProtocolViolation(ViolationKind.UnknownCommand, $"unknown command {(ushort)command}");
            return false;
        }

        violation = reader.Finish();
        if (violation is null && decoded.Validate() is string error)
        {
            violation = new ProtocolViolation(
                ViolationKind.InvalidField,
                $"{CommandInfo.Name(command)} {(isResponse ? "response" : "request")} body: {error}");
        }

        message = violation is null ? decoded : null;
        return violation is null;
    }
}
