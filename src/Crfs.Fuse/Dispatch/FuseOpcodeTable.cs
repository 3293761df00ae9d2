// SPDX-License-Identifier: MIT
using Crfs.Fuse.Abi;

namespace Crfs.Fuse;

/// <summary>
/// Per-opcode facts the boundary checks need: the size of the fixed struct that opens the body
/// (the kernel's <c>in_args[0]</c>, which is also what io_uring puts in the op_in area) and
/// whether the kernel waits for a reply.
/// </summary>
internal static class FuseOpcodeTable
{
    /// <summary>
    /// The fixed body size for <paramref name="opcode"/> at the negotiated connection, or -1 for
    /// an opcode this library does not know. Names and data follow the fixed part.
    /// </summary>
    public static int FixedBodySize(FuseOpcode opcode, bool setXattrExt) => opcode switch
    {
        FuseOpcode.Lookup or FuseOpcode.ReadLink or FuseOpcode.SymLink or FuseOpcode.Unlink or FuseOpcode.RmDir
            or FuseOpcode.StatFs or FuseOpcode.RemoveXattr or FuseOpcode.Destroy => 0,
        FuseOpcode.Forget => ForgetIn.SizeOf,
        FuseOpcode.GetAttr => GetAttrIn.SizeOf,
        FuseOpcode.SetAttr => SetAttrIn.SizeOf,
        FuseOpcode.MkNod => MkNodIn.SizeOf,
        FuseOpcode.MkDir => MkDirIn.SizeOf,
        FuseOpcode.Rename => RenameIn.SizeOf,
        FuseOpcode.Link => LinkIn.SizeOf,
        FuseOpcode.Open or FuseOpcode.OpenDir => OpenIn.SizeOf,
        FuseOpcode.Read or FuseOpcode.ReadDir or FuseOpcode.ReadDirPlus => ReadIn.SizeOf,
        FuseOpcode.Write => WriteIn.SizeOf,
        FuseOpcode.Release or FuseOpcode.ReleaseDir => ReleaseIn.SizeOf,
        FuseOpcode.Fsync or FuseOpcode.FsyncDir => FsyncIn.SizeOf,
        FuseOpcode.SetXattr => setXattrExt ? SetXattrIn.SizeOf : SetXattrIn.CompatSizeOf,
        FuseOpcode.GetXattr or FuseOpcode.ListXattr => GetXattrIn.SizeOf,
        FuseOpcode.Flush => FlushIn.SizeOf,

        // major + minor; the rest depends on the kernel's minor and is read with care.
        FuseOpcode.Init => 8,
        FuseOpcode.GetLk or FuseOpcode.SetLk or FuseOpcode.SetLkW => LkIn.SizeOf,
        FuseOpcode.Access => AccessIn.SizeOf,
        FuseOpcode.Create or FuseOpcode.TmpFile => CreateIn.SizeOf,
        FuseOpcode.Interrupt => InterruptIn.SizeOf,
        FuseOpcode.Bmap => BmapIn.SizeOf,
        FuseOpcode.Ioctl => IoctlIn.SizeOf,
        FuseOpcode.Poll => PollIn.SizeOf,
        FuseOpcode.NotifyReply => NotifyRetrieveIn.SizeOf,
        FuseOpcode.BatchForget => BatchForgetIn.SizeOf,
        FuseOpcode.Fallocate => FallocateIn.SizeOf,
        FuseOpcode.Rename2 => Rename2In.SizeOf,
        FuseOpcode.Lseek => LseekIn.SizeOf,
        FuseOpcode.CopyFileRange or FuseOpcode.CopyFileRange64 => CopyFileRangeIn.SizeOf,
        FuseOpcode.SyncFs => SyncFsIn.SizeOf,
        FuseOpcode.Statx => StatxIn.SizeOf,
        _ => -1,
    };

    /// <summary>FORGET, BATCH_FORGET and NOTIFY_REPLY never get a reply; INTERRUPT only in special cases.</summary>
    public static bool IsNoReply(FuseOpcode opcode) =>
        opcode is FuseOpcode.Forget or FuseOpcode.BatchForget or FuseOpcode.NotifyReply or FuseOpcode.Interrupt;
}
