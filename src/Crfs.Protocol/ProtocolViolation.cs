// SPDX-License-Identifier: MIT
namespace Crfs.Protocol;

/// <summary>What rule a malformed frame or message broke.</summary>
public enum ViolationKind
{
    BadMagic,
    PayloadTooLarge,
    UnknownCommand,
    BadFlags,
    BadStatus,
    BadChecksum,

    /// <summary>A sequence number, acknowledgement or request id that breaks the stream rules.</summary>
    BadSequence,

    /// <summary>A command sent in a direction, or at a point in the greeting, where it is not allowed.</summary>
    UnexpectedCommand,

    /// <summary>The byte stream ended inside a frame.</summary>
    Truncated,

    /// <summary>A message body shorter than its declared fields.</summary>
    BodyTooShort,

    /// <summary>A message body with bytes left over after its last field.</summary>
    TrailingBytes,

    /// <summary>A field whose value is out of its domain (an unknown enum value, unsorted items, a reversed range).</summary>
    InvalidField,

    /// <summary>A run of <see cref="Framing.FrameFlags.More"/> frames that breaks the continuation rules or the size limit.</summary>
    BadContinuation,
}

/// <summary>
/// A frame or message that failed validation at the boundary. This is a value, not an
/// exception: the decoder returns it, and the connection closes with it as the logged reason.
/// <see cref="Reason"/> is one line naming the offending values.
/// </summary>
public sealed record ProtocolViolation(ViolationKind Kind, string Reason)
{
    public override string ToString() => $"{Kind}: {Reason}";
}
