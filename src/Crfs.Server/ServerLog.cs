// SPDX-License-Identifier: MIT
using Crfs.Protocol;
using Crfs.Protocol.Messages;
using Crfs.Server.Locks;
using Microsoft.Extensions.Logging;

namespace Crfs.Server;

/// <summary>
/// The server's log events (ids 6000–6099; the lock server has 6100–6199). One line per event,
/// each naming the session and client id, and the tree, key or range and op_seq where one is
/// involved, so <c>grep "session 7 "</c> follows one client.
/// </summary>
internal static partial class ServerLog
{
    [LoggerMessage(EventId = 6000, Level = LogLevel.Information, Message = "server instance {Instance:x16} serving {Volume} (fsid {FsUuid}, generation {Generation})")]
    public static partial void Started(ILogger logger, ulong instance, string volume, Guid fsUuid, ulong generation);

    [LoggerMessage(EventId = 6001, Level = LogLevel.Information, Message = "server instance {Instance:x16} stopped; last durable generation {Generation}")]
    public static partial void Stopped(ILogger logger, ulong instance, ulong generation);

    [LoggerMessage(EventId = 6002, Level = LogLevel.Information, Message = "listening on {EndPoint}")]
    public static partial void Listening(ILogger logger, string endPoint);

    [LoggerMessage(EventId = 6010, Level = LogLevel.Information, Message = "session {Session} client {ClientId}: HELLO from {Peer}, mode {Mode}")]
    public static partial void SessionGreeted(ILogger logger, ulong session, Guid clientId, string peer, HelloMode mode);

    [LoggerMessage(EventId = 6011, Level = LogLevel.Information, Message = "client {ClientId}: HELLO from {Peer} refused with {Answer}: {Reason}")]
    public static partial void HelloRefused(ILogger logger, Guid clientId, string peer, string answer, string reason);

    [LoggerMessage(EventId = 6012, Level = LogLevel.Information, Message = "session {Session} client {ClientId}: transport lost ({Reason}); reclaimed unless it reconnects within {Window}")]
    public static partial void SessionDetached(ILogger logger, ulong session, Guid clientId, string reason, TimeSpan window);

    [LoggerMessage(EventId = 6013, Level = LogLevel.Information, Message = "session {Session} client {ClientId}: ended ({Reason}); locks released")]
    public static partial void SessionEnded(ILogger logger, ulong session, Guid clientId, string reason);

    [LoggerMessage(EventId = 6014, Level = LogLevel.Warning, Message = "session {Session} client {ClientId}: evicted by the lock server")]
    public static partial void SessionEvicted(ILogger logger, ulong session, Guid clientId);

    [LoggerMessage(EventId = 6015, Level = LogLevel.Warning, Message = "session {Session} client {ClientId}: {Stream} refused with Stale: {Reason}")]
    public static partial void StaleOp(ILogger logger, ulong session, Guid clientId, string stream, string reason);

    [LoggerMessage(EventId = 6016, Level = LogLevel.Information, Message = "orphan scan of tree {Tree} ({Why}): {Count} orphans reclaimed, {InUse} still in use")]
    public static partial void OrphansReclaimed(ILogger logger, ulong tree, string why, int count, int inUse);

    [LoggerMessage(EventId = 6017, Level = LogLevel.Warning, Message = "orphan scan of tree {Tree} ({Why}) failed: {Reason}")]
    public static partial void OrphanScanFailed(ILogger logger, ulong tree, string why, string reason);

    [LoggerMessage(EventId = 6018, Level = LogLevel.Information, Message = "session {Session} client {ClientId}: INUSE_QUERY tree {Tree} group {Group} counted as all in use: {Reason}")]
    public static partial void InUseUnknown(ILogger logger, ulong session, Guid clientId, ulong tree, ulong group, string reason);

    [LoggerMessage(EventId = 6019, Level = LogLevel.Debug, Message = "session {Session} client {ClientId}: INUSE_CHECK tree {Tree} group {Group}: {Count} inodes in use elsewhere")]
    public static partial void InUseChecked(ILogger logger, ulong session, Guid clientId, ulong tree, ulong group, int count);

