// SPDX-License-Identifier: MIT
namespace Crfs.Protocol;

/// <summary>Why a transport was let go or a connection closed.</summary>
public enum DisconnectKind
{
    /// <summary>The peer ended the stream between frames.</summary>
    PeerClosed,

    /// <summary>The peer sent something malformed; <see cref="DisconnectReason.Violation"/> says what.</summary>
    ProtocolViolation,

    /// <summary>The socket failed (reset, timeout).</summary>
    TransportError,

    /// <summary>This side decided: <see cref="CrfsConnection.Close"/>, disposal, a cancelled or refused greeting.</summary>
    LocalClose,

    /// <summary>A newer transport of the same session took over.</summary>
    Replaced,
}

/// <summary>The logged, one-line reason a transport detached or a connection closed.</summary>
public sealed record DisconnectReason(DisconnectKind Kind, string Message, ProtocolViolation? Violation = null)
{
    public static DisconnectReason FromViolation(ProtocolViolation violation) =>
        new(DisconnectKind.ProtocolViolation, violation.ToString(), violation);

    public override string ToString() => $"{Kind}: {Message}";
}

/// <summary>
/// A request could not be answered because its connection closed for good. <see cref="Reason"/>
/// is the reason the connection logged (for a malformed frame, the exact rule it broke).
/// </summary>
public sealed class ConnectionClosedException : IOException
{
    public ConnectionClosedException(DisconnectReason reason)
        : base($"connection closed ({reason})")
    {
        Reason = reason;
    }

    public ConnectionClosedException()
        : this(new DisconnectReason(DisconnectKind.LocalClose, "closed"))
    {
    }

    public ConnectionClosedException(string message)
        : this(new DisconnectReason(DisconnectKind.LocalClose, message))
    {
    }

    public ConnectionClosedException(string message, Exception innerException)
        : base(message, innerException)
    {
        Reason = new DisconnectReason(DisconnectKind.LocalClose, message);
    }

    public DisconnectReason Reason { get; }
}
