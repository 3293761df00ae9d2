// SPDX-License-Identifier: MIT
using Crfs.Client.Coherence;
using Crfs.Protocol.Messages;

namespace Crfs.Coherence.Tests.Infrastructure;

internal readonly record struct SentRequest(ulong RequestId, KeyRange Range, LockMode Old, LockMode Wanted);

internal readonly record struct SentAnswer(KeyRange Range, ulong GrantGen, LockMode Old, LockMode New);

/// <summary>
/// A <see cref="LockClient"/> with a recording outbox and a scriptable write-back. Every action runs
/// under a <see cref="FifoContext"/> and returns once all its consequences have settled. Flushes
/// complete at once unless <see cref="HoldFlushes"/> is set; then <see cref="CompleteFlush"/> finishes
/// the oldest.
/// </summary>
internal sealed class ClientHarness : ILockClientOutbox, IWriteBack
{
    private readonly FifoContext _context = new();
    private readonly Queue<TaskCompletionSource<bool>> _heldFlushes = new();

    public ClientHarness(int idleLockLimit = 16) =>
        Client = new LockClient(this, this, new LockClientOptions { IdleLockLimit = idleLockLimit });

    public LockClient Client { get; }

    public List<SentRequest> Requests { get; } = [];

    public List<SentAnswer> Answers { get; } = [];

    /// <summary>Write-back calls and sent messages in order: "flush g", "invalidate g", "request Write", "answer Write->Null".</summary>
    public List<string> Log { get; } = [];

    public bool HoldFlushes { get; set; }

    public bool FlushSucceeds { get; set; } = true;

    public SentRequest LastRequest => Requests[^1];

    public Task<LockAcquisition> Acquire(KeyRange range, LockMode mode, CancellationToken ct = default)
    {
        Task<LockAcquisition>? task = null;
        _context.Run(() => task = Client.AcquireAsync(range, mode, ct));
        return task!;
    }

    public Task<LockSetAcquisition> AcquireAll(params LockNeed[] needs)
    {
        Task<LockSetAcquisition>? task = null;
        _context.Run(() => task = Client.AcquireAllAsync(needs));
        return task!;
    }

    /// <summary>Acquire and insist that it was granted at once.</summary>
    public LockLease Hold(KeyRange range, LockMode mode)
    {
        Task<LockAcquisition> t = Acquire(range, mode);
        Assert.True(t.IsCompletedSuccessfully && t.Result.IsGranted, $"{mode} on {range} was not granted at once");
        return t.Result.Lease!;
    }

    /// <summary>Acquire, answering the request it sends with a grant of <paramref name="mode"/>.</summary>
    public LockLease Take(KeyRange range, LockMode mode, ulong grantGen)
    {
        Task<LockAcquisition> t = Acquire(range, mode);
        if (!t.IsCompleted)
        {
            SentRequest r = LastRequest;
            Grant(r.RequestId, range, r.Old, r.Wanted, grantGen);
        }

        Assert.True(t.IsCompletedSuccessfully && t.Result.IsGranted, $"{mode} on {range} was not granted");
        return t.Result.Lease!;
    }

    public void Grant(ulong requestId, KeyRange range, LockMode old, LockMode granted, ulong grantGen) =>
        _context.Run(() => Client.ReceiveGrant(requestId, range, old, granted, grantGen));

    public void Revoke(KeyRange range, ulong grantGen, LockMode old, LockMode target) =>
        _context.Run(() => Client.ReceiveRevoke(range, grantGen, old, target));

    public void Evict() => _context.Run(Client.ReceiveEviction);

    public void Reset() => _context.Run(Client.Reset);

    public void Dispose(IDisposable lease) => _context.Run(lease.Dispose);

    public void Run(Action action) => _context.Run(action);

    public void CompleteFlush() => _context.Run(() => _heldFlushes.Dequeue().SetResult(FlushSucceeds));

    public int HeldFlushCount => _heldFlushes.Count;

    void ILockClientOutbox.SendRequest(ulong requestId, KeyRange range, LockMode oldMode, LockMode wantedMode)
    {
        Requests.Add(new SentRequest(requestId, range, oldMode, wantedMode));
        Log.Add($"request {wantedMode}");
    }

    void ILockClientOutbox.SendRevokeAnswer(KeyRange range, ulong grantGen, LockMode oldMode, LockMode newMode)
    {
        Answers.Add(new SentAnswer(range, grantGen, oldMode, newMode));
        Log.Add($"answer {oldMode}->{newMode}");
    }

    Task<bool> IWriteBack.FlushAsync(KeyRange range)
    {
        Log.Add("flush");
        if (!HoldFlushes)
        {
            return Task.FromResult(FlushSucceeds);
        }

        var tcs = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        _heldFlushes.Enqueue(tcs);
        return tcs.Task;
    }

    Task IWriteBack.InvalidateAsync(KeyRange range)
    {
        Log.Add("invalidate");
        return Task.CompletedTask;
    }
}
