// SPDX-License-Identifier: MIT
namespace Crfs.Volume;

/// <summary>
/// One copy of a mirrored block or data range was bad and another copy served the read. Raised
/// so that an operator (or, later, a scrubber) can repair it; the read itself succeeded.
/// </summary>
public sealed class BadCopyEventArgs : EventArgs
{
    public BadCopyEventArgs(string kind, ulong logical, int mirror, string fault)
    {
        Kind = kind;
        Logical = logical;
        Mirror = mirror;
        Fault = fault;
    }

    /// <summary>"tree block" or "data".</summary>
    public string Kind { get; }

    public ulong Logical { get; }

    /// <summary>The 1-based copy that was bad.</summary>
    public int Mirror { get; }

    public string Fault { get; }

    public override string ToString() => $"bad copy of {Kind} {Logical} (mirror {Mirror}): {Fault}";
}
