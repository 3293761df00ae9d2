// SPDX-License-Identifier: MIT
namespace Crfs.Protocol;

/// <summary>
/// The numbers both ends of a CRFS connection must agree on before anything else. A change to
/// any frozen wire value (header layout, command, flag, mode or error numbers, message bodies)
/// bumps <see cref="ProtocolVersion"/>; peers of different versions refuse each other in HELLO.
/// </summary>
public static class WireFormat
{
    /// <summary>"CRFS" in ASCII, read as a little-endian u32: bytes 43 52 46 53 on the wire.</summary>
    public const uint Magic = 0x53465243;

    public const ushort ProtocolVersion = 2;

    /// <summary>The payload limit each side advertises unless configured otherwise (4 MiB).</summary>
    public const int DefaultMaxPayload = 4 << 20;

    /// <summary>No configuration may raise the payload limit above this (16 MiB).</summary>
    public const int HardMaxPayload = 16 << 20;

    /// <summary>
    /// No configuration may lower the payload limit below this (64 KiB), so that every
    /// fixed-size message and a useful item batch always fit in one frame.
    /// </summary>
    public const int MinMaxPayload = 64 << 10;

    /// <summary>The default limit on one message reassembled from several frames (64 MiB).</summary>
    public const int DefaultMaxMessageLength = 64 << 20;
}
