// SPDX-License-Identifier: MIT
using Crfs.Protocol.Framing;

namespace Crfs.Protocol.Messages;

/// <summary>
/// The messages whose bodies are empty: the command and the frame's status say everything.
/// </summary>
public abstract record EmptyRequest<TReply> : RequestMessage<TReply>
    where TReply : ResponseMessage
{
    internal sealed override int BodyLength => 0;

    internal sealed override void Write(ref WireWriter writer)
    {
    }
}

/// <inheritdoc cref="EmptyRequest{TReply}"/>
public abstract record EmptyResponse : ResponseMessage
{
    internal sealed override int BodyLength => 0;

    internal sealed override void Write(ref WireWriter writer)
    {
    }
}

/// <summary>Keeps an idle session's lease alive and carries acknowledgements; either side may ask.</summary>
public sealed record PingRequest : EmptyRequest<PingReply>
{
    public static readonly PingRequest Instance = new();

    public override Command Command => Command.Ping;
}

public sealed record PingReply : EmptyResponse
{
    public static readonly PingReply Instance = new();

    public override Command Command => Command.Ping;
}

/// <summary>
/// Server to client: commit your open transaction now. Answered once the client's COMMIT of
/// everything it had dirty has been acknowledged (made durable).
/// </summary>
public sealed record SyncRequest : EmptyRequest<SyncReply>
{
    public static readonly SyncRequest Instance = new();

    public override Command Command => Command.Sync;
}

public sealed record SyncReply : EmptyResponse
{
    public static readonly SyncReply Instance = new();

    public override Command Command => Command.Sync;
}

/// <summary>
/// Client to server, after committing everything at unmount: end the session. The server
/// reclaims it (locks, leases, in-use bits, the client record) and only then replies.
/// </summary>
public sealed record FarewellRequest : EmptyRequest<FarewellReply>
{
    public static readonly FarewellRequest Instance = new();

    public override Command Command => Command.Farewell;
}

public sealed record FarewellReply : EmptyResponse
{
    public static readonly FarewellReply Instance = new();

    public override Command Command => Command.Farewell;
}

/// <summary>Client to server: the file system's usage figures (for <c>statfs(2)</c>).</summary>
public sealed record StatfsRequest : EmptyRequest<StatfsReply>
{
    public static readonly StatfsRequest Instance = new();

    public override Command Command => Command.Statfs;
}

/// <summary>A successful FLOCK: the lock was granted (or released). Refusals are statuses (Again, Deadlock).</summary>
public sealed record FlockReply : EmptyResponse
{
    public static readonly FlockReply Instance = new();

    public override Command Command => Command.Flock;
}
