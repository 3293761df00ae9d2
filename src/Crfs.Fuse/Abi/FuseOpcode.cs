// SPDX-License-Identifier: MIT
namespace Crfs.Fuse.Abi;

/// <summary>
/// Request opcodes of the FUSE kernel protocol (<c>enum fuse_opcode</c>), with the protocol minor
/// version that introduced each one where it is later than 7.12. Values are the kernel's; the
/// stability test freezes them.
/// </summary>
public enum FuseOpcode : uint
{
    Lookup = 1,

    /// <summary>No reply.</summary>
    Forget = 2,
    GetAttr = 3,
    SetAttr = 4,
    ReadLink = 5,
    SymLink = 6,
    MkNod = 8,
    MkDir = 9,
    Unlink = 10,
    RmDir = 11,
    Rename = 12,
    Link = 13,
    Open = 14,
    Read = 15,
    Write = 16,
    StatFs = 17,
    Release = 18,
    Fsync = 20,
    SetXattr = 21,
    GetXattr = 22,
    ListXattr = 23,
    RemoveXattr = 24,
    Flush = 25,
    Init = 26,
    OpenDir = 27,
    ReadDir = 28,
    ReleaseDir = 29,
    FsyncDir = 30,
    GetLk = 31,
    SetLk = 32,
    SetLkW = 33,
    Access = 34,
    Create = 35,

    /// <summary>Normally no reply; see the dispatcher's interrupt handling.</summary>
    Interrupt = 36,
    Bmap = 37,
    Destroy = 38,
    Ioctl = 39,
    Poll = 40,

    /// <summary>7.15. The kernel's answer to a NOTIFY_RETRIEVE; no reply.</summary>
    NotifyReply = 41,

    /// <summary>7.16. No reply.</summary>
    BatchForget = 42,

    /// <summary>7.19.</summary>
    Fallocate = 43,

    /// <summary>7.21.</summary>
    ReadDirPlus = 44,

    /// <summary>7.23.</summary>
    Rename2 = 45,

    /// <summary>7.24.</summary>
    Lseek = 46,

    /// <summary>7.28.</summary>
    CopyFileRange = 47,

    /// <summary>7.31, virtiofs DAX only.</summary>
    SetupMapping = 48,

    /// <summary>7.31, virtiofs DAX only.</summary>
    RemoveMapping = 49,

    /// <summary>7.34.</summary>
    SyncFs = 50,

    /// <summary>7.37.</summary>
    TmpFile = 51,

    /// <summary>7.39.</summary>
    Statx = 52,

    /// <summary>7.45.</summary>
    CopyFileRange64 = 53,
}

/// <summary>
/// Codes of unsolicited daemon-to-kernel messages (<c>enum fuse_notify_code</c>). They travel in
/// <see cref="OutHeader.Error"/> as positive numbers with <see cref="OutHeader.Unique"/> = 0.
/// </summary>
public enum FuseNotifyCode
{
    Poll = 1,
    InvalInode = 2,
    InvalEntry = 3,

    /// <summary>7.15.</summary>
    Store = 4,

    /// <summary>7.15.</summary>
    Retrieve = 5,

    /// <summary>7.18.</summary>
    Delete = 6,

    /// <summary>7.40, needs <see cref="FuseInitFlags.HasResend"/>.</summary>
    Resend = 7,

    /// <summary>7.44.</summary>
    IncEpoch = 8,

    /// <summary>7.45.</summary>
    Prune = 9,
}
