// SPDX-License-Identifier: MIT
using Crfs.Protocol.Messages;
using Crfs.Server.Locks;

namespace Crfs.Coherence.Tests;

/// <summary>The mode tables the protocol rests on, every cell spelled out (scoutfs's table, coherence.md §1.2).</summary>
public sealed class LockModeTableTests
{
    private const LockMode N = LockMode.Null;
    private const LockMode R = LockMode.Read;
    private const LockMode W = LockMode.Write;
    private const LockMode WO = LockMode.WriteOnly;

    private static readonly LockMode[] s_all = [N, R, W, WO];

    public static TheoryData<LockMode, LockMode, bool> CompatibleTable => new()
    {
        { N, N, true }, { N, R, true }, { N, W, true }, { N, WO, true },
        { R, N, true }, { R, R, true }, { R, W, false }, { R, WO, false },
        { W, N, true }, { W, R, false }, { W, W, false }, { W, WO, false },
        { WO, N, true }, { WO, R, false }, { WO, W, false }, { WO, WO, true },
    };

    /// <summary>held, wanted → whether holding serves the request without asking.</summary>
    public static TheoryData<LockMode, LockMode, bool> CoversTable => new()
    {
        { N, N, true }, { N, R, false }, { N, W, false }, { N, WO, false },
        { R, N, true }, { R, R, true }, { R, W, false }, { R, WO, false },
        { W, N, true }, { W, R, true }, { W, W, true }, { W, WO, false },
        { WO, N, true }, { WO, R, false }, { WO, W, false }, { WO, WO, true },
    };

    /// <summary>held, wanted by another session → the mode the holder is revoked to.</summary>
    public static TheoryData<LockMode, LockMode, LockMode> RevokeTargetTable => new()
    {
        { R, W, N }, { R, WO, N },
        { W, R, R }, { W, W, N }, { W, WO, N },
        { WO, R, N }, { WO, W, N },
    };

    [Theory]
    [MemberData(nameof(CompatibleTable))]
    public void Compatible_EveryPairOfModes_MatchesTheTable(LockMode a, LockMode b, bool expected)
    {
        Assert.Equal(expected, LockModes.Compatible(a, b));
        Assert.Equal(expected, LockModes.Compatible(b, a));
    }

    [Theory]
    [MemberData(nameof(CoversTable))]
    public void Covers_EveryHeldAndWantedMode_MatchesTheTable(LockMode held, LockMode wanted, bool expected) =>
        Assert.Equal(expected, LockModes.Covers(held, wanted));

    [Theory]
    [MemberData(nameof(RevokeTargetTable))]
    public void RevokeTarget_EveryConflict_DowngradesWriteToReadOnlyForAReader(LockMode held, LockMode wanted, LockMode expected) =>
        Assert.Equal(expected, LockServer.RevokeTarget(held, wanted));

    [Fact]
    public void RevokeTarget_Table_CoversExactlyTheConflictingPairs()
    {
        var listed = RevokeTargetTable.Select(row => ((LockMode)row[0], (LockMode)row[1])).ToHashSet();
        foreach (LockMode held in s_all)
        {
            foreach (LockMode wanted in s_all)
            {
                bool conflict = held != N && wanted != N && !LockModes.Compatible(held, wanted);
                Assert.Equal(conflict, listed.Contains((held, wanted)));
                if (conflict)
                {
                    // The target must make room for the request.
                    Assert.True(LockModes.Compatible(LockServer.RevokeTarget(held, wanted), wanted));
                }
            }
        }
    }
}
