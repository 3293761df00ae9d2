// SPDX-License-Identifier: MIT
using System.Runtime.InteropServices;

namespace Crfs.Fuse.Abi;

// The FUSE ABI is the running kernel's native layout (host byte order, natural alignment, no
// hidden padding: every struct is padded to 8 bytes by explicit fields). These types overlay
// request and reply buffers directly; FuseAbiTests freezes every size and offset against the
// kernel's fuse_kernel.h (7.45). Unlike the btrfs layouts, which are little-endian on purpose,
// these must follow the host, which on every platform .NET runs Linux on is little-endian too.

/// <summary>
/// <c>fuse_in_header</c>, 40 bytes, at the start of every request:
/// <code>
/// 0 len u32 | 4 opcode u32 | 8 unique u64 | 16 nodeid u64 | 24 uid u32 | 28 gid u32 | 32 pid u32
/// 36 total_extlen u16 (7.37; in 8-byte units) | 38 padding u16
/// </code>
/// <see cref="Len"/> covers the header, the opcode's body and the extensions.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct InHeader
{
    public const int SizeOf = 40;

    public uint Len;
    public FuseOpcode Opcode;
    public ulong Unique;
    public ulong NodeId;
    public uint Uid;
    public uint Gid;
    public uint Pid;
    public ushort TotalExtLen;
    public ushort Padding;
}

/// <summary>
/// <c>fuse_out_header</c>, 16 bytes, at the start of every reply and notification:
/// <code>0 len u32 | 4 error i32 | 8 unique u64</code>
/// A reply's <see cref="Error"/> is 0 or a negative errno above -512, and an error reply is the
/// bare header. A notification has <see cref="Unique"/> 0 and the positive
/// <see cref="FuseNotifyCode"/> in <see cref="Error"/>.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public struct OutHeader
{
    public const int SizeOf = 16;

    public uint Len;
    public int Error;
    public ulong Unique;
}
