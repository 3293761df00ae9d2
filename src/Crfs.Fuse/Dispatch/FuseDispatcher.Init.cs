// SPDX-License-Identifier: MIT
using System.Runtime.InteropServices;
using Crfs.Fuse.Abi;
using Crfs.Posix;

namespace Crfs.Fuse;

// INIT negotiation. The kernel offers a protocol version and a capability set; the reply names
// the version both will speak (same major, the smaller minor) and the capabilities wanted, which
// the kernel intersects with its offer. Struct sizes follow the negotiated minor: init_in is 16
// bytes before 7.36 (no flags2), init_out is read as 24 bytes before 7.23.
public sealed partial class FuseDispatcher
{
    /// <summary>Pages per request when MAX_PAGES is negotiated: max_write / 4 KiB.</summary>
    private const int PageSize = 4096;

    private int DoInit(in InHeader header, ReadOnlySpan<byte> body, Span<byte> reply)
    {
        uint major = MemoryMarshal.Read<uint>(body);
        uint kernelMinor = MemoryMarshal.Read<uint>(body[4..]);
        if (major > KernelMajor)
        {
            // A newer major: answer with ours and the kernel re-sends INIT at major 7.
            return ReplyOk(header.Unique, new InitCompatOut { Major = KernelMajor, Minor = MaxSupportedMinor }, reply);
        }

        if (major < KernelMajor || kernelMinor < MinSupportedMinor)
        {
            FuseLog.InitTooOld(_logger, major, kernelMinor, MinSupportedMinor);
            return ReplyError(header.Unique, Errno.EPROTO, reply);
        }

        if (_connection is not null)
        {
            return Malformed(header, (int)header.Len, "second INIT on a connection", reply);
        }

        uint kernelReadahead = body.Length >= 12 ? MemoryMarshal.Read<uint>(body[8..]) : 0;
        ulong offered = body.Length >= 16 ? MemoryMarshal.Read<uint>(body[12..]) : 0;
        if ((offered & (ulong)FuseInitFlags.InitExt) != 0 && body.Length >= 20)
        {
            offered |= (ulong)MemoryMarshal.Read<uint>(body[16..]) << 32;
        }

        var kernelFlags = (FuseInitFlags)offered;
        FuseInitFlags flags = WantedFlags() & kernelFlags;
        uint minor = Math.Min(kernelMinor, MaxSupportedMinor);
        uint maxReadahead = Math.Min(kernelReadahead, (uint)_options.MaxReadahead);

        var outArg = new InitOut
        {
            Major = KernelMajor,
            Minor = minor,
            MaxReadahead = maxReadahead,
            Flags = (uint)((ulong)flags & 0xFFFF_FFFF),
            MaxBackground = _options.MaxBackground,
            CongestionThreshold = Math.Min(_options.CongestionThreshold, _options.MaxBackground),
            MaxWrite = (uint)_options.MaxWrite,
            TimeGran = _options.TimeGranularity,
            MaxPages = (ushort)(_options.MaxWrite / PageSize),
            Flags2 = (flags & FuseInitFlags.InitExt) != 0 ? (uint)((ulong)flags >> 32) : 0,
        };

        var connection = new FuseConnectionInfo(major, minor, kernelMinor, flags, kernelFlags, (uint)_options.MaxWrite, maxReadahead);
        try
        {
            _fs.Init(connection);
        }
        catch (Exception e)
        {
            // The file system cannot serve: fail INIT, which fails the mount.
            Counters.CountHandlerException();
            FuseLog.HandlerThrew(_logger, header.Opcode, header.Unique, header.NodeId, e);
            return ReplyError(header.Unique, Errno.EIO, reply);
        }

        _setXattrExt = (flags & FuseInitFlags.SetXattrExt) != 0;
        _connection = connection;
        FuseLog.Initialized(_logger, major, kernelMinor, kernelFlags, minor, flags, outArg.MaxWrite);

        MemoryMarshal.Write(reply[ReplyBody..], outArg);
        return ReplyOk(header.Unique, minor < 23 ? InitOut.Compat22SizeOf : InitOut.SizeOf, reply);
    }

    /// <summary>The capabilities this file system and these options want; INIT intersects them with the offer.</summary>
    private FuseInitFlags WantedFlags()
    {
        // Always: writes above 4 KiB, parallel direct I/O, the second flags word, bigger requests,
        // ECONNABORTED after an abort (tells an abort from an unmount), the 16-byte setxattr_in.
        FuseInitFlags flags = FuseInitFlags.BigWrites | FuseInitFlags.AsyncDio | FuseInitFlags.InitExt
            | FuseInitFlags.MaxPages | FuseInitFlags.AbortError | FuseInitFlags.SetXattrExt;

        if (_options.AsyncRead)
        {
            flags |= FuseInitFlags.AsyncRead;
        }

        if (_options.ParallelDirOps)
        {
            flags |= FuseInitFlags.ParallelDirOps;
        }

        if ((_implemented & Implemented.SetLk) != 0)
        {
            flags |= FuseInitFlags.PosixLocks;
        }

        if ((_implemented & Implemented.Flock) != 0)
        {
            flags |= FuseInitFlags.FlockLocks;
        }

        if ((_implemented & Implemented.ReadDirPlus) != 0 && _options.ReadDirPlus != FuseReadDirPlusMode.Off)
        {
            flags |= FuseInitFlags.DoReadDirPlus;
            if (_options.ReadDirPlus == FuseReadDirPlusMode.Auto)
            {
                flags |= FuseInitFlags.ReadDirPlusAuto;
            }
        }

        // Without an Open/OpenDir the kernel may skip those requests altogether (zero-message opens).
        if ((_implemented & Implemented.Open) == 0)
        {
            flags |= FuseInitFlags.NoOpenSupport;
        }

        if ((_implemented & Implemented.OpenDir) == 0)
        {
            flags |= FuseInitFlags.NoOpenDirSupport;
        }

        flags |= _options.DataInvalidation switch
        {
            FuseDataInvalidation.Auto => FuseInitFlags.AutoInvalData,
            FuseDataInvalidation.Explicit => FuseInitFlags.ExplicitInvalData,
            _ => FuseInitFlags.None,
        };

        flags |= _options.AtomicOTrunc ? FuseInitFlags.AtomicOTrunc : FuseInitFlags.None;
        flags |= _options.HandleKillPrivV2 ? FuseInitFlags.HandleKillPrivV2 : FuseInitFlags.None;
        flags |= _options.WritebackCache ? FuseInitFlags.WritebackCache : FuseInitFlags.None;
        flags |= _options.CacheSymlinks ? FuseInitFlags.CacheSymlinks : FuseInitFlags.None;
        flags |= _options.DontMask ? FuseInitFlags.DontMask : FuseInitFlags.None;
        flags |= _options.PosixAcl ? FuseInitFlags.PosixAcl : FuseInitFlags.None;
        flags |= _options.ExportSupport ? FuseInitFlags.ExportSupport : FuseInitFlags.None;
        flags |= _options.DirectIoAllowMmap ? FuseInitFlags.DirectIoAllowMmap : FuseInitFlags.None;
        flags |= _options.Transport == FuseTransportKind.IoUring ? FuseInitFlags.OverIoUring : FuseInitFlags.None;
        return flags;
    }

    /// <summary>The 8-byte init_out of protocol 7.0–7.4, used to answer a newer major.</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct InitCompatOut
    {
        public uint Major;
        public uint Minor;
    }
}
