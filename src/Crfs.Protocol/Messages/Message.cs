// SPDX-License-Identifier: MIT
using Crfs.Protocol.Framing;

namespace Crfs.Protocol.Messages;

/// <summary>
/// A message body: one request or response of one <see cref="Framing.Command"/>. Every concrete
/// message is a sealed record with a hand-written codec (no reflection): it states its exact
/// encoded length, writes itself with little-endian primitives, and states its invariants once in
/// <see cref="Validate"/>, which the decoder applies to received bytes (a violation closes the
/// connection) and the encoder applies before sending (a bug throws).
/// </summary>
public abstract record Message
{
    public abstract Command Command { get; }

    public abstract bool IsResponse { get; }

    internal abstract int BodyLength { get; }

    internal abstract void Write(ref WireWriter writer);

    /// <summary>Null when the message is well formed, else what is wrong with it.</summary>
    internal virtual string? Validate() => null;
}

/// <summary>A request body; see <see cref="RequestMessage{TReply}"/>.</summary>
public abstract record RequestMessage : Message
{
    public sealed override bool IsResponse => false;
}

/// <summary>A request whose successful response body is a <typeparamref name="TReply"/>.</summary>
public abstract record RequestMessage<TReply> : RequestMessage
    where TReply : ResponseMessage;

/// <summary>A response body; sent only with status <see cref="WireError.Ok"/>.</summary>
public abstract record ResponseMessage : Message
{
    public sealed override bool IsResponse => true;
}

/// <summary>
/// What a request handler answers: a status and, when the status is <see cref="WireError.Ok"/>,
/// the response body. Errors carry no body on the wire.
/// </summary>
public readonly record struct Reply(WireError Status, ResponseMessage? Body)
{
    public static Reply Ok(ResponseMessage body) => new(WireError.Ok, body ?? throw new ArgumentNullException(nameof(body)));

    public static Reply Error(WireError status) =>
        status == WireError.Ok ? throw new ArgumentException("an error reply needs a status other than Ok", nameof(status)) : new(status, null);
}

/// <summary>
/// The outcome of a request: <see cref="WireError.Ok"/> with the typed body, or an error status.
/// An error is an expected outcome (ENOENT is an answer), so it is a value, not an exception.
/// </summary>
public readonly record struct Reply<TReply>(WireError Status, TReply? Body)
    where TReply : ResponseMessage
{
    public bool IsOk => Status == WireError.Ok;

    /// <summary>The body of a successful reply; throws when the reply is an error.</summary>
    public TReply Value => Body ?? throw new InvalidOperationException($"the reply is {Status}, not Ok; check IsOk or Status first");
}
