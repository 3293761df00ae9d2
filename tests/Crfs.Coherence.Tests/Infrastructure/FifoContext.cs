// SPDX-License-Identifier: MIT
namespace Crfs.Coherence.Tests.Infrastructure;

/// <summary>
/// A synchronization context for unit tests: continuations queue up and <see cref="Run"/> runs them
/// in order, on the test's thread, until none is left. Each harness action is therefore complete,
/// with every consequence settled, when it returns.
/// </summary>
internal sealed class FifoContext : SynchronizationContext
{
    private readonly Queue<Action> _queue = new();

    public override void Post(SendOrPostCallback d, object? state) => _queue.Enqueue(() => d(state));

    public override void Send(SendOrPostCallback d, object? state) => throw new NotSupportedException();

    public override SynchronizationContext CreateCopy() => this;

    public void Run(Action action)
    {
        SynchronizationContext? previous = Current;
        SetSynchronizationContext(this);
        try
        {
            action();
            while (_queue.TryDequeue(out Action? next))
            {
                next();
            }
        }
        finally
        {
            SetSynchronizationContext(previous);
        }
    }
}
