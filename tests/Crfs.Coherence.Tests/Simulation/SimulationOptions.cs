// SPDX-License-Identifier: MIT
namespace Crfs.Coherence.Tests.Simulation;

/// <summary>The shape of one simulated run; <see cref="ForSeed"/> draws one from a seed.</summary>
internal sealed record SimulationOptions
{
    public int Clients { get; init; } = 3;

    /// <summary>Inode-group registers; one orphan register comes on top.</summary>
    public int Groups { get; init; } = 2;

    public int Operations { get; init; } = 60;

    public int MaxOpsPerClient { get; init; } = 3;

    public int IdleLockLimit { get; init; } = 2;

    public double DuplicateRate { get; init; } = 0.05;

    /// <summary>Cut one client off the network mid-run; it should be evicted, fail, reset and work again.</summary>
    public bool Partition { get; init; }

    public TimeSpan RevokeTimeout { get; init; } = TimeSpan.FromSeconds(10);

    public TimeSpan RevokeResendInterval { get; init; } = TimeSpan.FromMilliseconds(700);

    /// <summary>After the last operation has started, everything must have finished within this many steps.</summary>
    public int DrainStepLimit { get; init; } = 5_000;

    /// <summary>A deliberately broken write-back, to show that the checks catch what they claim to.</summary>
    public Sabotage Sabotage { get; init; }

    public static SimulationOptions ForSeed(int seed)
    {
        var rng = new Random(seed ^ 0x5eed);
        return new SimulationOptions
        {
            Clients = rng.Next(2, 5),
            Groups = rng.Next(1, 4),
            Operations = rng.Next(20, 90),
            MaxOpsPerClient = rng.Next(1, 4),
            IdleLockLimit = rng.Next(3) switch { 0 => 0, 1 => 1, _ => 8 },
            DuplicateRate = rng.Next(3) switch { 0 => 0, 1 => 0.05, _ => 0.25 },
            Partition = rng.Next(4) == 0,
        };
    }
}

public enum Sabotage : byte
{
    None,

    /// <summary>FlushAsync reports success without committing anything.</summary>
    SkipWriteBack,

    /// <summary>InvalidateAsync keeps the cached values.</summary>
    SkipInvalidate,
}

internal enum SimOpKind : byte
{
    Read,
    Write,

    /// <summary>WRITE on register A and READ on register B: A := B + 1 (two locks, taken in order).</summary>
    Move,
    OrphanAdd,
    OrphanRead,
    Fsync,
}

internal readonly record struct SimOp(SimOpKind Kind, int A, int B);

internal enum SimOpOutcome : byte
{
    Done,
    Evicted,
}
