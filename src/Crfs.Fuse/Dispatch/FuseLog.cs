// SPDX-License-Identifier: MIT
using Crfs.Fuse.Abi;
using Microsoft.Extensions.Logging;

namespace Crfs.Fuse;

/// <summary>Every log event of the FUSE layer, with fixed event ids (1xxx).</summary>
internal static partial class FuseLog
{
    [LoggerMessage(1001, LogLevel.Error, "FUSE {Opcode} unique={Unique} node={NodeId}: handler threw, answered EIO")]
    public static partial void HandlerThrew(ILogger logger, FuseOpcode opcode, ulong unique, ulong nodeId, Exception exception);

    [LoggerMessage(1002, LogLevel.Warning, "FUSE malformed request ({Reason}): opcode={Opcode} unique={Unique} node={NodeId} length={Length}")]
    public static partial void Malformed(ILogger logger, string reason, uint opcode, ulong unique, ulong nodeId, int length);

    [LoggerMessage(1003, LogLevel.Error, "FUSE {Opcode} unique={Unique} node={NodeId}: handler returned invalid errno {Errno}, answered EIO")]
    public static partial void InvalidErrno(ILogger logger, FuseOpcode opcode, ulong unique, ulong nodeId, int errno);

    [LoggerMessage(1004, LogLevel.Error, "FUSE {Opcode} unique={Unique} node={NodeId}: handler returned success with node id 0, answered EIO")]
    public static partial void ZeroNodeId(ILogger logger, FuseOpcode opcode, ulong unique, ulong nodeId);

    [LoggerMessage(1005, LogLevel.Information, "FUSE INIT: kernel {KernelMajor}.{KernelMinor} offers {KernelFlags}; negotiated 7.{Minor} flags {Flags} max_write={MaxWrite}")]
    public static partial void Initialized(ILogger logger, uint kernelMajor, uint kernelMinor, FuseInitFlags kernelFlags, uint minor, FuseInitFlags flags, uint maxWrite);

    [LoggerMessage(1006, LogLevel.Error, "FUSE INIT refused: kernel protocol {Major}.{Minor} is older than 7.{MinimumMinor}")]
    public static partial void InitTooOld(ILogger logger, uint major, uint minor, uint minimumMinor);

    [LoggerMessage(1007, LogLevel.Error, "FUSE {Opcode} unique={Unique} node={NodeId}: reply larger than the {Capacity}-byte reply buffer, answered EIO")]
    public static partial void ReplyTooLarge(ILogger logger, FuseOpcode opcode, ulong unique, ulong nodeId, int capacity);

    [LoggerMessage(1008, LogLevel.Trace, "FUSE <- {Opcode} unique={Unique} node={NodeId} uid={Uid} pid={Pid} length={Length}")]
    public static partial void Request(ILogger logger, FuseOpcode opcode, ulong unique, ulong nodeId, uint uid, uint pid, uint length);

    [LoggerMessage(1009, LogLevel.Trace, "FUSE -> unique={Unique} error={Errno} length={Length}")]
    public static partial void Reply(ILogger logger, ulong unique, Posix.Errno errno, int length);

    [LoggerMessage(1010, LogLevel.Warning, "FUSE reply write for unique={Unique} failed: {Errno}")]
    public static partial void ReplyWriteFailed(ILogger logger, ulong unique, Posix.Errno errno);

    [LoggerMessage(1011, LogLevel.Error, "FUSE read from /dev/fuse failed: {Errno}; reader stops")]
    public static partial void ReadFailed(ILogger logger, Posix.Errno errno);

    [LoggerMessage(1012, LogLevel.Information, "FUSE mounted {MountPoint} (connection {Connection}, {Transport})")]
    public static partial void Mounted(ILogger logger, string mountPoint, uint connection, string transport);

    [LoggerMessage(1013, LogLevel.Information, "FUSE connection for {MountPoint} ended")]
    public static partial void ConnectionEnded(ILogger logger, string mountPoint);

    [LoggerMessage(1014, LogLevel.Warning, "FUSE {MountPoint}: readers did not stop {Seconds}s after unmount; aborting connection {Connection}")]
    public static partial void AbortingHungConnection(ILogger logger, string mountPoint, double seconds, uint connection);

    [LoggerMessage(1015, LogLevel.Information, "FUSE {MountPoint}: {Signal} received, unmounting")]
    public static partial void SignalUnmount(ILogger logger, string mountPoint, string signal);

    [LoggerMessage(1016, LogLevel.Warning, "FUSE unmount of {MountPoint} failed: {Message}")]
    public static partial void UnmountFailed(ILogger logger, string mountPoint, string message);

    [LoggerMessage(1020, LogLevel.Warning, "FUSE notify {Code} failed: {Errno}")]
    public static partial void NotifyFailed(ILogger logger, FuseNotifyCode code, Posix.Errno errno);

    [LoggerMessage(1021, LogLevel.Warning, "FUSE NOTIFY_REPLY for unknown retrieve unique={Unique}")]
    public static partial void UnknownRetrieveReply(ILogger logger, ulong unique);

    [LoggerMessage(1030, LogLevel.Warning, "FUSE io_uring transport unavailable ({Reason}); using /dev/fuse")]
    public static partial void IoUringUnavailable(ILogger logger, string reason);

    [LoggerMessage(1031, LogLevel.Error, "FUSE io_uring queue {Queue} failed: {Errno}; queue stops")]
    public static partial void IoUringQueueFailed(ILogger logger, int queue, Posix.Errno errno);
}
