// SPDX-License-Identifier: MIT
namespace Crfs.Protocol.Framing;

/// <summary>The <c>flags</c> byte of a frame header. Wire values: frozen.</summary>
[Flags]
public enum FrameFlags : byte
{
    None = 0,

    /// <summary>The frame answers the peer's request with the same request id.</summary>
    Response = 1,

    /// <summary>
    /// The message continues in the sender's next frame, which must carry the same command,
    /// request id and response flag. A message longer than the negotiated payload limit travels
    /// as a run of consecutive frames; the receiver concatenates their payloads.
    /// </summary>
    More = 2,
}

public static class FrameFlagsInfo
{
    public const FrameFlags All = FrameFlags.Response | FrameFlags.More;
}
