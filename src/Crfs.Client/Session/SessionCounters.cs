// SPDX-License-Identifier: MIT
using Crfs.Protocol.Framing;

namespace Crfs.Client.Session;

/// <summary>
/// What a session has cost and holds, for users (<c>crfs stat</c>), benchmarks and tests: round
/// trips by command, commits and their sizes. Updated with interlocked operations; reads are
/// individually atomic, not a consistent snapshot.
/// </summary>
public sealed class SessionCounters
{
    private readonly long[] _roundTrips = new long[64];
    private long _commits;
    private long _committedItemOperations;
    private long _committedDataOperations;
    private long _committedBytes;
    private long _largestCommitBytes;
    private long _evictions;
    private long _reconnects;

    /// <summary>Requests this client sent and saw answered (or failed), by command.</summary>
    public long RoundTrips(Command command) => Interlocked.Read(ref _roundTrips[(ushort)command % _roundTrips.Length]);

    /// <summary>All round trips except PING.</summary>
    public long TotalRoundTrips
    {
        get
        {
            long sum = 0;
            for (int i = 0; i < _roundTrips.Length; i++)
            {
                if (i != (int)Command.Ping)
                {
                    sum += Interlocked.Read(ref _roundTrips[i]);
                }
            }

            return sum;
        }
    }

    /// <summary>COMMIT requests answered Ok.</summary>
    public long Commits => Interlocked.Read(ref _commits);

    public long CommittedItemOperations => Interlocked.Read(ref _committedItemOperations);

    public long CommittedDataOperations => Interlocked.Read(ref _committedDataOperations);

    /// <summary>Dirty bytes (estimated wire size) of all committed transactions.</summary>
    public long CommittedBytes => Interlocked.Read(ref _committedBytes);

    public long LargestCommitBytes => Interlocked.Read(ref _largestCommitBytes);

    public long Evictions => Interlocked.Read(ref _evictions);

    public long Reconnects => Interlocked.Read(ref _reconnects);

    internal void CountRoundTrip(Command command) => Interlocked.Increment(ref _roundTrips[(ushort)command % _roundTrips.Length]);

    internal void CountCommit(int itemOperations, int dataOperations, long bytes)
    {
        Interlocked.Increment(ref _commits);
        Interlocked.Add(ref _committedItemOperations, itemOperations);
        Interlocked.Add(ref _committedDataOperations, dataOperations);
        Interlocked.Add(ref _committedBytes, bytes);
        long largest;
        do
        {
            largest = Interlocked.Read(ref _largestCommitBytes);
        }
        while (bytes > largest && Interlocked.CompareExchange(ref _largestCommitBytes, bytes, largest) != largest);
    }

    internal void CountEviction() => Interlocked.Increment(ref _evictions);

    internal void CountReconnect() => Interlocked.Increment(ref _reconnects);
}
