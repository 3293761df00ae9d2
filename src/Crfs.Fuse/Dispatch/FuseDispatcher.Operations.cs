// SPDX-License-Identifier: MIT
using System.Runtime.InteropServices;
using Crfs.Fuse.Abi;
using Crfs.Posix;

namespace Crfs.Fuse;

// One method per opcode: parse the body (the fixed struct is known to be present), call the file
// system, encode the reply in place. Each returns the reply length (0 = no reply).
public sealed partial class FuseDispatcher
{
    private int DispatchOperation(in InHeader h, ReadOnlySpan<byte> body, Span<byte> reply, in FuseContext context)
    {
        switch (h.Opcode)
        {
            case FuseOpcode.Lookup:
                {
                    if (!TryTakeName(ref body, out ReadOnlySpan<byte> name))
                    {
                        return Malformed(h, (int)h.Len, "LOOKUP name not NUL-terminated", reply);
                    }

                    Errno e = _fs.Lookup(context, h.NodeId, name, out FuseEntry entry);
                    return Failed(h, e, reply, out int n) ? n : ReplyEntry(h, entry, reply, negativeAllowed: true);
                }

            case FuseOpcode.GetAttr:
                {
                    GetAttrIn arg = MemoryMarshal.Read<GetAttrIn>(body);
                    ulong? fh = (arg.GetAttrFlags & GetAttrIn.FlagFh) != 0 ? arg.Fh : null;
                    Errno e = _fs.GetAttr(context, h.NodeId, fh, out FuseAttrReply attr);
                    return Failed(h, e, reply, out int n) ? n : ReplyOk(h.Unique, FuseReplyEncoding.ToAttrOut(attr), reply);
                }

            case FuseOpcode.SetAttr:
                {
                    SetAttrIn arg = MemoryMarshal.Read<SetAttrIn>(body);
                    var changes = new FuseSetAttr
                    {
                        Valid = (SetAttrFields)arg.Valid,
                        FileHandle = arg.Fh,
                        Size = arg.Size,
                        LockOwner = arg.LockOwner,
                        Atime = new Timespec((long)arg.Atime, arg.AtimeNsec),
                        Mtime = new Timespec((long)arg.Mtime, arg.MtimeNsec),
                        Ctime = new Timespec((long)arg.Ctime, arg.CtimeNsec),
                        Mode = arg.Mode,
                        Uid = arg.Uid,
                        Gid = arg.Gid,
                    };
                    Errno e = _fs.SetAttr(context, h.NodeId, changes, out FuseAttrReply attr);
                    return Failed(h, e, reply, out int n) ? n : ReplyOk(h.Unique, FuseReplyEncoding.ToAttrOut(attr), reply);
                }

            case FuseOpcode.ReadLink:
                {
                    Span<byte> target = reply[ReplyBody..];
                    Errno e = _fs.ReadLink(context, h.NodeId, target, out int length);
                    if (Failed(h, e, reply, out int n))
                    {
                        return n;
                    }

                    return (uint)length > (uint)target.Length ? ReplyTooLarge(h, reply) : ReplyOk(h.Unique, length, reply);
                }

            case FuseOpcode.SymLink:
                {
                    if (!TryTakeName(ref body, out ReadOnlySpan<byte> name) || !TryTakeName(ref body, out ReadOnlySpan<byte> target))
                    {
                        return Malformed(h, (int)h.Len, "SYMLINK names not NUL-terminated", reply);
                    }

                    Errno e = _fs.SymLink(context, h.NodeId, name, target, out FuseEntry entry);
                    return Failed(h, e, reply, out int n) ? n : ReplyEntry(h, entry, reply, negativeAllowed: false);
                }

            case FuseOpcode.MkNod:
                {
                    MkNodIn arg = MemoryMarshal.Read<MkNodIn>(body);
                    ReadOnlySpan<byte> rest = body[MkNodIn.SizeOf..];
                    if (!TryTakeName(ref rest, out ReadOnlySpan<byte> name))
                    {
                        return Malformed(h, (int)h.Len, "MKNOD name not NUL-terminated", reply);
                    }

                    Errno e = _fs.MkNod(context, h.NodeId, name, arg.Mode, arg.Rdev, arg.Umask, out FuseEntry entry);
                    return Failed(h, e, reply, out int n) ? n : ReplyEntry(h, entry, reply, negativeAllowed: false);
                }

            case FuseOpcode.MkDir:
                {
                    MkDirIn arg = MemoryMarshal.Read<MkDirIn>(body);
                    ReadOnlySpan<byte> rest = body[MkDirIn.SizeOf..];
                    if (!TryTakeName(ref rest, out ReadOnlySpan<byte> name))
                    {
                        return Malformed(h, (int)h.Len, "MKDIR name not NUL-terminated", reply);
                    }

                    // The kernel sends the mode without the type bits; the file system should not have to add them.
                    uint mode = (arg.Mode & ~ModeBits.TypeMask) | (uint)FileType.Directory;
                    Errno e = _fs.MkDir(context, h.NodeId, name, mode, arg.Umask, out FuseEntry entry);
                    return Failed(h, e, reply, out int n) ? n : ReplyEntry(h, entry, reply, negativeAllowed: false);
                }

            case FuseOpcode.Unlink:
            case FuseOpcode.RmDir:
                {
                    if (!TryTakeName(ref body, out ReadOnlySpan<byte> name))
                    {
                        return Malformed(h, (int)h.Len, "name not NUL-terminated", reply);
                    }

                    Errno e = h.Opcode == FuseOpcode.Unlink ? _fs.Unlink(context, h.NodeId, name) : _fs.RmDir(context, h.NodeId, name);
                    return Failed(h, e, reply, out int n) ? n : ReplyOk(h.Unique, 0, reply);
                }

            case FuseOpcode.Rename:
            case FuseOpcode.Rename2:
                {
                    ulong newDir;
                    RenameFlags flags = RenameFlags.None;
                    ReadOnlySpan<byte> rest;
                    if (h.Opcode == FuseOpcode.Rename)
                    {
                        newDir = MemoryMarshal.Read<RenameIn>(body).NewDir;
                        rest = body[RenameIn.SizeOf..];
                    }
                    else
                    {
                        Rename2In arg = MemoryMarshal.Read<Rename2In>(body);
                        newDir = arg.NewDir;
                        flags = (RenameFlags)arg.Flags;
                        rest = body[Rename2In.SizeOf..];
                    }

                    if (!TryTakeName(ref rest, out ReadOnlySpan<byte> oldName) || !TryTakeName(ref rest, out ReadOnlySpan<byte> newName))
                    {
                        return Malformed(h, (int)h.Len, "RENAME names not NUL-terminated", reply);
                    }

                    Errno e = _fs.Rename(context, h.NodeId, oldName, newDir, newName, flags);
                    return Failed(h, e, reply, out int n) ? n : ReplyOk(h.Unique, 0, reply);
                }

            case FuseOpcode.Link:
                {
                    LinkIn arg = MemoryMarshal.Read<LinkIn>(body);
                    ReadOnlySpan<byte> rest = body[LinkIn.SizeOf..];
                    if (!TryTakeName(ref rest, out ReadOnlySpan<byte> name))
                    {
                        return Malformed(h, (int)h.Len, "LINK name not NUL-terminated", reply);
                    }

                    // The header's node is the new parent; the link target travels in link_in.
                    Errno e = _fs.Link(context, arg.OldNodeId, h.NodeId, name, out FuseEntry entry);
                    return Failed(h, e, reply, out int n) ? n : ReplyEntry(h, entry, reply, negativeAllowed: false);
                }

            case FuseOpcode.Open:
                {
                    OpenIn arg = MemoryMarshal.Read<OpenIn>(body);
                    bool kill = (arg.OpenFlags & OpenIn.OpenKillSuidGid) != 0;
                    Errno e = _fs.Open(context, h.NodeId, (OpenFlags)arg.Flags, kill, out FuseOpenReply open);
                    return Failed(h, e, reply, out int n) ? n : ReplyOk(h.Unique, ToOpenOut(open), reply);
                }

            case FuseOpcode.OpenDir:
                {
                    OpenIn arg = MemoryMarshal.Read<OpenIn>(body);
                    Errno e = _fs.OpenDir(context, h.NodeId, (OpenFlags)arg.Flags, out FuseOpenReply open);
                    return Failed(h, e, reply, out int n) ? n : ReplyOk(h.Unique, ToOpenOut(open), reply);
                }

            case FuseOpcode.Read:
                {
                    ReadIn arg = MemoryMarshal.Read<ReadIn>(body);
                    Span<byte> buffer = reply.Slice(ReplyBody, (int)Math.Min(arg.Size, (uint)(reply.Length - ReplyBody)));
                    Errno e = _fs.Read(context, h.NodeId, arg.Fh, (long)arg.Offset, buffer, out int bytesRead);
                    if (Failed(h, e, reply, out int n))
                    {
                        return n;
                    }

                    return (uint)bytesRead > (uint)buffer.Length ? ReplyTooLarge(h, reply) : ReplyOk(h.Unique, bytesRead, reply);
                }

            case FuseOpcode.Write:
                {
                    WriteIn arg = MemoryMarshal.Read<WriteIn>(body);
                    ReadOnlySpan<byte> data = body[WriteIn.SizeOf..];
                    if (data.Length != arg.Size)
                    {
                        return Malformed(h, (int)h.Len, $"WRITE of {arg.Size} bytes carries {data.Length}", reply);
                    }

                    Errno e = _fs.Write(context, h.NodeId, arg.Fh, (long)arg.Offset, data, (FuseWriteFlags)arg.WriteFlags, out int written);
                    if (Failed(h, e, reply, out int n))
                    {
                        return n;
                    }

                    return (uint)written > arg.Size ? ReplyTooLarge(h, reply) : ReplyOk(h.Unique, new WriteOut { Size = (uint)written }, reply);
                }

            case FuseOpcode.StatFs:
                {
                    Errno e = _fs.StatFs(context, h.NodeId, out FuseStatFs s);
                    if (Failed(h, e, reply, out int n))
                    {
                        return n;
                    }

                    var k = new KStatFs
                    {
                        Blocks = s.Blocks,
                        BFree = s.FreeBlocks,
                        BAvail = s.AvailableBlocks,
                        Files = s.Files,
                        FFree = s.FreeFiles,
                        BSize = s.BlockSize,
                        NameLen = s.MaxNameLength,
                        FrSize = s.FragmentSize,
                    };
                    return ReplyOk(h.Unique, k, reply);
                }

            case FuseOpcode.Release:
                {
                    ReleaseIn arg = MemoryMarshal.Read<ReleaseIn>(body);
                    var releaseFlags = (FuseReleaseFlags)arg.ReleaseFlags;
                    if ((releaseFlags & FuseReleaseFlags.FlockUnlock) != 0 && (_implemented & Implemented.Flock) != 0)
                    {
                        _fs.Flock(context, h.NodeId, arg.Fh, arg.LockOwner, FuseLockType.Unlock, wait: false);
                    }

                    Errno e = _fs.Release(context, h.NodeId, arg.Fh, (OpenFlags)arg.Flags, releaseFlags, arg.LockOwner);

                    // The kernel ignores RELEASE errors (the file is closed regardless); ENOSYS included.
                    return e == Errno.ENOSYS ? ReplyOk(h.Unique, 0, reply) : Failed(h, e, reply, out int n) ? n : ReplyOk(h.Unique, 0, reply);
                }

            case FuseOpcode.ReleaseDir:
                {
                    ReleaseIn arg = MemoryMarshal.Read<ReleaseIn>(body);
                    Errno e = _fs.ReleaseDir(context, h.NodeId, arg.Fh);
                    return e == Errno.ENOSYS ? ReplyOk(h.Unique, 0, reply) : Failed(h, e, reply, out int n) ? n : ReplyOk(h.Unique, 0, reply);
                }

            case FuseOpcode.Fsync:
            case FuseOpcode.FsyncDir:
                {
                    FsyncIn arg = MemoryMarshal.Read<FsyncIn>(body);
                    bool dataOnly = (arg.FsyncFlags & 1) != 0;
                    Errno e = h.Opcode == FuseOpcode.Fsync
                        ? _fs.Fsync(context, h.NodeId, arg.Fh, dataOnly)
                        : _fs.FsyncDir(context, h.NodeId, arg.Fh, dataOnly);
                    return Failed(h, e, reply, out int n) ? n : ReplyOk(h.Unique, 0, reply);
                }

            case FuseOpcode.Flush:
                {
                    FlushIn arg = MemoryMarshal.Read<FlushIn>(body);

                    // With POSIX_LOCKS the kernel keeps no lock of its own, so close(2) releasing the
                    // owner's locks is this request's job. Do it for the file system, and never let
                    // FLUSH go ENOSYS then: the kernel would stop sending it and locks would leak.
                    if ((_implemented & Implemented.SetLk) != 0)
                    {
                        var all = new FuseFileLock { Start = 0, End = long.MaxValue, Type = FuseLockType.Unlock, Pid = h.Pid };
                        _fs.SetLk(context, h.NodeId, arg.Fh, arg.LockOwner, all, wait: false);
                        if ((_implemented & Implemented.Flush) == 0)
                        {
                            return ReplyOk(h.Unique, 0, reply);
                        }
                    }

                    Errno e = _fs.Flush(context, h.NodeId, arg.Fh, arg.LockOwner);
                    return Failed(h, e, reply, out int n) ? n : ReplyOk(h.Unique, 0, reply);
                }

            case FuseOpcode.SetXattr:
                {
                    int fixedSize = _setXattrExt ? SetXattrIn.SizeOf : SetXattrIn.CompatSizeOf;
                    uint size = MemoryMarshal.Read<uint>(body);
                    var flags = (XattrFlags)MemoryMarshal.Read<uint>(body[4..]);
                    ReadOnlySpan<byte> rest = body[fixedSize..];
                    if (!TryTakeName(ref rest, out ReadOnlySpan<byte> name) || rest.Length != size)
                    {
                        return Malformed(h, (int)h.Len, "SETXATTR name or value length inconsistent", reply);
                    }

                    Errno e = _fs.SetXattr(context, h.NodeId, name, rest, flags);
                    return Failed(h, e, reply, out int n) ? n : ReplyOk(h.Unique, 0, reply);
                }

            case FuseOpcode.GetXattr:
            case FuseOpcode.ListXattr:
                {
                    GetXattrIn arg = MemoryMarshal.Read<GetXattrIn>(body);
                    ReadOnlySpan<byte> name = default;
                    ReadOnlySpan<byte> rest = body[GetXattrIn.SizeOf..];
                    if (h.Opcode == FuseOpcode.GetXattr)
                    {
                        if (!TryTakeName(ref rest, out name))
                        {
                            return Malformed(h, (int)h.Len, "GETXATTR name not NUL-terminated", reply);
                        }
                    }

                    // A size-0 request asks only for the length: the handler gets no room to copy into.
                    Span<byte> value = reply.Slice(ReplyBody, (int)Math.Min(arg.Size, (uint)(reply.Length - ReplyBody)));
                    int length;
                    Errno e = h.Opcode == FuseOpcode.GetXattr
                        ? _fs.GetXattr(context, h.NodeId, name, value, out length)
                        : _fs.ListXattr(context, h.NodeId, value, out length);
                    if (Failed(h, e, reply, out int n))
                    {
                        return n;
                    }

                    if (length < 0)
                    {
                        return ReplyTooLarge(h, reply);
                    }

                    if (arg.Size == 0)
                    {
                        return ReplyOk(h.Unique, new GetXattrOut { Size = (uint)length }, reply);
                    }

                    return length > value.Length ? ReplyError(h.Unique, Errno.ERANGE, reply) : ReplyOk(h.Unique, length, reply);
                }

            case FuseOpcode.RemoveXattr:
                {
                    if (!TryTakeName(ref body, out ReadOnlySpan<byte> name))
                    {
                        return Malformed(h, (int)h.Len, "REMOVEXATTR name not NUL-terminated", reply);
                    }

                    Errno e = _fs.RemoveXattr(context, h.NodeId, name);
                    return Failed(h, e, reply, out int n) ? n : ReplyOk(h.Unique, 0, reply);
                }

            case FuseOpcode.ReadDir:
                {
                    ReadIn arg = MemoryMarshal.Read<ReadIn>(body);
                    var writer = new FuseDirectoryWriter(reply.Slice(ReplyBody, (int)Math.Min(arg.Size, (uint)(reply.Length - ReplyBody))));
                    Errno e = _fs.ReadDir(context, h.NodeId, arg.Fh, arg.Offset, ref writer);
                    return Failed(h, e, reply, out int n) ? n : ReplyOk(h.Unique, writer.Length, reply);
                }

            case FuseOpcode.ReadDirPlus:
                {
                    ReadIn arg = MemoryMarshal.Read<ReadIn>(body);
                    var writer = new FuseDirectoryPlusWriter(reply.Slice(ReplyBody, (int)Math.Min(arg.Size, (uint)(reply.Length - ReplyBody))));
                    Errno e = _fs.ReadDirPlus(context, h.NodeId, arg.Fh, arg.Offset, ref writer);
                    return Failed(h, e, reply, out int n) ? n : ReplyOk(h.Unique, writer.Length, reply);
                }

            case FuseOpcode.GetLk:
                {
                    LkIn arg = MemoryMarshal.Read<LkIn>(body);
                    Errno e = _fs.GetLk(context, h.NodeId, arg.Fh, arg.Owner, ToLock(arg.Lk), out FuseFileLock conflict);
                    if (Failed(h, e, reply, out int n))
                    {
                        return n;
                    }

                    var lk = new FileLock { Start = (ulong)conflict.Start, End = (ulong)conflict.End, Type = (uint)conflict.Type, Pid = conflict.Pid };
                    return ReplyOk(h.Unique, new LkOut { Lk = lk }, reply);
                }

            case FuseOpcode.SetLk:
            case FuseOpcode.SetLkW:
                {
                    LkIn arg = MemoryMarshal.Read<LkIn>(body);
                    bool wait = h.Opcode == FuseOpcode.SetLkW;
                    FuseFileLock lk = ToLock(arg.Lk);
                    Errno e = (arg.LkFlags & LkIn.FlagFlock) != 0
                        ? _fs.Flock(context, h.NodeId, arg.Fh, arg.Owner, lk.Type, wait)
                        : _fs.SetLk(context, h.NodeId, arg.Fh, arg.Owner, lk, wait);
                    return Failed(h, e, reply, out int n) ? n : ReplyOk(h.Unique, 0, reply);
                }

            case FuseOpcode.Access:
                {
                    AccessIn arg = MemoryMarshal.Read<AccessIn>(body);
                    Errno e = _fs.Access(context, h.NodeId, arg.Mask);
                    return Failed(h, e, reply, out int n) ? n : ReplyOk(h.Unique, 0, reply);
                }

            case FuseOpcode.Create:
            case FuseOpcode.TmpFile:
                {
                    CreateIn arg = MemoryMarshal.Read<CreateIn>(body);
                    ReadOnlySpan<byte> rest = body[CreateIn.SizeOf..];
                    bool isTmp = h.Opcode == FuseOpcode.TmpFile;
                    if (!TryTakeName(ref rest, out ReadOnlySpan<byte> name, allowEmpty: isTmp))
                    {
                        return Malformed(h, (int)h.Len, "CREATE name not NUL-terminated", reply);
                    }

                    Errno e = isTmp
                        ? _fs.TmpFile(context, h.NodeId, arg.Mode, arg.Umask, (OpenFlags)arg.Flags, out FuseEntry entry, out FuseOpenReply open)
                        : _fs.Create(context, h.NodeId, name, arg.Mode, arg.Umask, (OpenFlags)arg.Flags, out entry, out open);
                    if (Failed(h, e, reply, out int n))
                    {
                        return n;
                    }

                    if (entry.NodeId == 0)
                    {
                        FuseLog.ZeroNodeId(_logger, h.Opcode, h.Unique, h.NodeId);
                        return ReplyError(h.Unique, Errno.EIO, reply);
                    }

                    MemoryMarshal.Write(reply[ReplyBody..], FuseReplyEncoding.ToEntryOut(entry));
                    MemoryMarshal.Write(reply[(ReplyBody + EntryOut.SizeOf)..], ToOpenOut(open));
                    return ReplyOk(h.Unique, EntryOut.SizeOf + OpenOut.SizeOf, reply);
                }

            case FuseOpcode.Destroy:
                {
                    _fs.Destroy();
                    return ReplyOk(h.Unique, 0, reply);
                }

            case FuseOpcode.Fallocate:
                {
                    FallocateIn arg = MemoryMarshal.Read<FallocateIn>(body);
                    Errno e = _fs.Fallocate(context, h.NodeId, arg.Fh, (long)arg.Offset, (long)arg.Length, (int)arg.Mode);
                    return Failed(h, e, reply, out int n) ? n : ReplyOk(h.Unique, 0, reply);
                }

            case FuseOpcode.Lseek:
                {
                    LseekIn arg = MemoryMarshal.Read<LseekIn>(body);
                    Errno e = _fs.Lseek(context, h.NodeId, arg.Fh, (long)arg.Offset, (int)arg.Whence, out long result);
                    return Failed(h, e, reply, out int n) ? n : ReplyOk(h.Unique, new LseekOut { Offset = (ulong)result }, reply);
                }

            case FuseOpcode.CopyFileRange:
            case FuseOpcode.CopyFileRange64:
                {
                    CopyFileRangeIn arg = MemoryMarshal.Read<CopyFileRangeIn>(body);
                    Errno e = _fs.CopyFileRange(context, h.NodeId, arg.FhIn, (long)arg.OffIn, arg.NodeIdOut, arg.FhOut, (long)arg.OffOut, arg.Len, arg.Flags, out ulong copied);
                    if (Failed(h, e, reply, out int n))
                    {
                        return n;
                    }

                    if (h.Opcode == FuseOpcode.CopyFileRange64)
                    {
                        return ReplyOk(h.Unique, new CopyFileRangeOut { BytesCopied = copied }, reply);
                    }

                    // The 32-bit reply cannot say more; the kernel caps such requests below 4 GiB anyway.
                    return ReplyOk(h.Unique, new WriteOut { Size = (uint)Math.Min(copied, uint.MaxValue) }, reply);
                }

            case FuseOpcode.Poll:
                {
                    PollIn arg = MemoryMarshal.Read<PollIn>(body);
                    bool schedule = (arg.Flags & PollIn.FlagScheduleNotify) != 0;
                    Errno e = _fs.Poll(context, h.NodeId, arg.Fh, arg.Kh, schedule, arg.Events, out uint ready);
                    return Failed(h, e, reply, out int n) ? n : ReplyOk(h.Unique, new PollOut { Revents = ready }, reply);
                }

            case FuseOpcode.SyncFs:
                {
                    Errno e = _fs.SyncFs(context, h.NodeId);
                    return Failed(h, e, reply, out int n) ? n : ReplyOk(h.Unique, 0, reply);
                }

            default:
                // BMAP (fuseblk only), IOCTL, STATX (the kernel falls back to GETATTR) and the rest.
                return ReplyError(h.Unique, Errno.ENOSYS, reply);
        }
    }

