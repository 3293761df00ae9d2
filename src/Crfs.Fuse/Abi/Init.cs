// SPDX-License-Identifier: MIT
using System.Runtime.InteropServices;

namespace Crfs.Fuse.Abi;

/// <summary>
/// <c>fuse_init_in</c>: 64 bytes since 7.36, 16 bytes before (major, minor, max_readahead,
/// flags). <see cref="Flags2"/> holds capability bits 32–63 and is meaningful only when
/// <see cref="FuseInitFlags.InitExt"/> is set in <see cref="Flags"/>.
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct InitIn
{
    public const int SizeOf = 64;

    /// <summary>The body size of kernels older than 7.36.</summary>
    public const int CompatSizeOf = 16;

    public uint Major;
    public uint Minor;
    public uint MaxReadahead;
    public uint Flags;
    public uint Flags2;
    public fixed uint Unused[11];
}

/// <summary>
/// <c>fuse_init_out</c>, 64 bytes. Kernels older than 7.23 read only the first 24 bytes
/// (<see cref="Compat22SizeOf"/>); older than 7.5, the first 8.
/// <code>
/// 0 major | 4 minor | 8 max_readahead | 12 flags | 16 max_background u16 | 18 congestion_threshold u16
/// 20 max_write | 24 time_gran (7.23) | 28 max_pages u16 (7.28) | 30 map_alignment u16 (7.31)
/// 32 flags2 (7.36) | 36 max_stack_depth (7.40) | 40 request_timeout u16 (7.43) | 42 unused u16[11]
/// </code>
/// </summary>
[StructLayout(LayoutKind.Sequential)]
public unsafe struct InitOut
{
    public const int SizeOf = 64;
    public const int Compat22SizeOf = 24;

    public uint Major;
    public uint Minor;
    public uint MaxReadahead;
    public uint Flags;
    public ushort MaxBackground;
    public ushort CongestionThreshold;
    public uint MaxWrite;
    public uint TimeGran;
    public ushort MaxPages;
    public ushort MapAlignment;
    public uint Flags2;
    public uint MaxStackDepth;
    public ushort RequestTimeout;
    public fixed ushort Unused[11];
}
