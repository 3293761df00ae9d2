// SPDX-License-Identifier: MIT
using Crfs.Coherence.Tests.Infrastructure;
using Crfs.Coherence.Tests.Simulation;
using Xunit.Abstractions;
using Xunit.Sdk;

namespace Crfs.Coherence.Tests;

/// <summary>
/// Many seeded runs of <see cref="CoherenceSimulation"/>. A failure names its seed; rerun just that
/// seed with <c>CRFS_SIM_SEED=n dotnet test --filter RandomWorkloads</c> (its trace is printed), or
/// widen the sweep with <c>CRFS_SIM_SEEDS=20000</c> (and <c>CRFS_SIM_FIRST_SEED</c> to start elsewhere).
/// </summary>
public sealed class CoherenceSimulationTests(ITestOutputHelper output)
{
    private const int DefaultSeeds = 2000;

    [Fact]
    public void RandomWorkloads_ManySeeds_KeepEveryInvariant()
    {
        (int first, int count) = SeedRange();
        int partitioned = 0;
        int evictions = 0;
        long steps = 0;
        long longestDrain = 0;
        for (int seed = first; seed < first + count; seed++)
        {
            SimulationOptions options = SimulationOptions.ForSeed(seed);
            CoherenceSimulation sim = RunSeed(seed, options);
            steps += sim.Step;
            longestDrain = Math.Max(longestDrain, sim.DrainSteps);
            if (options.Partition)
            {
                partitioned++;
                evictions += sim.EvictionCount;
            }
            else
            {
                Assert.Equal(0, sim.EvictionCount);
            }
        }

        output.WriteLine($"{count} seeds from {first}: {steps} steps, longest drain {longestDrain}; {partitioned} runs with a cut client, {evictions} evictions");
        if (count >= 100)
        {
            Assert.True(evictions > 0, "no run evicted anyone: the eviction path went untested");
        }
    }

    [Fact]
    public void SameSeed_RunsTheSameScheduleTwice()
    {
        // Seed 4 has a cut client and duplicates (so evictions, resends and resets are in the trace).
        SimulationOptions options = SimulationOptions.ForSeed(4) with { Partition = true, DuplicateRate = 0.25 };
        var a = new CoherenceSimulation(4, options, trace: true);
        var b = new CoherenceSimulation(4, options, trace: true);
        a.RunRandomWorkload();
        b.RunRandomWorkload();
        Assert.Equal(a.Step, b.Step);
        Assert.Equal(a.TraceLines, b.TraceLines);
        Assert.NotEmpty(a.TraceLines);
    }

    [Theory]
    [InlineData(Sabotage.SkipWriteBack)]
    [InlineData(Sabotage.SkipInvalidate)]
    public void BrokenWriteBack_IsCaughtWithinAFewSeeds(Sabotage sabotage)
    {
        int caught = 0;
        for (int seed = 1; seed <= 20; seed++)
        {
            var sim = new CoherenceSimulation(seed, SimulationOptions.ForSeed(seed) with { Sabotage = sabotage, Partition = false });
            try
            {
                sim.RunRandomWorkload();
            }
            catch (SimulationFailure failure)
            {
                caught++;
                if (caught == 1)
                {
                    output.WriteLine(failure.Message.Split('\n')[0]);
                }
            }
        }

        Assert.True(caught >= 10, $"the checks caught {sabotage} in only {caught} of 20 runs");
    }