    [LoggerMessage(EventId = 6020, Level = LogLevel.Debug, Message = "session {Session} client {ClientId}: LOCK {Range} {OldMode}->{NewMode} request {RequestId}: {Status}")]
    public static partial void LockRequested(ILogger logger, ulong session, Guid clientId, KeyRange range, LockMode oldMode, LockMode newMode, ulong requestId, LockRequestStatus status);

    [LoggerMessage(EventId = 6021, Level = LogLevel.Debug, Message = "session {Session} client {ClientId}: REVOKE answer {Range} grant_gen {GrantGen} {OldMode}->{NewMode}: {Status}")]
    public static partial void RevokeAnswered(ILogger logger, ulong session, Guid clientId, KeyRange range, ulong grantGen, LockMode oldMode, LockMode newMode, RevokeAnswerStatus status);

    [LoggerMessage(EventId = 6022, Level = LogLevel.Warning, Message = "session {Session} client {ClientId}: REVOKE {Range} grant_gen {GrantGen} answered {Status}; left to the revoke timeout")]
    public static partial void RevokeRefused(ILogger logger, ulong session, Guid clientId, KeyRange range, ulong grantGen, WireError status);

    [LoggerMessage(EventId = 6030, Level = LogLevel.Debug, Message = "session {Session} client {ClientId}: ITEM_READ {Range} key {Key}: [{Low}, {High}] {Count} items")]
    public static partial void ItemRead(ILogger logger, ulong session, Guid clientId, KeyRange range, Format.Btrfs.BtrfsKey key, Format.Btrfs.BtrfsKey low, Format.Btrfs.BtrfsKey high, int count);

    [LoggerMessage(EventId = 6031, Level = LogLevel.Warning, Message = "session {Session} client {ClientId}: {What} refused with {Status}: {Reason}")]
    public static partial void ReadRefused(ILogger logger, ulong session, Guid clientId, string what, WireError status, string reason);

    [LoggerMessage(EventId = 6032, Level = LogLevel.Error, Message = "session {Session} client {ClientId}: DATA_READ refused with Io: {Corruption}")]
    public static partial void DataCorrupt(ILogger logger, ulong session, Guid clientId, string corruption);

    [LoggerMessage(EventId = 6040, Level = LogLevel.Information, Message = "session {Session} client {ClientId}: COMMIT op_seq {OpSeq} tree {Tree}: {ItemOps} item ops, {DataOps} data ops durable in generation {Generation}; {ServerItems} server items returned")]
    public static partial void CommitDurable(ILogger logger, ulong session, Guid clientId, ulong opSeq, ulong tree, int itemOps, int dataOps, ulong generation, int serverItems);

    [LoggerMessage(EventId = 6041, Level = LogLevel.Warning, Message = "session {Session} client {ClientId}: COMMIT op_seq {OpSeq} tree {Tree} rejected with {Status}, volume untouched: {Reason}")]
    public static partial void CommitRejected(ILogger logger, ulong session, Guid clientId, ulong opSeq, ulong tree, WireError status, string reason);

    [LoggerMessage(EventId = 6042, Level = LogLevel.Error, Message = "session {Session} client {ClientId}: COMMIT op_seq {OpSeq} tree {Tree} failed: {Reason}")]
    public static partial void CommitFailed(ILogger logger, ulong session, Guid clientId, ulong opSeq, ulong tree, string reason);

    [LoggerMessage(EventId = 6043, Level = LogLevel.Information, Message = "session {Session} client {ClientId}: duplicate {Stream} op_seq {OpSeq}; answering the recorded result")]
    public static partial void DuplicateOp(ILogger logger, ulong session, Guid clientId, string stream, ulong opSeq);

    [LoggerMessage(EventId = 6050, Level = LogLevel.Information, Message = "session {Session} client {ClientId}: ALLOC_INO op_seq {OpSeq} tree {Tree} {Kind}: leased [{Start}, {End})")]
    public static partial void InodesLeased(ILogger logger, ulong session, Guid clientId, ulong opSeq, ulong tree, InodeKind kind, ulong start, ulong end);
}
