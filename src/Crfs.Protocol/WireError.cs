// SPDX-License-Identifier: MIT
namespace Crfs.Protocol;

/// <summary>
/// The status byte of a response frame. The wire does not carry host errno numbers: they differ
/// between architectures and kernels, so the protocol has its own small, stable error space and
/// <see cref="WireErrors"/> maps it to and from <see cref="Crfs.Posix.Errno"/> at the edges
/// (scoutfs does the same). Wire values: frozen; new errors are appended.
/// </summary>
public enum WireError : byte
{
    Ok = 0,
    NotFound = 1,
    Exists = 2,
    NoSpace = 3,
    Io = 4,
    Stale = 5,
    Access = 6,
    Permission = 7,
    NotEmpty = 8,
    NotDir = 9,
    IsDir = 10,
    CrossDevice = 11,
    NameTooLong = 12,
    Loop = 13,
    Invalid = 14,
    Busy = 15,
    Again = 16,
    TimedOut = 17,

    /// <summary>The server evicted the session; nothing it had not acknowledged was applied.</summary>
    Evicted = 18,

    /// <summary>The request was well framed but broke a protocol rule (a gap in an op_seq stream, a version mismatch).</summary>
    ProtocolError = 19,
    ReadOnly = 20,
    FileTooBig = 21,
    TooManyLinks = 22,
    NoData = 23,
    Range = 24,
    NotSupported = 25,
    Overflow = 26,
    Deadlock = 27,
    NoLocks = 28,
    QuotaExceeded = 29,
    BadHandle = 30,
    TextBusy = 31,
    NoMemory = 32,
    NotImplemented = 33,
    Interrupted = 34,
    Canceled = 35,
    TooBig = 36,
}
