// SPDX-License-Identifier: MIT
using Microsoft.Extensions.Logging;

namespace Crfs.Volume;

/// <summary>The volume's log events, with fixed event ids.</summary>
internal static partial class VolumeLog
{
    [LoggerMessage(EventId = 1001, Level = LogLevel.Warning, Message = "{Message}")]
    public static partial void OpenWarning(ILogger logger, string message);

    [LoggerMessage(EventId = 1002, Level = LogLevel.Warning, Message = "bad copy of {Kind} {Logical} (mirror {Mirror}), another copy was used: {Fault}")]
    public static partial void BadCopy(ILogger logger, string kind, ulong logical, int mirror, string fault);

    [LoggerMessage(EventId = 1003, Level = LogLevel.Warning, Message = "the volume has an fsync log tree at {LogRoot} (generation {Generation}) that this reader does not replay; changes fsynced after the last commit are not visible")]
    public static partial void UnreplayedLog(ILogger logger, ulong logRoot, ulong generation);

    [LoggerMessage(EventId = 1004, Level = LogLevel.Warning, Message = "the volume has {Expected} devices but {Found} were given; missing devids: {Missing}")]
    public static partial void MissingDevices(ILogger logger, ulong expected, int found, string missing);
}