    private int ReplyEntry(in InHeader h, in FuseEntry entry, Span<byte> reply, bool negativeAllowed)
    {
        if (entry.NodeId == 0 && !negativeAllowed)
        {
            FuseLog.ZeroNodeId(_logger, h.Opcode, h.Unique, h.NodeId);
            return ReplyError(h.Unique, Errno.EIO, reply);
        }

        return ReplyOk(h.Unique, FuseReplyEncoding.ToEntryOut(entry), reply);
    }

    private int ReplyTooLarge(in InHeader h, Span<byte> reply)
    {
        FuseLog.ReplyTooLarge(_logger, h.Opcode, h.Unique, h.NodeId, reply.Length);
        return ReplyError(h.Unique, Errno.EIO, reply);
    }

    private static OpenOut ToOpenOut(in FuseOpenReply open) =>
        new() { Fh = open.Handle, OpenFlags = (uint)open.Options, BackingId = open.BackingId };

    private static FuseFileLock ToLock(in FileLock lk) =>
        new() { Start = (long)lk.Start, End = (long)lk.End, Type = (FuseLockType)lk.Type, Pid = lk.Pid };

    private int DoForget(in InHeader h, ReadOnlySpan<byte> body)
    {
        ForgetIn arg = MemoryMarshal.Read<ForgetIn>(body);
        ForgetNode(h, h.NodeId, arg.NLookup);
        return 0;
    }

