// SPDX-License-Identifier: MIT
using Crfs.Fuse.Abi;
using Crfs.Posix;

namespace Crfs.Fuse;

/// <summary>Conversions from the file system's reply types to the kernel's structs.</summary>
internal static class FuseReplyEncoding
{
    public static EntryOut ToEntryOut(in FuseEntry entry)
    {
        (ulong entrySeconds, uint entryNanoseconds) = SplitTimeout(entry.EntryTimeout);
        (ulong attrSeconds, uint attrNanoseconds) = SplitTimeout(entry.AttrTimeout);
        return new EntryOut
        {
            NodeId = entry.NodeId,
            Generation = entry.Generation,
            EntryValid = entrySeconds,
            EntryValidNsec = entryNanoseconds,
            AttrValid = attrSeconds,
            AttrValidNsec = attrNanoseconds,
            Attr = ToAttr(entry.Attributes),
        };
    }

    public static AttrOut ToAttrOut(in FuseAttrReply reply)
    {
        (ulong seconds, uint nanoseconds) = SplitTimeout(reply.Timeout);
        return new AttrOut { AttrValid = seconds, AttrValidNsec = nanoseconds, Attr = ToAttr(reply.Attributes) };
    }

    public static Attr ToAttr(in InodeAttributes a) => new()
    {
        Ino = a.Ino,
        Size = a.Size,
        Blocks = a.Blocks,
        Atime = (ulong)a.Atime.Seconds,
        AtimeNsec = a.Atime.Nanoseconds,
        Mtime = (ulong)a.Mtime.Seconds,
        MtimeNsec = a.Mtime.Nanoseconds,
        Ctime = (ulong)a.Ctime.Seconds,
        CtimeNsec = a.Ctime.Nanoseconds,
        Mode = a.Mode,
        Nlink = a.Nlink,
        Uid = a.Uid,
        Gid = a.Gid,
        Rdev = a.Rdev,
        BlkSize = a.BlockSize,
    };

    public static InodeAttributes FromAttr(in Attr a) => new()
    {
        Ino = a.Ino,
        Size = a.Size,
        Blocks = a.Blocks,
        Atime = new Timespec((long)a.Atime, a.AtimeNsec),
        Mtime = new Timespec((long)a.Mtime, a.MtimeNsec),
        Ctime = new Timespec((long)a.Ctime, a.CtimeNsec),
        Mode = a.Mode,
        Nlink = a.Nlink,
        Uid = a.Uid,
        Gid = a.Gid,
        Rdev = a.Rdev,
        BlockSize = a.BlkSize,
    };

    /// <summary>A cache timeout as the kernel's (seconds, nanoseconds); negative means zero.</summary>
    public static (ulong Seconds, uint Nanoseconds) SplitTimeout(TimeSpan timeout)
    {
        if (timeout <= TimeSpan.Zero)
        {
            return (0, 0);
        }

        long seconds = Math.DivRem(timeout.Ticks, TimeSpan.TicksPerSecond, out long remainder);
        return ((ulong)seconds, (uint)(remainder * 100));
    }
}
