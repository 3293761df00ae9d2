// SPDX-License-Identifier: MIT
using System.Collections.Concurrent;
using Crfs.Posix;
using Microsoft.Extensions.Logging;

namespace Crfs.Protocol;

/// <summary>
/// The one place where <see cref="WireError"/> meets <see cref="Errno"/>. Every wire error has an
/// errno, and every errno the wire has a word for comes back unchanged, with one exception:
/// <see cref="WireError.Evicted"/> describes the session rather than the file system and reaches
/// applications as EIO (the client's policy decides what else an eviction means). An errno the
/// wire has no word for goes out as <see cref="WireError.Invalid"/>, and the first time each such
/// errno is seen (with a logger to tell) a warning names it, so the gap gets noticed without
/// flooding the log.
/// </summary>
public static class WireErrors
{
    private static readonly ConcurrentDictionary<Errno, bool> s_warned = new();

    public static bool IsDefined(WireError error) => error <= WireError.TooBig;

    public static Errno ToErrno(WireError error) => error switch
    {
        WireError.Ok => Errno.Ok,
        WireError.NotFound => Errno.ENOENT,
        WireError.Exists => Errno.EEXIST,
        WireError.NoSpace => Errno.ENOSPC,
        WireError.Io => Errno.EIO,
        WireError.Stale => Errno.ESTALE,
        WireError.Access => Errno.EACCES,
        WireError.Permission => Errno.EPERM,
        WireError.NotEmpty => Errno.ENOTEMPTY,
        WireError.NotDir => Errno.ENOTDIR,
        WireError.IsDir => Errno.EISDIR,
        WireError.CrossDevice => Errno.EXDEV,
        WireError.NameTooLong => Errno.ENAMETOOLONG,
        WireError.Loop => Errno.ELOOP,
        WireError.Invalid => Errno.EINVAL,
        WireError.Busy => Errno.EBUSY,
        WireError.Again => Errno.EAGAIN,
        WireError.TimedOut => Errno.ETIMEDOUT,
        WireError.Evicted => Errno.EIO,
        WireError.ProtocolError => Errno.EPROTO,
        WireError.ReadOnly => Errno.EROFS,
        WireError.FileTooBig => Errno.EFBIG,
        WireError.TooManyLinks => Errno.EMLINK,
        WireError.NoData => Errno.ENODATA,
        WireError.Range => Errno.ERANGE,
        WireError.NotSupported => Errno.EOPNOTSUPP,
        WireError.Overflow => Errno.EOVERFLOW,
        WireError.Deadlock => Errno.EDEADLK,
        WireError.NoLocks => Errno.ENOLCK,
        WireError.QuotaExceeded => Errno.EDQUOT,
        WireError.BadHandle => Errno.EBADF,
        WireError.TextBusy => Errno.ETXTBSY,
        WireError.NoMemory => Errno.ENOMEM,
        WireError.NotImplemented => Errno.ENOSYS,
        WireError.Interrupted => Errno.EINTR,
        WireError.Canceled => Errno.ECANCELED,
        WireError.TooBig => Errno.E2BIG,
        _ => throw new ArgumentOutOfRangeException(nameof(error), error, $"wire error {(byte)error} is not defined; frames are validated before their status is read"),
    };

    /// <summary>
    /// The wire error for <paramref name="errno"/>; <see cref="WireError.Invalid"/> when the wire
    /// has no word for it (then warns once per errno through <paramref name="logger"/>).
    /// </summary>
    public static WireError FromErrno(Errno errno, ILogger? logger = null)
    {
        if (TryFromErrno(errno, out WireError error))
        {
            return error;
        }

        if (logger is not null && s_warned.TryAdd(errno, true))
        {
            ProtocolLog.UnmappedErrno(logger, errno.ToString(), (int)errno);
        }

        return WireError.Invalid;
    }

    /// <summary>False when the wire has no word for <paramref name="errno"/>.</summary>
    public static bool TryFromErrno(Errno errno, out WireError error)
    {
        error = errno switch
        {
            Errno.Ok => WireError.Ok,
            Errno.ENOENT => WireError.NotFound,
            Errno.EEXIST => WireError.Exists,
            Errno.ENOSPC => WireError.NoSpace,
            Errno.EIO => WireError.Io,
            Errno.ESTALE => WireError.Stale,
            Errno.EACCES => WireError.Access,
            Errno.EPERM => WireError.Permission,
            Errno.ENOTEMPTY => WireError.NotEmpty,
            Errno.ENOTDIR => WireError.NotDir,
            Errno.EISDIR => WireError.IsDir,
            Errno.EXDEV => WireError.CrossDevice,
            Errno.ENAMETOOLONG => WireError.NameTooLong,
            Errno.ELOOP => WireError.Loop,
            Errno.EINVAL => WireError.Invalid,
            Errno.EBUSY => WireError.Busy,
            Errno.EAGAIN => WireError.Again,
            Errno.ETIMEDOUT => WireError.TimedOut,
            Errno.EROFS => WireError.ReadOnly,
            Errno.EFBIG => WireError.FileTooBig,
            Errno.EMLINK => WireError.TooManyLinks,
            Errno.ENODATA => WireError.NoData,
            Errno.ERANGE => WireError.Range,
            Errno.EOPNOTSUPP => WireError.NotSupported,
            Errno.EOVERFLOW => WireError.Overflow,
            Errno.EDEADLK => WireError.Deadlock,
            Errno.ENOLCK => WireError.NoLocks,
            Errno.EDQUOT => WireError.QuotaExceeded,
            Errno.EBADF => WireError.BadHandle,
            Errno.ETXTBSY => WireError.TextBusy,
            Errno.ENOMEM => WireError.NoMemory,
            Errno.ENOSYS => WireError.NotImplemented,
            Errno.EINTR => WireError.Interrupted,
            Errno.ECANCELED => WireError.Canceled,
            Errno.E2BIG => WireError.TooBig,
            Errno.EPROTO => WireError.ProtocolError,
            _ => (WireError)byte.MaxValue,
        };
        if (error == (WireError)byte.MaxValue)
        {
            error = WireError.Invalid;
            return false;
        }

        return true;
    }
}