    [Fact]
    public void Eviction_ClientCutOffWhileHoldingADirtyWrite_IsEvictedOthersProceedItFailsThenRecovers()
    {
        var options = new SimulationOptions { Clients = 2, Groups = 1, DuplicateRate = 0, IdleLockLimit = 8 };
        var sim = new CoherenceSimulation(11, options);
        SimClient a = sim.Clients[0];
        SimClient b = sim.Clients[1];

        // a writes g0 and keeps the dirty value cached under its idle WRITE lock.
        Task<SimOpOutcome> write = sim.StartOp(a, new SimOp(SimOpKind.Write, 0, 0));
        sim.RunUntil(() => write.IsCompleted);
        Assert.Equal(SimOpOutcome.Done, Settled.Of(write));
        Assert.True(a.Cache[0].DirtyOverwrite);
        long lost = a.Cache[0].Value;
        ulong oldSession = a.Session;

        // a drops off the network; b's read needs a to give the lock up, which it never does.
        sim.Network.Cut(a.Endpoint);
        long cutAt = sim.Time.Milliseconds;
        Task<SimOpOutcome> read = sim.StartOp(b, new SimOp(SimOpKind.Read, 0, 0));
        sim.RunUntil(() => read.IsCompleted);
        Assert.Equal(SimOpOutcome.Done, Settled.Of(read));
        Assert.Equal([oldSession], sim.EvictedSessions);
        Assert.True(sim.Time.Milliseconds - cutAt >= options.RevokeTimeout.TotalMilliseconds);
        Assert.Equal(0, sim.Durable(0));

        // Back on the network: a learns it was evicted; what it starts now fails, and its stale write never lands.
        sim.Network.Heal(a.Endpoint);
        sim.RunUntil(() => a.KnowsEvicted);
        Task<SimOpOutcome> refused = sim.StartOp(a, new SimOp(SimOpKind.Write, 0, 0));
        Task<SimOpOutcome> refusedSync = sim.StartOp(a, new SimOp(SimOpKind.Fsync, 0, 0));
        sim.RunUntil(() => refused.IsCompleted && refusedSync.IsCompleted && sim.Network.InFlight == 0);
        Assert.Equal(SimOpOutcome.Evicted, Settled.Of(refused));
        Assert.Equal(SimOpOutcome.Evicted, Settled.Of(refusedSync));
        Assert.NotEqual(lost, sim.Durable(0));

        // A new session works again, and b sees what it writes.
        sim.ResetSession(a);
        Task<SimOpOutcome> again = sim.StartOp(a, new SimOp(SimOpKind.Write, 0, 0));
        sim.RunUntil(() => again.IsCompleted);
        Assert.Equal(SimOpOutcome.Done, Settled.Of(again));
        long written = a.Cache[0].Value;
        Task<SimOpOutcome> reread = sim.StartOp(b, new SimOp(SimOpKind.Read, 0, 0));
        sim.RunUntil(() => reread.IsCompleted);
        Assert.Equal(SimOpOutcome.Done, Settled.Of(reread));
        Assert.Equal(written, sim.Durable(0));
        Assert.Single(sim.EvictedSessions);
    }

    private static (int First, int Count) SeedRange()
    {
        if (int.TryParse(Environment.GetEnvironmentVariable("CRFS_SIM_SEED"), out int one))
        {
            return (one, 1);
        }

        int count = int.TryParse(Environment.GetEnvironmentVariable("CRFS_SIM_SEEDS"), out int n) ? n : DefaultSeeds;
        int first = int.TryParse(Environment.GetEnvironmentVariable("CRFS_SIM_FIRST_SEED"), out int f) ? f : 1;
        return (first, count);
    }

    private CoherenceSimulation RunSeed(int seed, SimulationOptions options)
    {
        var sim = new CoherenceSimulation(seed, options);
        try
        {
            sim.RunRandomWorkload();
            return sim;
        }
        catch (SimulationFailure first)
        {
            // Same seed, same schedule: run it again with the trace on, for the report.
            var traced = new CoherenceSimulation(seed, options, trace: true);
            try
            {
                traced.RunRandomWorkload();
            }
            catch (SimulationFailure again)
            {
                output.WriteLine(again.Message);
                throw new XunitException($"seed {seed} failed (reproduce: CRFS_SIM_SEED={seed}):\n{again.Message}");
            }

            throw new XunitException($"seed {seed} failed, but not when traced (nondeterminism!):\n{first.Message}");
        }
    }
}
