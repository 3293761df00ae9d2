// SPDX-License-Identifier: MIT
namespace Crfs.Coherence.Tests.Simulation;

/// <summary>
/// The simulation's only thread of control. Installed as the <see cref="SynchronizationContext"/>
/// while a simulation runs, it receives every await continuation of the code under test (the lock
/// client awaits without ConfigureAwait(false), and its waiters complete asynchronously), and runs
/// them one at a time in an order drawn from the seeded random source. Nothing runs on the thread
/// pool, so one seed is one schedule.
/// </summary>
internal sealed class SimScheduler(Random rng) : SynchronizationContext
{
    private readonly List<Action> _ready = [];
    private readonly int _thread = Environment.CurrentManagedThreadId;

    /// <summary>Set if anything posted from another thread: the run would no longer be deterministic.</summary>
    public bool EscapedThread { get; private set; }

    public int ReadyCount => _ready.Count;

    public override void Post(SendOrPostCallback d, object? state) => Enqueue(() => d(state));

    public override void Send(SendOrPostCallback d, object? state) =>
        throw new NotSupportedException("the simulation never blocks on a synchronous send");

    public override SynchronizationContext CreateCopy() => this;

    public void Enqueue(Action action)
    {
        if (Environment.CurrentManagedThreadId != _thread)
        {
            EscapedThread = true;
        }

        lock (_ready)
        {
            _ready.Add(action);
        }
    }

    /// <summary>Run one ready continuation, chosen at random.</summary>
    public void RunOne()
    {
        Action action;
        lock (_ready)
        {
            int i = rng.Next(_ready.Count);
            action = _ready[i];
            _ready[i] = _ready[^1];
            _ready.RemoveAt(_ready.Count - 1);
        }

        action();
    }

    /// <summary>A task that completes when the scheduler picks it: a point where other work may interleave.</summary>
    public Task YieldAsync()
    {
        var tcs = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        Enqueue(tcs.SetResult);
        return tcs.Task;
    }
}

/// <summary>Simulated time: one tick is a millisecond, and it moves only when the simulation says so.</summary>
internal sealed class SimTime : TimeProvider
{
    public long Milliseconds { get; private set; }

    public override long TimestampFrequency => 1000;

    public override long GetTimestamp() => Milliseconds;

    public override DateTimeOffset GetUtcNow() => DateTimeOffset.UnixEpoch.AddMilliseconds(Milliseconds);

    public void Advance(long milliseconds) => Milliseconds += milliseconds;
}

/// <summary>
/// A network that delays every message arbitrarily (delivery order is random, across and within
/// locks and connections), duplicates some, and can cut an endpoint off (its messages wait, in both
/// directions, until it is healed). It never loses a message: the protocol layer's resend makes a
/// connection lossless, and losing one would only turn into an eviction.
/// </summary>
internal sealed class SimNetwork(Random rng, double duplicateRate)
{
    private readonly List<Envelope> _inFlight = [];
    private readonly HashSet<int> _cut = [];

    public int InFlight => _inFlight.Count;

    public long Delivered { get; private set; }

    public void Send(int from, int to, Action deliver) => _inFlight.Add(new Envelope(from, to, deliver, false));

    public void Cut(int endpoint) => _cut.Add(endpoint);

    public void Heal(int endpoint) => _cut.Remove(endpoint);

    public bool IsCut(int endpoint) => _cut.Contains(endpoint);

    public int CountDeliverable()
    {
        if (_cut.Count == 0)
        {
            return _inFlight.Count;
        }

        int n = 0;
        foreach (Envelope e in _inFlight)
        {
            if (Deliverable(e))
            {
                n++;
            }
        }

        return n;
    }

    /// <summary>Deliver one deliverable message chosen at random (<paramref name="deliverable"/> from <see cref="CountDeliverable"/>).</summary>
    public void DeliverOne(int deliverable)
    {
        int pick = rng.Next(deliverable);
        int index = -1;
        for (int i = 0; i < _inFlight.Count; i++)
        {
            if (Deliverable(_inFlight[i]) && pick-- == 0)
            {
                index = i;
                break;
            }
        }

        Envelope e = _inFlight[index];
        _inFlight.RemoveAt(index);
        if (!e.IsDuplicate && duplicateRate > 0 && rng.NextDouble() < duplicateRate)
        {
            _inFlight.Add(e with { IsDuplicate = true });
        }

        Delivered++;
        e.Deliver();
    }

    private bool Deliverable(Envelope e) => !_cut.Contains(e.From) && !_cut.Contains(e.To);

    private readonly record struct Envelope(int From, int To, Action Deliver, bool IsDuplicate);
}
