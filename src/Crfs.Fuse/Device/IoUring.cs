// SPDX-License-Identifier: MIT
using System.Runtime.InteropServices;
using Crfs.Posix;

namespace Crfs.Fuse;

/// <summary>
/// A minimal io_uring: one ring with 128-byte SQEs, driven by the single thread that created it,
/// through the raw io_uring_setup/io_uring_enter syscalls and mmap'ed rings. Only what the FUSE
/// transport needs: queue IORING_OP_URING_CMD entries, submit and wait in one call, reap CQEs.
/// </summary>
/// <remarks>
/// Memory ordering: the kernel reads the SQ tail and writes the CQ tail concurrently, so the
/// SQ tail is published with a release store after the SQE and array slot are written, and the
/// CQ tail is read with an acquire load before the CQEs it covers; the CQ head is released after
/// they have been consumed. SINGLE_ISSUER + DEFER_TASKRUN: only the creating thread may submit,
/// and completions are produced when that thread waits in io_uring_enter — exactly the FUSE
/// queue loop's shape, and the cheapest mode.
/// </remarks>
internal sealed unsafe class IoUring : IDisposable
{
    public const byte OpUringCmd = 46;
    public const int SqeSize = 128;

    /// <summary>Offset of the 80-byte command area in a 128-byte SQE.</summary>
    public const int SqeCommandOffset = 48;

    private const int SysSetup = 425;
    private const int SysEnter = 426;
    private const uint SetupSqe128 = 1u << 10;
    private const uint SetupSingleIssuer = 1u << 12;
    private const uint SetupDeferTaskrun = 1u << 13;
    private const uint FeatSingleMmap = 1u << 0;
    private const uint EnterGetEvents = 1u << 0;
    private const long OffSqRing = 0;
    private const long OffCqRing = 0x8000000;
    private const long OffSqes = 0x10000000;

    private readonly int _fd;
    private readonly byte* _sqRing;
    private readonly nuint _sqRingSize;
    private readonly byte* _cqRing;
    private readonly nuint _cqRingSize;
    private readonly byte* _sqes;
    private readonly nuint _sqesSize;
    private readonly uint* _sqHead;
    private readonly uint* _sqTail;
    private readonly uint _sqMask;
    private readonly uint* _sqArray;
    private readonly uint* _cqHead;
    private readonly uint* _cqTail;
    private readonly uint _cqMask;
    private readonly Cqe* _cqes;
    private uint _sqLocalTail;
    private uint _pending;

    private IoUring(int fd, in Params p)
    {
        _fd = fd;
        _sqRingSize = p.SqOff.Array + (p.SqEntries * sizeof(uint));
        _cqRingSize = p.CqOff.Cqes + (p.CqEntries * (uint)sizeof(Cqe));
        bool single = (p.Features & FeatSingleMmap) != 0;
        if (single)
        {
            _sqRingSize = _cqRingSize = Math.Max(_sqRingSize, _cqRingSize);
        }

        _sqRing = Map(fd, _sqRingSize, OffSqRing);
        _cqRing = single ? _sqRing : Map(fd, _cqRingSize, OffCqRing);
        _sqesSize = p.SqEntries * SqeSize;
        _sqes = Map(fd, _sqesSize, OffSqes);
        _sqHead = (uint*)(_sqRing + p.SqOff.Head);
        _sqTail = (uint*)(_sqRing + p.SqOff.Tail);
        _sqMask = *(uint*)(_sqRing + p.SqOff.RingMask);
        _sqArray = (uint*)(_sqRing + p.SqOff.Array);
        _cqHead = (uint*)(_cqRing + p.CqOff.Head);
        _cqTail = (uint*)(_cqRing + p.CqOff.Tail);
        _cqMask = *(uint*)(_cqRing + p.CqOff.RingMask);
        _cqes = (Cqe*)(_cqRing + p.CqOff.Cqes);
        _sqLocalTail = Volatile.Read(ref *_sqTail);
        SqEntries = p.SqEntries;
    }

    public uint SqEntries { get; }

