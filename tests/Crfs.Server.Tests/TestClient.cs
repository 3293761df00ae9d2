// SPDX-License-Identifier: MIT
using System.Collections.Concurrent;
using Crfs.Protocol;
using Crfs.Protocol.Messages;
using Crfs.Protocol.Transports;

namespace Crfs.Server.Tests;

/// <summary>
/// A bare protocol client for driving the server: it greets, sends requests, and answers REVOKE by
/// echoing it (grant gen included) unless told to hold revokes back. It keeps no cache.
/// </summary>
internal sealed class TestClient : IAsyncDisposable
{
    private readonly ConcurrentQueue<RevokeRequest> _revokes = new();
    private readonly TaskCompletionSource _held = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private TestClient(Guid clientId, bool answerRevokes)
    {
        ClientId = clientId;
        AnswerRevokes = answerRevokes;
        Connection = new CrfsConnection(ConnectionRole.Client, new DelegateRequestHandler(HandleAsync));
    }

    public Guid ClientId { get; }

    public bool AnswerRevokes { get; set; }

    public CrfsConnection Connection { get; }

    public GreetingResult Greeting { get; private set; } = null!;

    public IReadOnlyCollection<RevokeRequest> Revokes => _revokes;

    private ulong _commitSeq;
    private ulong _inoSeq;

    public static async Task<TestClient> ConnectAsync(ICrfsTransport transport, bool answerRevokes = true, Guid? clientId = null, ulong lastInstance = 0, HelloFlags flags = HelloFlags.None)
    {
        var client = new TestClient(clientId ?? Guid.NewGuid(), answerRevokes);
        client.Greeting = await client.Connection.ConnectAsync(transport, Hello(client.ClientId, lastInstance, flags));
        return client;
    }

    public static HelloRequest Hello(Guid clientId, ulong lastInstance = 0, HelloFlags flags = HelloFlags.None) =>
        new(WireFormat.ProtocolVersion, flags, WireFormat.DefaultMaxPayload, Guid.Empty, clientId, lastInstance, 0, ProtocolCapabilities.None);

    /// <summary>The next op_seq of the COMMIT stream.</summary>
    public ulong NextOpSeq() => ++_commitSeq;

    /// <summary>The next op_seq of the INO (ALLOC_INO) stream.</summary>
    public ulong NextInoSeq() => ++_inoSeq;

    public async Task<LockReply> LockAsync(KeyRange range, LockMode mode, LockMode old = LockMode.Null)
    {
        Reply<LockReply> reply = await Connection.SendRequestAsync(new LockRequest(range, old, mode)).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.True(reply.IsOk, $"LOCK {range} {mode}: {reply.Status}");
        return reply.Value;
    }

    public Task<Reply<TReply>> SendAsync<TReply>(RequestMessage<TReply> request)
        where TReply : ResponseMessage =>
        Connection.SendRequestAsync(request).WaitAsync(TimeSpan.FromSeconds(60));

    public Task<Reply<CommitReply>> CommitAsync(IReadOnlyList<ItemOperation> items, IReadOnlyList<DataOperation>? data = null, ulong tree = 5) =>
        SendAsync(new CommitRequest(NextOpSeq(), tree, items, data ?? []));

    /// <summary>Completes once a revoke has arrived (held or answered).</summary>
    public Task FirstRevoke => _held.Task;

    private ValueTask<Reply> HandleAsync(IncomingRequest request, CancellationToken cancellationToken)
    {
        switch (request.Message)
        {
            case RevokeRequest revoke:
                _revokes.Enqueue(revoke);
                _held.TrySetResult();
                if (!AnswerRevokes)
                {
                    return new ValueTask<Reply>(WaitForeverAsync(cancellationToken));
                }

                return ValueTask.FromResult(Reply.Ok(new RevokeReply(revoke.Range, revoke.OldMode, revoke.NewMode, revoke.GrantGen)));
            case PingRequest:
                return ValueTask.FromResult(Reply.Ok(PingReply.Instance));
            default:
                return ValueTask.FromResult(Reply.Error(WireError.NotSupported));
        }
    }

    private static async Task<Reply> WaitForeverAsync(CancellationToken cancellationToken)
    {
        await Task.Delay(Timeout.Infinite, cancellationToken).ConfigureAwait(ConfigureAwaitOptions.SuppressThrowing);
        return Reply.Error(WireError.Canceled);
    }

    public async ValueTask DisposeAsync() => await Connection.DisposeAsync();
}
