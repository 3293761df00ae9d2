// SPDX-License-Identifier: MIT
namespace Crfs.Posix;

/// <summary>
/// <c>open(2)</c> flags that have the same value on x86-64 and aarch64 Linux. O_DIRECT,
/// O_DIRECTORY, O_NOFOLLOW and O_LARGEFILE differ between the two and are deliberately absent:
/// test them through the platform's own constants if ever needed.
/// </summary>
[Flags]
public enum OpenFlags
{
    ReadOnly = 0,
    WriteOnly = 0x1,
    ReadWrite = 0x2,

    /// <summary><c>O_ACCMODE</c>: mask of the access mode (ReadOnly, WriteOnly, ReadWrite).</summary>
    AccessModeMask = 0x3,
    Create = 0x40,
    Exclusive = 0x80,
    NoControllingTty = 0x100,
    Truncate = 0x200,
    Append = 0x400,
    NonBlocking = 0x800,
    DataSync = 0x1000,
    NoAccessTime = 0x40000,
    CloseOnExec = 0x80000,
    Sync = 0x101000,
    Path = 0x200000,
}
