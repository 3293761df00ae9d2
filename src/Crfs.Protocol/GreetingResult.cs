// SPDX-License-Identifier: MIT
using Crfs.Protocol.Messages;
using Crfs.Protocol.Transports;

namespace Crfs.Protocol;

public enum GreetingOutcome
{
    /// <summary>The transport is attached and the loops run.</summary>
    Attached,

    /// <summary>The peer answered but would not attach: an error status, or mode Evicted or FarewellDone.</summary>
    Refused,

    /// <summary>The transport failed or the peer broke the greeting rules; <see cref="GreetingResult.Failure"/> says how.</summary>
    Failed,
}

/// <summary>
/// How a greeting went. <see cref="Reply"/> is the HELLO reply when one arrived; the mode in it is
/// for the owner's policy (a client that is told Evicted drops its dirty state and starts anew).
/// </summary>
public sealed record GreetingResult(GreetingOutcome Outcome, WireError Status, HelloReply? Reply, DisconnectReason? Failure);

/// <summary>
/// The outcome of reading the first frame of a fresh transport on the server: the HELLO it
/// carried, or why there was none (the transport is then already disposed).
/// </summary>
public readonly record struct HelloReadResult(IncomingHello? Hello, DisconnectReason? Failure);

/// <summary>
/// A client's HELLO, read from a transport that nothing else owns yet. The server's policy looks
/// at <see cref="Request"/> (client id, last server instance, FAREWELL flag) and then either
/// attaches it to a session's connection (<see cref="CrfsConnection.AcceptAsync"/>) or refuses
/// it (<see cref="RefuseAsync(WireError, CancellationToken)"/>); exactly one of the two.
/// </summary>
public sealed class IncomingHello
{
    private int _claimed;

    internal IncomingHello(ICrfsTransport transport, HelloRequest request)
    {
        Transport = transport;
        Request = request;
    }

    public ICrfsTransport Transport { get; }

    public HelloRequest Request { get; }

    /// <summary>Answers with an error status (no body) and disposes the transport.</summary>
    public Task RefuseAsync(WireError status, CancellationToken cancellationToken = default)
    {
        if (status == WireError.Ok)
        {
            throw new ArgumentException("a refusal needs a status other than Ok", nameof(status));
        }

        return RefuseCoreAsync(status, null, cancellationToken);
    }

    /// <summary>Answers with mode <see cref="HelloMode.Evicted"/> or <see cref="HelloMode.FarewellDone"/> and disposes the transport.</summary>
    public Task RefuseAsync(HelloReply reply, CancellationToken cancellationToken = default)
    {
        if (reply.Mode is not (HelloMode.Evicted or HelloMode.FarewellDone))
        {
            throw new ArgumentException($"mode {reply.Mode} attaches; use CrfsConnection.AcceptAsync", nameof(reply));
        }

        return RefuseCoreAsync(WireError.Ok, reply, cancellationToken);
    }

    internal void Claim()
    {
        if (Interlocked.Exchange(ref _claimed, 1) != 0)
        {
            throw new InvalidOperationException($"the HELLO from {Transport.Name} was already accepted or refused");
        }
    }

    private async Task RefuseCoreAsync(WireError status, HelloReply? reply, CancellationToken cancellationToken)
    {
        Claim();
        try
        {
            await CrfsConnection.WriteHelloFrameAsync(Transport.Output, status, reply, cancellationToken);
        }
        finally
        {
            await Transport.DisposeAsync();
        }
    }
}
