// SPDX-License-Identifier: MIT
using System.IO.Pipelines;

namespace Crfs.Protocol.Transports;

/// <summary>
/// Two ends of an in-process byte stream made of two <see cref="Pipe"/>s, one per direction: what
/// <c>crfs up</c> runs server and client over, and what tests use instead of sockets. Back-pressure
/// works as on TCP: a writer that runs more than the pause threshold ahead of its reader waits in
/// <see cref="PipeWriter.FlushAsync"/>. Disposing one end completes both of its pipe halves, which
/// the other end sees as the stream ending.
/// </summary>
public sealed class InMemoryTransport : ICrfsTransport
{
    private static long s_nextPair;

    private InMemoryTransport(string name, PipeReader input, PipeWriter output)
    {
        Name = name;
        Input = input;
        Output = output;
    }

    public string Name { get; }

    public PipeReader Input { get; }

    public PipeWriter Output { get; }

    /// <summary>
    /// A connected pair. <paramref name="pauseWriterThreshold"/> bounds how far a writer may run
    /// ahead of its reader (default 1 MiB); frames larger than it still pass, because a frame is
    /// written whole before the writer waits.
    /// </summary>
    public static (InMemoryTransport A, InMemoryTransport B) CreatePair(long pauseWriterThreshold = 1 << 20)
    {
        var options = new PipeOptions(
            pauseWriterThreshold: pauseWriterThreshold,
            resumeWriterThreshold: pauseWriterThreshold / 2,
            useSynchronizationContext: false);
        var aToB = new Pipe(options);
        var bToA = new Pipe(options);
        long pair = Interlocked.Increment(ref s_nextPair);
        return (
            new InMemoryTransport($"memory#{pair}.a", bToA.Reader, aToB.Writer),
            new InMemoryTransport($"memory#{pair}.b", aToB.Reader, bToA.Writer));
    }

    /// <summary>Wraps any duplex pipe (a test double, a TLS stream adapter) as a transport.</summary>
    public static ICrfsTransport Wrap(IDuplexPipe pipe, string name) => new InMemoryTransport(name, pipe.Input, pipe.Output);

    public async ValueTask DisposeAsync()
    {
        await Output.CompleteAsync();
        await Input.CompleteAsync();
    }

    public override string ToString() => Name;
}
