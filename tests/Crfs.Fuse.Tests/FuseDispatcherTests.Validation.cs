// SPDX-License-Identifier: MIT
using System.Runtime.InteropServices;
using Crfs.Fuse.Abi;
using Crfs.Posix;

namespace Crfs.Fuse.Tests;

/// <summary>Malformed, truncated and random requests: a clear error reply or silence, never a crash.</summary>
public sealed partial class FuseDispatcherTests
{
    [Fact]
    public void RequestShorterThanHeader_IsDroppedAndCounted()
    {
        var h = new DispatcherHarness(new MemoryFileSystem());

        Assert.Null(h.Send(new byte[39]));
        Assert.Null(h.Send([]));
        Assert.Equal(2, h.Dispatcher.Counters.MalformedRequests);
    }

    [Fact]
    public void HeaderLengthDifferentFromBytesRead_IsAnsweredEINVAL()
    {
        var h = new DispatcherHarness(new MemoryFileSystem());
        byte[] request = Protocol.Request(FuseOpcode.Lookup, 10, Root, Protocol.Name("x"));
        MemoryMarshal.Write(request, (uint)(request.Length + 5));

        Reply r = h.Send(request)!;

        Assert.Equal(Errno.EINVAL, r.Errno);
        Assert.Equal(10ul, r.Unique);
    }

    [Theory]
    [InlineData(FuseOpcode.GetAttr)]
    [InlineData(FuseOpcode.SetAttr)]
    [InlineData(FuseOpcode.MkNod)]
    [InlineData(FuseOpcode.MkDir)]
    [InlineData(FuseOpcode.Rename)]
    [InlineData(FuseOpcode.Rename2)]
    [InlineData(FuseOpcode.Link)]
    [InlineData(FuseOpcode.Open)]
    [InlineData(FuseOpcode.Read)]
    [InlineData(FuseOpcode.Write)]
    [InlineData(FuseOpcode.Release)]
    [InlineData(FuseOpcode.Fsync)]
    [InlineData(FuseOpcode.SetXattr)]
    [InlineData(FuseOpcode.GetXattr)]
    [InlineData(FuseOpcode.ListXattr)]
    [InlineData(FuseOpcode.Flush)]
    [InlineData(FuseOpcode.OpenDir)]
    [InlineData(FuseOpcode.ReadDir)]
    [InlineData(FuseOpcode.ReadDirPlus)]
    [InlineData(FuseOpcode.GetLk)]
    [InlineData(FuseOpcode.SetLkW)]
    [InlineData(FuseOpcode.Create)]
    [InlineData(FuseOpcode.Fallocate)]
    [InlineData(FuseOpcode.CopyFileRange)]
    public void BodyShorterThanFixedStruct_IsAnsweredEINVAL(FuseOpcode opcode)
    {
        var h = new DispatcherHarness(new MemoryFileSystem());

        Reply r = h.Call(opcode, Root, new byte[7]);

        Assert.Equal(Errno.EINVAL, r.Errno);
        Assert.Equal(1, h.Dispatcher.Counters.MalformedRequests);
    }

    [Theory]
    [InlineData(FuseOpcode.Forget)]
    [InlineData(FuseOpcode.BatchForget)]
    [InlineData(FuseOpcode.Interrupt)]
    [InlineData(FuseOpcode.NotifyReply)]
    public void TruncatedNoReplyRequest_IsDroppedSilently(FuseOpcode opcode)
    {
        var h = new DispatcherHarness(new MemoryFileSystem());

        Assert.Null(h.Send(Protocol.Request(opcode, 12, Root, new byte[3])));
        Assert.Equal(1, h.Dispatcher.Counters.MalformedRequests);
    }

    [Fact]
    public void NamesWithoutNul_OrEmpty_AreAnsweredEINVAL()
    {
        var h = new DispatcherHarness(new MemoryFileSystem());

        Assert.Equal(Errno.EINVAL, h.Call(FuseOpcode.Lookup, Root, "abc"u8.ToArray()).Errno);
        Assert.Equal(Errno.EINVAL, h.Call(FuseOpcode.Lookup, Root, [0]).Errno);
        Assert.Equal(Errno.EINVAL, h.Call(FuseOpcode.SymLink, Root, Protocol.Name("l"), "no-nul"u8.ToArray()).Errno);
        Assert.Equal(Errno.EINVAL, h.Call(FuseOpcode.Rename, Root, Protocol.Bytes(new RenameIn { NewDir = 1 }), Protocol.Name("a")).Errno);
        Assert.Equal(Errno.EINVAL, h.Call(FuseOpcode.MkDir, Root, Protocol.Bytes(new MkDirIn()), "x"u8.ToArray()).Errno);
        Assert.Equal(5, h.Dispatcher.Counters.MalformedRequests);
    }

