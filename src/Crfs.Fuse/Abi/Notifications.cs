// SPDX-License-Identifier: MIT
using System.Runtime.InteropServices;

namespace Crfs.Fuse.Abi;

// Notification bodies: what follows OutHeader { Error = code, Unique = 0 } in a notify write.

/// <summary><c>fuse_notify_poll_wakeup_out</c>, 8 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NotifyPollWakeupOut
{
    public const int SizeOf = 8;

    public ulong Kh;
}

/// <summary>
/// <c>fuse_notify_inval_inode_out</c>, 24 bytes. <see cref="Off"/> &lt; 0: attributes only;
/// otherwise also the cached pages of [off, off + len), <see cref="Len"/> &lt;= 0 meaning to EOF.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct NotifyInvalInodeOut
{
    public const int SizeOf = 24;

    public ulong Ino;
    public long Off;
    public long Len;
}

/// <summary>
/// <c>fuse_notify_inval_entry_out</c>, 16 bytes, followed by the name and a NUL.
/// Flag 1 (FUSE_EXPIRE_ONLY, with <see cref="FuseInitFlags.HasExpireOnly"/>): expire, do not drop.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct NotifyInvalEntryOut
{
    public const int SizeOf = 16;
    public const uint FlagExpireOnly = 1;

    public ulong Parent;
    public uint NameLen;
    public uint Flags;
}

/// <summary><c>fuse_notify_delete_out</c>, 24 bytes, followed by the name and a NUL.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NotifyDeleteOut
{
    public const int SizeOf = 24;

    public ulong Parent;
    public ulong Child;
    public uint NameLen;
    public uint Padding;
}

/// <summary><c>fuse_notify_store_out</c>, 24 bytes, followed by <see cref="Size"/> bytes of data.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NotifyStoreOut
{
    public const int SizeOf = 24;

    public ulong NodeId;
    public ulong Offset;
    public uint Size;
    public uint Padding;
}

/// <summary><c>fuse_notify_retrieve_out</c>, 32 bytes.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NotifyRetrieveOut
{
    public const int SizeOf = 32;

    public ulong NotifyUnique;
    public ulong NodeId;
    public ulong Offset;
    public uint Size;
    public uint Padding;
}

/// <summary><c>fuse_notify_prune_out</c>, 16 bytes (7.45), followed by <see cref="Count"/> node ids.</summary>
[StructLayout(LayoutKind.Sequential)]
public struct NotifyPruneOut
{
    public const int SizeOf = 16;

    public uint Count;
    public uint Padding;
    public ulong Spare;
}
