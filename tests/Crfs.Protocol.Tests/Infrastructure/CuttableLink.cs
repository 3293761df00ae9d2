// SPDX-License-Identifier: MIT
using System.IO.Pipelines;
using Crfs.Protocol.Transports;

namespace Crfs.Protocol.Tests.Infrastructure;

/// <summary>
/// A wire between a client end and a server end that can be cut: it forwards bytes in both
/// directions and, once a direction has carried its byte budget, forwards exactly up to the
/// budget (usually mid-frame) and then drops the whole link. Bytes the link had not forwarded are
/// lost, as on a dead TCP connection, so the peers must resend them.
/// </summary>
public sealed class CuttableLink
{
    private readonly InMemoryTransport _clientSide;
    private readonly InMemoryTransport _serverSide;
    private readonly CancellationTokenSource _cut = new();
    private readonly TaskCompletionSource _cutDone = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private long _forwarded;

    public CuttableLink(long clientToServerBudget = long.MaxValue, long serverToClientBudget = long.MaxValue)
    {
        (InMemoryTransport client, _clientSide) = InMemoryTransport.CreatePair();
        (_serverSide, InMemoryTransport server) = InMemoryTransport.CreatePair();
        ClientEnd = client;
        ServerEnd = server;
        _ = PumpAsync(_clientSide.Input, _serverSide.Output, clientToServerBudget);
        _ = PumpAsync(_serverSide.Input, _clientSide.Output, serverToClientBudget);
    }

    public ICrfsTransport ClientEnd { get; }

    public ICrfsTransport ServerEnd { get; }

    /// <summary>Completes once the link has been cut.</summary>
    public Task Cut => _cutDone.Task;

    public long ForwardedBytes => Interlocked.Read(ref _forwarded);

    public async Task CutNowAsync()
    {
        if (_cut.IsCancellationRequested)
        {
            await Cut;
            return;
        }

        await _cut.CancelAsync();
        await _clientSide.DisposeAsync();
        await _serverSide.DisposeAsync();
        _cutDone.TrySetResult();
    }

    private async Task PumpAsync(PipeReader from, PipeWriter to, long budget)
    {
        try
        {
            while (true)
            {
                ReadResult result = await from.ReadAsync(_cut.Token);
                long length = result.Buffer.Length;
                long take = Math.Min(length, budget);
                foreach (ReadOnlyMemory<byte> segment in result.Buffer.Slice(0, take))
                {
                    await to.WriteAsync(segment, _cut.Token);
                }

                budget -= take;
                Interlocked.Add(ref _forwarded, take);
                from.AdvanceTo(result.Buffer.GetPosition(take));
                if (budget == 0 || result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (OperationCanceledException)
        {
            return;
        }
        catch (InvalidOperationException)
        {
            // The other pump already cut the link and completed these pipes.
        }

        await CutNowAsync();
    }
}
