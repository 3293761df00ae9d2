// SPDX-License-Identifier: MIT
using Crfs.Protocol.Messages;

namespace Crfs.Protocol;

/// <summary>
/// Answers the requests a peer sends (on a client: REVOKE, SYNC, INUSE_QUERY, LOCK_RECOVER, PING;
/// on a server: everything else).
/// </summary>
/// <remarks>
/// The connection calls <see cref="HandleRequestAsync"/> on its read loop, in the order the
/// requests arrived, and does not wait for the returned task before reading on: a handler must
/// not block, and it is free to send requests of its own and await them (a REVOKE handler sends
/// COMMIT). Ordering beyond arrival order (for example one worker per lock) is the handler's
/// business. An exception from the handler is a bug: it is logged and the peer gets
/// <see cref="WireError.Io"/>. The token is cancelled when the connection closes.
/// </remarks>
public interface ICrfsRequestHandler
{
    ValueTask<Reply> HandleRequestAsync(IncomingRequest request, CancellationToken cancellationToken);
}

/// <summary>A request delivered to an <see cref="ICrfsRequestHandler"/>.</summary>
public sealed record IncomingRequest(CrfsConnection Connection, ulong RequestId, RequestMessage Message);

/// <summary>An <see cref="ICrfsRequestHandler"/> made from a delegate.</summary>
public sealed class DelegateRequestHandler : ICrfsRequestHandler
{
    private readonly Func<IncomingRequest, CancellationToken, ValueTask<Reply>> _handle;

    public DelegateRequestHandler(Func<IncomingRequest, CancellationToken, ValueTask<Reply>> handle)
    {
        _handle = handle;
    }

    /// <summary>A handler that answers every request <see cref="WireError.NotSupported"/>.</summary>
    public static DelegateRequestHandler RefuseAll { get; } =
        new((_, _) => ValueTask.FromResult(Reply.Error(WireError.NotSupported)));

    public ValueTask<Reply> HandleRequestAsync(IncomingRequest request, CancellationToken cancellationToken) =>
        _handle(request, cancellationToken);
}
