// SPDX-License-Identifier: MIT
using Crfs.Fuse.Abi;

namespace Crfs.Fuse;

/// <summary>
/// Who asked, and whether they still want the answer. Passed by reference to every handler; it
/// lives on the reader's stack and must not be stored.
/// </summary>
/// <remarks>
/// <see cref="CancellationToken"/> is cancelled when the kernel sends an INTERRUPT for this
/// request (the caller got a signal). A handler that waits — for a lock, the network, a slow disk
/// — should observe it and answer <see cref="Crfs.Posix.Errno.EINTR"/>; one that ignores it simply
/// answers normally and the caller still gets the real result.
/// </remarks>
public readonly struct FuseContext
{
    public FuseContext(FuseOpcode opcode, ulong unique, uint uid, uint gid, uint pid, CancellationToken cancellationToken)
    {
        Opcode = opcode;
        Unique = unique;
        Uid = uid;
        Gid = gid;
        Pid = pid;
        CancellationToken = cancellationToken;
    }

    public FuseOpcode Opcode { get; }

    /// <summary>The kernel's id of the request (for logs and correlation).</summary>
    public ulong Unique { get; }

    /// <summary>The caller's fsuid.</summary>
    public uint Uid { get; }

    /// <summary>The caller's fsgid.</summary>
    public uint Gid { get; }

    /// <summary>The calling thread's pid, 0 for requests the kernel makes on its own (writeback, RELEASE).</summary>
    public uint Pid { get; }

    public CancellationToken CancellationToken { get; }
}