    private int DoBatchForget(in InHeader h, ReadOnlySpan<byte> body)
    {
        BatchForgetIn arg = MemoryMarshal.Read<BatchForgetIn>(body);
        ReadOnlySpan<byte> items = body[BatchForgetIn.SizeOf..];
        if ((ulong)arg.Count * ForgetOne.SizeOf > (ulong)items.Length)
        {
            Counters.CountMalformed();
            FuseLog.Malformed(_logger, $"BATCH_FORGET of {arg.Count} carries {items.Length} bytes", (uint)h.Opcode, h.Unique, h.NodeId, (int)h.Len);
            return 0;
        }

        ReadOnlySpan<Abi.ForgetOne> forgets = MemoryMarshal.Cast<byte, Abi.ForgetOne>(items[..(int)(arg.Count * ForgetOne.SizeOf)]);
        foreach (Abi.ForgetOne f in forgets)
        {
            ForgetNode(h, f.NodeId, f.NLookup);
        }

        return 0;
    }

    private void ForgetNode(in InHeader h, ulong nodeId, ulong count)
    {
        try
        {
            _fs.Forget(nodeId, count);
        }
        catch (Exception e)
        {
            Counters.CountHandlerException();
            FuseLog.HandlerThrew(_logger, h.Opcode, h.Unique, nodeId, e);
        }
    }

