// SPDX-License-Identifier: MIT
using Crfs.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace Crfs.Client.Coherence;

/// <summary>The lock client's log events (ids 5100–5199).</summary>
internal static partial class LockClientLog
{
    [LoggerMessage(EventId = 5101, Level = LogLevel.Warning, Message = "Ignoring revoke of {Range} grant_gen {GrantGen} {OldMode}->{NewMode}: {Reason}")]
    public static partial void BadRevoke(ILogger logger, KeyRange range, ulong grantGen, LockMode oldMode, LockMode newMode, string reason);

    [LoggerMessage(EventId = 5102, Level = LogLevel.Error, Message = "Write-back or invalidation of {Range} threw; treating the session as evicted")]
    public static partial void WriteBackFailed(ILogger logger, KeyRange range, Exception exception);

    [LoggerMessage(EventId = 5103, Level = LogLevel.Error, Message = "The server refused the write-back for {Range}; treating the session as evicted")]
    public static partial void WriteBackRefused(ILogger logger, KeyRange range);

    [LoggerMessage(EventId = 5104, Level = LogLevel.Warning, Message = "Session evicted: {LockCount} locks dropped, acquisitions fail until reset")]
    public static partial void Evicted(ILogger logger, int lockCount);
}
