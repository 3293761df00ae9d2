// SPDX-License-Identifier: MIT
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using Crfs.Fuse.Abi;

namespace Crfs.Fuse.Tests;

/// <summary>
/// Freezes the kernel ABI: struct sizes and field offsets from fuse_kernel.h 7.45 (x86-64), and
/// the numeric values of opcodes, notify codes and INIT flags. These may only ever grow.
/// </summary>
public sealed class FuseAbiTests
{
    [Fact]
    public void StructSizes_MatchKernelHeader()
    {
        Assert.Equal(40, Check<InHeader>(InHeader.SizeOf));
        Assert.Equal(16, Check<OutHeader>(OutHeader.SizeOf));
        Assert.Equal(88, Check<Attr>(Attr.SizeOf));
        Assert.Equal(80, Check<KStatFs>(KStatFs.SizeOf));
        Assert.Equal(24, Check<FileLock>(FileLock.SizeOf));
        Assert.Equal(24, Check<Dirent>(Dirent.SizeOf));
        Assert.Equal(64, Check<InitIn>(InitIn.SizeOf));
        Assert.Equal(64, Check<InitOut>(InitOut.SizeOf));
        Assert.Equal(8, Check<ForgetIn>(ForgetIn.SizeOf));
        Assert.Equal(16, Check<ForgetOne>(ForgetOne.SizeOf));
        Assert.Equal(8, Check<BatchForgetIn>(BatchForgetIn.SizeOf));
        Assert.Equal(16, Check<GetAttrIn>(GetAttrIn.SizeOf));
        Assert.Equal(88, Check<SetAttrIn>(SetAttrIn.SizeOf));
        Assert.Equal(16, Check<MkNodIn>(MkNodIn.SizeOf));
        Assert.Equal(8, Check<MkDirIn>(MkDirIn.SizeOf));
        Assert.Equal(8, Check<RenameIn>(RenameIn.SizeOf));
        Assert.Equal(16, Check<Rename2In>(Rename2In.SizeOf));
        Assert.Equal(8, Check<LinkIn>(LinkIn.SizeOf));
        Assert.Equal(8, Check<OpenIn>(OpenIn.SizeOf));
        Assert.Equal(16, Check<CreateIn>(CreateIn.SizeOf));
        Assert.Equal(24, Check<ReleaseIn>(ReleaseIn.SizeOf));
        Assert.Equal(24, Check<FlushIn>(FlushIn.SizeOf));
        Assert.Equal(40, Check<ReadIn>(ReadIn.SizeOf));
        Assert.Equal(40, Check<WriteIn>(WriteIn.SizeOf));
        Assert.Equal(16, Check<FsyncIn>(FsyncIn.SizeOf));
        Assert.Equal(16, Check<SetXattrIn>(SetXattrIn.SizeOf));
        Assert.Equal(8, Check<GetXattrIn>(GetXattrIn.SizeOf));
        Assert.Equal(48, Check<LkIn>(LkIn.SizeOf));
        Assert.Equal(8, Check<AccessIn>(AccessIn.SizeOf));
        Assert.Equal(8, Check<InterruptIn>(InterruptIn.SizeOf));
        Assert.Equal(16, Check<BmapIn>(BmapIn.SizeOf));
        Assert.Equal(32, Check<IoctlIn>(IoctlIn.SizeOf));
        Assert.Equal(24, Check<PollIn>(PollIn.SizeOf));
        Assert.Equal(32, Check<FallocateIn>(FallocateIn.SizeOf));
        Assert.Equal(24, Check<LseekIn>(LseekIn.SizeOf));
        Assert.Equal(56, Check<CopyFileRangeIn>(CopyFileRangeIn.SizeOf));
        Assert.Equal(8, Check<SyncFsIn>(SyncFsIn.SizeOf));
        Assert.Equal(24, Check<StatxIn>(StatxIn.SizeOf));
        Assert.Equal(40, Check<NotifyRetrieveIn>(NotifyRetrieveIn.SizeOf));
        Assert.Equal(128, Check<EntryOut>(EntryOut.SizeOf));
        Assert.Equal(104, Check<AttrOut>(AttrOut.SizeOf));
        Assert.Equal(16, Check<OpenOut>(OpenOut.SizeOf));
        Assert.Equal(8, Check<WriteOut>(WriteOut.SizeOf));
        Assert.Equal(8, Check<GetXattrOut>(GetXattrOut.SizeOf));
        Assert.Equal(24, Check<LkOut>(LkOut.SizeOf));
        Assert.Equal(8, Check<BmapOut>(BmapOut.SizeOf));
        Assert.Equal(8, Check<PollOut>(PollOut.SizeOf));
        Assert.Equal(8, Check<LseekOut>(LseekOut.SizeOf));
        Assert.Equal(8, Check<CopyFileRangeOut>(CopyFileRangeOut.SizeOf));
        Assert.Equal(8, Check<NotifyPollWakeupOut>(NotifyPollWakeupOut.SizeOf));
        Assert.Equal(24, Check<NotifyInvalInodeOut>(NotifyInvalInodeOut.SizeOf));
        Assert.Equal(16, Check<NotifyInvalEntryOut>(NotifyInvalEntryOut.SizeOf));
        Assert.Equal(24, Check<NotifyDeleteOut>(NotifyDeleteOut.SizeOf));
        Assert.Equal(24, Check<NotifyStoreOut>(NotifyStoreOut.SizeOf));
        Assert.Equal(32, Check<NotifyRetrieveOut>(NotifyRetrieveOut.SizeOf));
        Assert.Equal(16, Check<NotifyPruneOut>(NotifyPruneOut.SizeOf));
    }