    private int DoInterrupt(in InHeader h, ReadOnlySpan<byte> body, Span<byte> reply)
    {
        if (!_options.Interrupts)
        {
            // Answered once; the kernel then stops sending INTERRUPTs for this connection.
            return ReplyError(h.Unique, Errno.ENOSYS, reply);
        }

        ulong target = MemoryMarshal.Read<InterruptIn>(body).Unique;
        foreach (InFlightSlot slot in _slots.Values)
        {
            if (slot.Unique == target && slot.TryInterrupt(target))
            {
                Counters.CountInterrupt();
                return 0;
            }
        }

        // Not in flight: either still being read by another thread (EAGAIN makes the kernel queue
        // the interrupt again) or already answered (then the kernel ignores this with ENOENT).
        return ReplyError(h.Unique, Errno.EAGAIN, reply);
    }

    private int DoNotifyReply(in InHeader h, ReadOnlySpan<byte> body)
    {
        NotifyRetrieveIn arg = MemoryMarshal.Read<NotifyRetrieveIn>(body);
        ReadOnlySpan<byte> data = body[NotifyRetrieveIn.SizeOf..];
        if (data.Length < arg.Size)
        {
            Counters.CountMalformed();
            FuseLog.Malformed(_logger, $"NOTIFY_REPLY of {arg.Size} bytes carries {data.Length}", (uint)h.Opcode, h.Unique, h.NodeId, (int)h.Len);
            return 0;
        }

        Notifier.CompleteRetrieve(h.Unique, (long)arg.Offset, data[..(int)arg.Size]);
        return 0;
    }
}