    /// <summary>Creates a ring on the calling thread (which alone may submit to it afterwards).</summary>
    public static IoUring Create(uint entries)
    {
        var p = new Params { Flags = SetupSqe128 | SetupSingleIssuer | SetupDeferTaskrun };
        int fd = (int)Libc.Syscall(SysSetup, (nint)entries, (nint)(&p), 0, 0, 0, 0);
        if (fd < 0)
        {
            Errno e = Libc.LastErrno;
            throw new IOException($"io_uring_setup({entries}, SQE128|SINGLE_ISSUER|DEFER_TASKRUN) failed: {e}", (int)e);
        }

        try
        {
            return new IoUring(fd, p);
        }
        catch
        {
            Libc.Close(fd);
            throw;
        }
    }

    /// <summary>A zeroed 128-byte SQE to fill, or null when the submission queue is full.</summary>
    public byte* NextSqe()
    {
        uint head = Volatile.Read(ref *_sqHead);
        if (_sqLocalTail - head >= SqEntries)
        {
            return null;
        }

        uint index = _sqLocalTail & _sqMask;
        byte* sqe = _sqes + (index * SqeSize);
        new Span<byte>(sqe, SqeSize).Clear();
        _sqArray[index] = index;
        _sqLocalTail++;
        _pending++;
        return sqe;
    }

    /// <summary>Publishes queued SQEs and waits until at least <paramref name="waitFor"/> completions exist.</summary>
    public Errno SubmitAndWait(uint waitFor)
    {
        Volatile.Write(ref *_sqTail, _sqLocalTail);
        uint toSubmit = _pending;
        while (true)
        {
            nint n = Libc.Syscall(SysEnter, _fd, (nint)toSubmit, (nint)waitFor, (nint)EnterGetEvents, 0, 0);
            if (n >= 0)
            {
                _pending -= Math.Min(_pending, (uint)n);
                return Errno.Ok;
            }

            Errno e = Libc.LastErrno;
            if (e != Errno.EINTR)
            {
                return e;
            }

            // Interrupted by a signal: whatever was consumed stays consumed; retry for the rest.
            toSubmit = _sqLocalTail - Volatile.Read(ref *_sqHead);
            _pending = toSubmit;
        }
    }

    /// <summary>Takes the next completion, if any.</summary>
    public bool TryReap(out ulong userData, out int result)
    {
        uint head = *_cqHead;
        if (head == Volatile.Read(ref *_cqTail))
        {
            userData = 0;
            result = 0;
            return false;
        }

        Cqe cqe = _cqes[head & _cqMask];
        Volatile.Write(ref *_cqHead, head + 1);
        userData = cqe.UserData;
        result = cqe.Res;
        return true;
    }

    public void Dispose()
    {
        Libc.Munmap(_sqes, _sqesSize);
        if (_cqRing != _sqRing)
        {
            Libc.Munmap(_cqRing, _cqRingSize);
        }

        Libc.Munmap(_sqRing, _sqRingSize);
        Libc.Close(_fd);
    }

    private static byte* Map(int fd, nuint size, long offset)
    {
        void* p = Libc.Mmap(null, size, Libc.PROT_READ | Libc.PROT_WRITE, Libc.MAP_SHARED | Libc.MAP_POPULATE, fd, offset);
        if (p == (void*)-1)
        {
            Errno e = Libc.LastErrno;
            throw new IOException($"mmap of io_uring region 0x{offset:x} ({size} bytes) failed: {e}", (int)e);
        }

        return (byte*)p;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct Cqe
    {
        public ulong UserData;
        public int Res;
        public uint Flags;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct SqRingOffsets
    {
        public uint Head;
        public uint Tail;
        public uint RingMask;
        public uint RingEntries;
        public uint Flags;
        public uint Dropped;
        public uint Array;
        public uint Reserved1;
        public ulong UserAddress;
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct CqRingOffsets
    {
        public uint Head;
        public uint Tail;
        public uint RingMask;
        public uint RingEntries;
        public uint Overflow;
        public uint Cqes;
        public uint Flags;
        public uint Reserved1;
        public ulong UserAddress;
    }

    /// <summary><c>struct io_uring_params</c>, 120 bytes.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct Params
    {
        public uint SqEntries;
        public uint CqEntries;
        public uint Flags;
        public uint SqThreadCpu;
        public uint SqThreadIdle;
        public uint Features;
        public uint WqFd;
        public uint Reserved0;
        public uint Reserved1;
        public uint Reserved2;
        public SqRingOffsets SqOff;
        public CqRingOffsets CqOff;
    }
}