    [Fact]
    public void FieldOffsets_MatchKernelHeader()
    {
        Assert.Equal(36, Offset<InHeader>(nameof(InHeader.TotalExtLen)));
        Assert.Equal(8, Offset<OutHeader>(nameof(OutHeader.Unique)));
        Assert.Equal(60, Offset<Attr>(nameof(Attr.Mode)));
        Assert.Equal(80, Offset<Attr>(nameof(Attr.BlkSize)));
        Assert.Equal(40, Offset<EntryOut>(nameof(EntryOut.Attr)));
        Assert.Equal(16, Offset<AttrOut>(nameof(AttrOut.Attr)));
        Assert.Equal(68, Offset<SetAttrIn>(nameof(SetAttrIn.Mode)));
        Assert.Equal(76, Offset<SetAttrIn>(nameof(SetAttrIn.Uid)));
        Assert.Equal(16, Offset<InitIn>(nameof(InitIn.Flags2)));
        Assert.Equal(16, Offset<InitOut>(nameof(InitOut.MaxBackground)));
        Assert.Equal(20, Offset<InitOut>(nameof(InitOut.MaxWrite)));
        Assert.Equal(28, Offset<InitOut>(nameof(InitOut.MaxPages)));
        Assert.Equal(32, Offset<InitOut>(nameof(InitOut.Flags2)));
        Assert.Equal(36, Offset<InitOut>(nameof(InitOut.MaxStackDepth)));
        Assert.Equal(40, Offset<InitOut>(nameof(InitOut.RequestTimeout)));
        Assert.Equal(16, Offset<LkIn>(nameof(LkIn.Lk)));
        Assert.Equal(40, Offset<LkIn>(nameof(LkIn.LkFlags)));
        Assert.Equal(12, Offset<OpenOut>(nameof(OpenOut.BackingId)));
        Assert.Equal(16, Offset<ReadIn>(nameof(ReadIn.Size)));
        Assert.Equal(16, Offset<CopyFileRangeIn>(nameof(CopyFileRangeIn.NodeIdOut)));
    }

