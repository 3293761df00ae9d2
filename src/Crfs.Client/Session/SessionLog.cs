// SPDX-License-Identifier: MIT
using Crfs.Protocol.Messages;
using Microsoft.Extensions.Logging;

namespace Crfs.Client.Session;

/// <summary>The session's log events (ids 6xx).</summary>
internal static partial class SessionLog
{
    [LoggerMessage(600, LogLevel.Warning, "client {ClientId}: transport lost ({Reason}); reconnecting")]
    public static partial void Reconnecting(ILogger logger, Guid clientId, string reason);

    [LoggerMessage(601, LogLevel.Warning, "client {ClientId}: reconnect attempt failed: {Reason}")]
    public static partial void ReconnectFailed(ILogger logger, Guid clientId, string reason);

    [LoggerMessage(602, LogLevel.Error, "COMMIT of tree {TreeId} failed: {Reason}; dirty state is lost")]
    public static partial void CommitFailed(ILogger logger, ulong treeId, string reason);

    [LoggerMessage(603, LogLevel.Error, "LOCK of {Range} refused with {Status}; treating the session as evicted")]
    public static partial void LockRefused(ILogger logger, KeyRange range, string status);

    [LoggerMessage(604, LogLevel.Warning, "client {ClientId}: farewell failed: {Reason}")]
    public static partial void FarewellFailed(ILogger logger, Guid clientId, string reason);
}
