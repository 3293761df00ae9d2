// SPDX-License-Identifier: MIT
using Crfs.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace Crfs.Server.Locks;

/// <summary>The lock server's log events (ids 6100–6199).</summary>
internal static partial class LockServerLog
{
    [LoggerMessage(EventId = 6101, Level = LogLevel.Warning, Message = "Session {Session} has not answered revoke of {Range} grant_gen {GrantGen} {OldMode}->{NewMode} after {Elapsed}")]
    public static partial void RevokeSlow(ILogger logger, ulong session, KeyRange range, ulong grantGen, LockMode oldMode, LockMode newMode, TimeSpan elapsed);

    [LoggerMessage(EventId = 6102, Level = LogLevel.Warning, Message = "Session {Session} left revoke of {Range} grant_gen {GrantGen} {OldMode}->{NewMode} unanswered for {Elapsed}")]
    public static partial void RevokeTimedOut(ILogger logger, ulong session, KeyRange range, ulong grantGen, LockMode oldMode, LockMode newMode, TimeSpan elapsed);

    [LoggerMessage(EventId = 6103, Level = LogLevel.Warning, Message = "Evicted session {Session}: a revoke went unanswered past the revoke timeout {RevokeTimeout}; its locks are released")]
    public static partial void SessionEvicted(ILogger logger, ulong session, TimeSpan revokeTimeout);
}
