// SPDX-License-Identifier: MIT
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Text;
using Crfs.Fuse.Abi;
using Crfs.Posix;

namespace Crfs.Fuse.Tests;

/// <summary>Builds raw FUSE requests the way the kernel lays them out, and parses replies.</summary>
internal static class Protocol
{
    public const uint KernelFlags = 0x73fffffb;

    // What Linux 6.18 offers in flags2 with enable_uring=N (measured, research notes 4.3).
    public const uint KernelFlags2 = 0x5fd;

    public static byte[] Name(string s) => Encoding.UTF8.GetBytes(s + "\0");

    public static byte[] Bytes<T>(in T value)
        where T : unmanaged
    {
        byte[] b = new byte[Unsafe.SizeOf<T>()];
        MemoryMarshal.Write(b, in value);
        return b;
    }

    public static byte[] Request(FuseOpcode opcode, ulong unique, ulong nodeId, params byte[][] parts)
    {
        int length = InHeader.SizeOf + parts.Sum(p => p.Length);
        byte[] request = new byte[length];
        MemoryMarshal.Write(request, new InHeader
        {
            Len = (uint)length,
            Opcode = opcode,
            Unique = unique,
            NodeId = nodeId,
            Uid = 1000,
            Gid = 1000,
            Pid = 4242,
        });
        int offset = InHeader.SizeOf;
        foreach (byte[] part in parts)
        {
            part.CopyTo(request, offset);
            offset += part.Length;
        }

        return request;
    }

    public static byte[] Init(uint minor = 45, uint flags = KernelFlags, uint flags2 = KernelFlags2, uint major = 7)
    {
        if (minor < 36)
        {
            byte[] compat = new byte[InitIn.CompatSizeOf];
            MemoryMarshal.Write(compat, major);
            MemoryMarshal.Write(compat.AsSpan(4), minor);
            MemoryMarshal.Write(compat.AsSpan(8), 131072u);
            MemoryMarshal.Write(compat.AsSpan(12), flags & ~(uint)FuseInitFlags.InitExt);
            return Request(FuseOpcode.Init, 2, 0, compat);
        }

        return Request(FuseOpcode.Init, 2, 0, Bytes(new InitIn { Major = major, Minor = minor, MaxReadahead = 131072, Flags = flags, Flags2 = flags2 }));
    }
}

/// <summary>A parsed reply: header fields and the body bytes.</summary>
internal sealed record Reply(int Length, int Error, ulong Unique, byte[] Body)
{
    public static Reply? Parse(byte[] buffer, int length)
    {
        if (length == 0)
        {
            return null;
        }

        OutHeader h = MemoryMarshal.Read<OutHeader>(buffer);
        Assert.Equal((uint)length, h.Len);
        return new Reply(length, h.Error, h.Unique, buffer.AsSpan(OutHeader.SizeOf, length - OutHeader.SizeOf).ToArray());
    }

    public Errno Errno => (Errno)(-Error);

    public T Read<T>(int offset = 0)
        where T : unmanaged => MemoryMarshal.Read<T>(Body.AsSpan(offset));
}

/// <summary>A dispatcher with INIT done, driven with byte arrays.</summary>
internal sealed class DispatcherHarness
{
    private readonly byte[] _reply;
    private ulong _unique = 100;

    public DispatcherHarness(IFuseFileSystem fileSystem, FuseOptions? options = null, bool init = true)
    {
        Dispatcher = new FuseDispatcher(fileSystem, options);
        _reply = new byte[Dispatcher.ReplyBufferSize];
        if (init)
        {
            Reply r = Send(Protocol.Init())!;
            Assert.Equal(0, r.Error);
        }
    }

    public FuseDispatcher Dispatcher { get; }

    public ulong NextUnique() => _unique += 2;

    public Reply? Send(byte[] request) => Reply.Parse(_reply, Dispatcher.Dispatch(request, _reply));

    public Reply Call(FuseOpcode opcode, ulong nodeId, params byte[][] parts)
    {
        ulong unique = NextUnique();
        Reply? r = Send(Protocol.Request(opcode, unique, nodeId, parts));
        Assert.NotNull(r);
        Assert.Equal(unique, r.Unique);
        return r;
    }

    public Reply Ok(FuseOpcode opcode, ulong nodeId, params byte[][] parts)
    {
        Reply r = Call(opcode, nodeId, parts);
        Assert.True(r.Error == 0, $"{opcode} failed with {r.Errno}");
        return r;
    }
}
