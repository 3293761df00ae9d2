// SPDX-License-Identifier: MIT
using Crfs.Fuse;
using Microsoft.Extensions.Logging;

namespace Crfs.Mount.Control;

/// <summary>Every log event of the mount's control channel, with fixed event ids (95xx).</summary>
internal static partial class ControlLog
{
    [LoggerMessage(9501, LogLevel.Information, "control socket {Path} serves {MountPoint}")]
    public static partial void Listening(ILogger logger, string path, string mountPoint);

    [LoggerMessage(9502, LogLevel.Warning, "control socket {Path}: malformed request ({Reason})")]
    public static partial void BadRequest(ILogger logger, string path, string reason);

    [LoggerMessage(9503, LogLevel.Information, "control: unmount of {MountPoint} requested (flags {Flags})")]
    public static partial void UnmountRequested(ILogger logger, string mountPoint, FuseUnmountFlags flags);

    [LoggerMessage(9504, LogLevel.Warning, "control socket {Path} could not be removed: {Reason}")]
    public static partial void CannotRemoveSocket(ILogger logger, string path, string reason);
}