    [Fact]
    public void OpcodeValues_AreTheKernels()
    {
        (FuseOpcode Opcode, uint Value)[] expected =
        [
            (FuseOpcode.Lookup, 1), (FuseOpcode.Forget, 2), (FuseOpcode.GetAttr, 3), (FuseOpcode.SetAttr, 4),
            (FuseOpcode.ReadLink, 5), (FuseOpcode.SymLink, 6), (FuseOpcode.MkNod, 8), (FuseOpcode.MkDir, 9),
            (FuseOpcode.Unlink, 10), (FuseOpcode.RmDir, 11), (FuseOpcode.Rename, 12), (FuseOpcode.Link, 13),
            (FuseOpcode.Open, 14), (FuseOpcode.Read, 15), (FuseOpcode.Write, 16), (FuseOpcode.StatFs, 17),
            (FuseOpcode.Release, 18), (FuseOpcode.Fsync, 20), (FuseOpcode.SetXattr, 21), (FuseOpcode.GetXattr, 22),
            (FuseOpcode.ListXattr, 23), (FuseOpcode.RemoveXattr, 24), (FuseOpcode.Flush, 25), (FuseOpcode.Init, 26),
            (FuseOpcode.OpenDir, 27), (FuseOpcode.ReadDir, 28), (FuseOpcode.ReleaseDir, 29), (FuseOpcode.FsyncDir, 30),
            (FuseOpcode.GetLk, 31), (FuseOpcode.SetLk, 32), (FuseOpcode.SetLkW, 33), (FuseOpcode.Access, 34),
            (FuseOpcode.Create, 35), (FuseOpcode.Interrupt, 36), (FuseOpcode.Bmap, 37), (FuseOpcode.Destroy, 38),
            (FuseOpcode.Ioctl, 39), (FuseOpcode.Poll, 40), (FuseOpcode.NotifyReply, 41), (FuseOpcode.BatchForget, 42),
            (FuseOpcode.Fallocate, 43), (FuseOpcode.ReadDirPlus, 44), (FuseOpcode.Rename2, 45), (FuseOpcode.Lseek, 46),
            (FuseOpcode.CopyFileRange, 47), (FuseOpcode.SetupMapping, 48), (FuseOpcode.RemoveMapping, 49),
            (FuseOpcode.SyncFs, 50), (FuseOpcode.TmpFile, 51), (FuseOpcode.Statx, 52), (FuseOpcode.CopyFileRange64, 53),
        ];
        foreach ((FuseOpcode opcode, uint value) in expected)
        {
            Assert.Equal(value, (uint)opcode);
        }

        Assert.Equal(expected.Length, Enum.GetValues<FuseOpcode>().Length);
    }

    [Fact]
    public void NotifyCodesAndInitFlags_AreTheKernels()
    {
        Assert.Equal([1, 2, 3, 4, 5, 6, 7, 8, 9], Enum.GetValues<FuseNotifyCode>().Select(c => (int)c));
        Assert.Equal(1UL << 18, (ulong)FuseInitFlags.ParallelDirOps);
        Assert.Equal(1UL << 22, (ulong)FuseInitFlags.MaxPages);
        Assert.Equal(1UL << 28, (ulong)FuseInitFlags.HandleKillPrivV2);
        Assert.Equal(1UL << 30, (ulong)FuseInitFlags.InitExt);
        Assert.Equal(1UL << 35, (ulong)FuseInitFlags.HasExpireOnly);
        Assert.Equal(1UL << 41, (ulong)FuseInitFlags.OverIoUring);
        Assert.Equal(1UL << 42, (ulong)FuseInitFlags.RequestTimeout);
        Assert.Equal(128u, (uint)FuseOpenOptions.Passthrough);
        Assert.Equal(2048u, (uint)SetAttrFields.KillSuidGid);
    }

    private static int Check<T>(int declared)
        where T : unmanaged
    {
        Assert.Equal(declared, Unsafe.SizeOf<T>());
        Assert.Equal(declared, Marshal.SizeOf<T>());
        return declared;
    }

    private static int Offset<T>(string field) => (int)Marshal.OffsetOf<T>(field);
}
