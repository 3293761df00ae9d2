// SPDX-License-Identifier: MIT
namespace Crfs.Protocol.Framing;

/// <summary>
/// One validated frame: its header and a private copy of its payload (message values decoded
/// from it are slices of <see cref="Payload"/>, so nothing refers to pipe memory).
/// </summary>
public readonly record struct Frame(FrameHeader Header, byte[] Payload);

/// <summary>The outcome of <see cref="FrameDecoder.TryReadFrame"/>.</summary>
public enum FrameReadStatus
{
    /// <summary>A whole valid frame was read and the buffer advanced past it.</summary>
    Frame,

    /// <summary>The buffer holds a valid prefix of a frame; read more bytes and call again.</summary>
    NeedMoreData,

    /// <summary>The bytes can never become a valid frame; the connection must close.</summary>
    Violation,
}
