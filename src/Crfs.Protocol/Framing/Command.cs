// SPDX-License-Identifier: MIT
namespace Crfs.Protocol.Framing;

/// <summary>
/// The command of a frame: which message its payload holds. A request and its response carry the
/// same command. Wire values: frozen; new commands are appended and bump
/// <see cref="WireFormat.ProtocolVersion"/>.
/// </summary>
public enum Command : ushort
{
    Hello = 1,
    Ping = 2,
    Lock = 3,
    Revoke = 4,
    ItemRead = 5,
    AllocIno = 6,
    Commit = 7,
    DataRead = 8,
    Statfs = 9,
    Sync = 10,
    InUseQuery = 11,
    LockRecover = 12,
    Flock = 13,
    Farewell = 14,
    InUseCheck = 15,
}

/// <summary>Which end of a connection may send a command's request.</summary>
[Flags]
public enum CommandDirection
{
    None = 0,
    ClientToServer = 1,
    ServerToClient = 2,
    Both = ClientToServer | ServerToClient,
}

/// <summary>The static facts about each <see cref="Command"/>: its name and who may ask it.</summary>
public static class CommandInfo
{
    public static bool IsDefined(Command command) => command is >= Command.Hello and <= Command.InUseCheck;

    /// <summary>The direction its requests travel in; <see cref="CommandDirection.None"/> for an unknown command.</summary>
    public static CommandDirection RequestDirection(Command command) => command switch
    {
        Command.Hello or Command.Lock or Command.ItemRead or Command.AllocIno or Command.Commit
            or Command.DataRead or Command.Statfs or Command.Flock or Command.Farewell or Command.InUseCheck => CommandDirection.ClientToServer,
        Command.Revoke or Command.Sync or Command.InUseQuery or Command.LockRecover => CommandDirection.ServerToClient,
        Command.Ping => CommandDirection.Both,
        _ => CommandDirection.None,
    };

    /// <summary>The protocol's spelling, used in logs and violation reasons: <c>ITEM_READ</c>.</summary>
    public static string Name(Command command) => command switch
    {
        Command.Hello => "HELLO",
        Command.Ping => "PING",
        Command.Lock => "LOCK",
        Command.Revoke => "REVOKE",
        Command.ItemRead => "ITEM_READ",
        Command.AllocIno => "ALLOC_INO",
        Command.Commit => "COMMIT",
        Command.DataRead => "DATA_READ",
        Command.Statfs => "STATFS",
        Command.Sync => "SYNC",
        Command.InUseQuery => "INUSE_QUERY",
        Command.LockRecover => "LOCK_RECOVER",
        Command.Flock => "FLOCK",
        Command.Farewell => "FAREWELL",
        Command.InUseCheck => "INUSE_CHECK",
        _ => "UNKNOWN." + ((ushort)command).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };
}