    [Fact]
    public void WriteWhoseDataLengthDisagreesWithSize_IsAnsweredEINVAL()
    {
        var fs = new MemoryFileSystem();
        ulong node = fs.AddFile(Root, "f", []);
        var h = new DispatcherHarness(fs);

        Assert.Equal(Errno.EINVAL, h.Call(FuseOpcode.Write, node, Protocol.Bytes(new WriteIn { Size = 10 }), new byte[9]).Errno);
        Assert.Equal(Errno.EINVAL, h.Call(FuseOpcode.Write, node, Protocol.Bytes(new WriteIn { Size = 1 }), new byte[2]).Errno);
        Assert.Equal(Errno.EINVAL, h.Call(FuseOpcode.SetXattr, node, Protocol.Bytes(new SetXattrIn { Size = 4 }), Protocol.Name("user.a"), new byte[3]).Errno);
    }

    [Fact]
    public void ExtensionLengthBeyondRequest_IsAnsweredEINVAL()
    {
        var h = new DispatcherHarness(new MemoryFileSystem());
        byte[] request = Protocol.Request(FuseOpcode.Lookup, 10, Root, Protocol.Name("x"));
        MemoryMarshal.Write(request.AsSpan(36), (ushort)1);

        Assert.Equal(Errno.EINVAL, h.Send(request)!.Errno);
    }

    [Fact]
    public void ExtensionsAfterTheBody_AreNotMistakenForTheName()
    {
        var fs = new MemoryFileSystem();
        fs.AddFile(Root, "x", []);
        var h = new DispatcherHarness(fs);

        // "x\0" then an 8-byte extension block the dispatcher must cut off.
        byte[] request = Protocol.Request(FuseOpcode.Lookup, 10, Root, Protocol.Name("x"), new byte[8]);
        MemoryMarshal.Write(request.AsSpan(36), (ushort)1);

        Assert.Equal(0, h.Send(request)!.Error);
    }

    [Fact]
    public void BatchForgetCountingMoreThanItCarries_IsDroppedWithoutForgetting()
    {
        var fs = new MemoryFileSystem();
        var h = new DispatcherHarness(fs);
        ulong node = h.Ok(FuseOpcode.MkDir, Root, Protocol.Bytes(new MkDirIn { Mode = 0x1ED }), Protocol.Name("d")).Read<EntryOut>().NodeId;

        byte[] body = [.. Protocol.Bytes(new BatchForgetIn { Count = 2 }), .. Protocol.Bytes(new ForgetOne { NodeId = node, NLookup = 1 })];
        Assert.Null(h.Send(Protocol.Request(FuseOpcode.BatchForget, 0, 0, body)));

        Assert.Equal(1ul, fs.LookupCounts()[node]);
        Assert.Equal(1, h.Dispatcher.Counters.MalformedRequests);
    }

    /// <summary>
    /// Seeded fuzz loop: valid requests of every opcode, then mutated (bytes flipped, truncated,
    /// lengths rewritten, random garbage). The dispatcher must never throw and every reply must be
    /// one the kernel would accept in form: a header whose length is what was returned, unique
    /// echoed, and an errno in (0, 512) or success.
    /// </summary>
    [Fact]
    public void FuzzedRequests_NeverThrow_AndOnlyProduceWellFormedReplies()
    {
        var random = new Random(20261126);
        var fs = new MemoryFileSystem { LockWaitLimit = TimeSpan.Zero };
        ulong file = fs.AddFile(Root, "f", new byte[5000]);
        fs.AddDirectory(Root, "d");
        var h = new DispatcherHarness(fs);
        byte[] reply = new byte[h.Dispatcher.ReplyBufferSize];
        byte[][] seeds = SeedRequests(file);

        for (int i = 0; i < 20_000; i++)
        {
            byte[] request = Mutate(random, seeds[random.Next(seeds.Length)]);
            int length = h.Dispatcher.Dispatch(request, reply);
            if (length == 0)
            {
                continue;
            }

            Assert.InRange(length, OutHeader.SizeOf, reply.Length);
            OutHeader o = MemoryMarshal.Read<OutHeader>(reply);
            Assert.Equal((uint)length, o.Len);
            Assert.InRange(o.Error, -511, 0);
            if (o.Error != 0)
            {
                Assert.Equal(OutHeader.SizeOf, length);
            }

            if (request.Length >= InHeader.SizeOf)
            {
                Assert.Equal(MemoryMarshal.Read<InHeader>(request).Unique, o.Unique);
            }
        }
    }

