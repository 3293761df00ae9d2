// SPDX-License-Identifier: MIT
using Crfs.Protocol.Messages;
using Crfs.Protocol.Transports;
using Microsoft.Extensions.Logging;

namespace Crfs.Protocol.Tests.Infrastructure;

/// <summary>Greeted client/server pairs and the HELLOs they use.</summary>
public static class Peers
{
    public static readonly TimeSpan Patience = TimeSpan.FromSeconds(20);

    public static readonly Guid FsUuid = Guid.Parse("0a1b2c3d-4e5f-4061-8293-a4b5c6d7e8f9");

    public static HelloRequest ClientHello(Guid? clientId = null, ulong lastServerInstance = 0) =>
        new(WireFormat.ProtocolVersion, HelloFlags.None, WireFormat.DefaultMaxPayload, FsUuid, clientId ?? Guid.NewGuid(), lastServerInstance, 0, ProtocolCapabilities.None);

    public static HelloReply ServerReply(HelloMode mode, ulong instance = 42) =>
        new(instance, mode, 0, WireFormat.DefaultMaxPayload, 30_000, ProtocolCapabilities.None);

    /// <summary>Greets <paramref name="client"/> to <paramref name="server"/> over the two ends of a transport.</summary>
    public static async Task GreetAsync(
        CrfsConnection client, CrfsConnection server, ICrfsTransport clientEnd, ICrfsTransport serverEnd, HelloMode mode = HelloMode.New, Guid? clientId = null)
    {
        Task<GreetingResult> connect = client.ConnectAsync(clientEnd, ClientHello(clientId));
        HelloReadResult read = await CrfsConnection.ReadHelloAsync(serverEnd).WaitAsync(Patience);
        Assert.Null(read.Failure);
        GreetingResult accepted = await server.AcceptAsync(read.Hello!, ServerReply(mode)).WaitAsync(Patience);
        Assert.Equal(GreetingOutcome.Attached, accepted.Outcome);
        GreetingResult connected = await connect.WaitAsync(Patience);
        Assert.Equal(GreetingOutcome.Attached, connected.Outcome);
    }

    /// <summary>A client and a server connection greeted over an in-memory transport.</summary>
    public static async Task<(CrfsConnection Client, CrfsConnection Server)> ConnectAsync(
        ICrfsRequestHandler? clientHandler = null,
        ICrfsRequestHandler? serverHandler = null,
        CrfsConnectionOptions? options = null,
        ILogger? logger = null,
        long pauseWriterThreshold = 1 << 20)
    {
        var client = new CrfsConnection(ConnectionRole.Client, clientHandler ?? DelegateRequestHandler.RefuseAll, options, logger);
        var server = new CrfsConnection(ConnectionRole.Server, serverHandler ?? DelegateRequestHandler.RefuseAll, options, logger);
        (InMemoryTransport a, InMemoryTransport b) = InMemoryTransport.CreatePair(pauseWriterThreshold);
        await GreetAsync(client, server, a, b);
        return (client, server);
    }

    public static DelegateRequestHandler Handler(Func<RequestMessage, Reply> answer) =>
        new((request, _) => ValueTask.FromResult(answer(request.Message)));

    public static DelegateRequestHandler Handler(Func<RequestMessage, Task<Reply>> answer) =>
        new(async (request, _) => await answer(request.Message));
}
