// SPDX-License-Identifier: MIT
using Crfs.Protocol.Messages;
using Crfs.Server.Locks;

namespace Crfs.Coherence.Tests.Infrastructure;

internal readonly record struct SentGrant(ulong Session, ulong RequestId, KeyRange Range, LockMode Old, LockMode New, ulong GrantGen);

internal readonly record struct SentRevoke(ulong Session, KeyRange Range, ulong GrantGen, LockMode Old, LockMode New);

/// <summary>Records what a <see cref="LockServer"/> sends, in order.</summary>
internal sealed class RecordingServerOutbox : ILockServerOutbox
{
    public List<SentGrant> Grants { get; } = [];

    public List<SentRevoke> Revokes { get; } = [];

    public List<ulong> Evicted { get; } = [];

    /// <summary>Every effect in order, as text (for ordering assertions).</summary>
    public List<string> Log { get; } = [];

    public void SendGrant(ulong session, ulong requestId, KeyRange range, LockMode oldMode, LockMode newMode, ulong grantGen)
    {
        Grants.Add(new SentGrant(session, requestId, range, oldMode, newMode, grantGen));
        Log.Add($"grant s{session} #{requestId} {newMode}");
    }

    public void SendRevoke(ulong session, KeyRange range, ulong grantGen, LockMode oldMode, LockMode newMode)
    {
        Revokes.Add(new SentRevoke(session, range, grantGen, oldMode, newMode));
        Log.Add($"revoke s{session} {oldMode}->{newMode}");
    }

    public void SessionEvicted(ulong session)
    {
        Evicted.Add(session);
        Log.Add($"evicted s{session}");
    }

    public SentGrant LastGrantTo(ulong session) => Grants.Last(g => g.Session == session);

    public SentRevoke LastRevokeTo(ulong session) => Revokes.Last(r => r.Session == session);
}