    private static byte[][] SeedRequests(ulong file) =>
    [
        Protocol.Request(FuseOpcode.Lookup, 10, Root, Protocol.Name("f")),
        Protocol.Request(FuseOpcode.GetAttr, 12, file, Protocol.Bytes(new GetAttrIn())),
        Protocol.Request(FuseOpcode.SetAttr, 14, file, Protocol.Bytes(new SetAttrIn { Valid = 8, Size = 100 })),
        Protocol.Request(FuseOpcode.Read, 16, file, Protocol.Bytes(new ReadIn { Size = 4096 })),
        Protocol.Request(FuseOpcode.Write, 18, file, Protocol.Bytes(new WriteIn { Size = 4, Offset = 10 }), [1, 2, 3, 4]),
        Protocol.Request(FuseOpcode.MkDir, 20, Root, Protocol.Bytes(new MkDirIn { Mode = 0x1ED }), Protocol.Name("new")),
        Protocol.Request(FuseOpcode.Create, 22, Root, Protocol.Bytes(new CreateIn { Mode = 0x81A4 }), Protocol.Name("c")),
        Protocol.Request(FuseOpcode.Rename2, 24, Root, Protocol.Bytes(new Rename2In { NewDir = Root }), Protocol.Name("c"), Protocol.Name("e")),
        Protocol.Request(FuseOpcode.SetXattr, 26, file, Protocol.Bytes(new SetXattrIn { Size = 2 }), Protocol.Name("user.x"), [1, 2]),
        Protocol.Request(FuseOpcode.GetXattr, 28, file, Protocol.Bytes(new GetXattrIn { Size = 64 }), Protocol.Name("user.x")),
        Protocol.Request(FuseOpcode.ReadDirPlus, 30, Root, Protocol.Bytes(new ReadIn { Size = 4096 })),
        Protocol.Request(FuseOpcode.ReadDir, 32, Root, Protocol.Bytes(new ReadIn { Size = 4096 })),
        Protocol.Request(FuseOpcode.SetLk, 34, file, Protocol.Bytes(new LkIn { Owner = 3, Lk = new FileLock { End = 10, Type = 1 } })),
        Protocol.Request(FuseOpcode.BatchForget, 0, 0, [.. Protocol.Bytes(new BatchForgetIn { Count = 1 }), .. Protocol.Bytes(new ForgetOne { NodeId = 999, NLookup = 1 })]),
        Protocol.Request(FuseOpcode.Interrupt, 37, 0, Protocol.Bytes(new InterruptIn { Unique = 36 })),
        Protocol.Request(FuseOpcode.SymLink, 38, Root, Protocol.Name("s"), Protocol.Name("t")),
        Protocol.Request(FuseOpcode.Unlink, 40, Root, Protocol.Name("s")),
        Protocol.Request(FuseOpcode.StatFs, 42, Root),
    ];

    private static byte[] Mutate(Random random, byte[] seed)
    {
        byte[] request = (byte[])seed.Clone();
        switch (random.Next(6))
        {
            case 0:
                // Flip a few bytes after the header (the length and opcode stay plausible).
                for (int k = random.Next(1, 4); k > 0 && request.Length > InHeader.SizeOf; k--)
                {
                    request[random.Next(InHeader.SizeOf, request.Length)] ^= (byte)random.Next(1, 256);
                }

                return request;
            case 1:
                // Truncate, keeping the header's length honest.
                int cut = random.Next(0, request.Length);
                request = request[..cut];
                if (cut >= 4)
                {
                    MemoryMarshal.Write(request, (uint)cut);
                }

                return request;
            case 2:
                // A lying length field.
                MemoryMarshal.Write(request, (uint)random.Next());
                return request;
            case 3:
                // Random opcode (including unknown and no-reply ones) with the same body.
                MemoryMarshal.Write(request.AsSpan(4), (uint)random.Next(0, 60));
                return request;
            case 4:
                // Random extension length.
                MemoryMarshal.Write(request.AsSpan(36), (ushort)random.Next(0, 8));
                return request;
            default:
                // Garbage of any length with an honest length field.
                byte[] garbage = new byte[random.Next(0, 200)];
                random.NextBytes(garbage);
                if (garbage.Length >= InHeader.SizeOf)
                {
                    MemoryMarshal.Write(garbage, (uint)garbage.Length);
                    MemoryMarshal.Write(garbage.AsSpan(36), (ushort)0);
                }

                return garbage;
        }
    }
}
