// SPDX-License-Identifier: MIT
namespace Crfs.Protocol;

/// <summary>Settings of a <see cref="CrfsConnection"/>.</summary>
public sealed class CrfsConnectionOptions
{
    public static readonly CrfsConnectionOptions Default = new();

    /// <summary>
    /// The largest frame payload this end accepts, advertised in HELLO. Each side sends frames no
    /// larger than the smaller advertised limit and splits longer messages with the More flag.
    /// Default 4 MiB; must lie in [64 KiB, 16 MiB].
    /// </summary>
    public int MaxPayload { get; init; } = WireFormat.DefaultMaxPayload;

    /// <summary>The largest message (all frames of a More run together) this end accepts or sends. Default 64 MiB.</summary>
    public int MaxMessageLength { get; init; } = WireFormat.DefaultMaxMessageLength;

    /// <summary>
    /// When false (the default), losing the transport closes the connection and fails every
    /// request in flight. When true, the connection only detaches: requests stay pending, sent
    /// frames stay retained, and the owner may attach a new transport (the HELLO mode decides
    /// between resending and restarting the stream) or call <see cref="CrfsConnection.Close"/>.
    /// Sessions that survive reconnects (Crfs.Client, Crfs.Server) turn this on.
    /// </summary>
    public bool ResumeAcrossTransports { get; init; }

    internal void Validate()
    {
        if (MaxPayload is < WireFormat.MinMaxPayload or > WireFormat.HardMaxPayload)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxPayload), MaxPayload, $"must lie in [{WireFormat.MinMaxPayload}, {WireFormat.HardMaxPayload}]");
        }

        if (MaxMessageLength < MaxPayload)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxMessageLength), MaxMessageLength, $"must be at least MaxPayload ({MaxPayload})");
        }
    }
}
