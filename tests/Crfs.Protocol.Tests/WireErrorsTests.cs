// SPDX-License-Identifier: MIT
using Crfs.Posix;
using Crfs.Protocol.Tests.Infrastructure;
using Microsoft.Extensions.Logging;

namespace Crfs.Protocol.Tests;

public class WireErrorsTests
{
    // Every Errno and what it becomes on the wire; null = no wire word (goes out as Invalid).
    private static readonly Dictionary<Errno, WireError?> s_errnoTable = new()
    {
        [Errno.Ok] = WireError.Ok,
        [Errno.EPERM] = WireError.Permission,
        [Errno.ENOENT] = WireError.NotFound,
        [Errno.EINTR] = WireError.Interrupted,
        [Errno.EIO] = WireError.Io,
        [Errno.ENXIO] = null,
        [Errno.E2BIG] = WireError.TooBig,
        [Errno.EBADF] = WireError.BadHandle,
        [Errno.EAGAIN] = WireError.Again,
        [Errno.ENOMEM] = WireError.NoMemory,
        [Errno.EACCES] = WireError.Access,
        [Errno.EFAULT] = null,
        [Errno.EBUSY] = WireError.Busy,
        [Errno.EEXIST] = WireError.Exists,
        [Errno.EXDEV] = WireError.CrossDevice,
        [Errno.ENODEV] = null,
        [Errno.ENOTDIR] = WireError.NotDir,
        [Errno.EISDIR] = WireError.IsDir,
        [Errno.EINVAL] = WireError.Invalid,
        [Errno.ENFILE] = null,
        [Errno.EMFILE] = null,
        [Errno.ENOTTY] = null,
        [Errno.ETXTBSY] = WireError.TextBusy,
        [Errno.EFBIG] = WireError.FileTooBig,
        [Errno.ENOSPC] = WireError.NoSpace,
        [Errno.ESPIPE] = null,
        [Errno.EROFS] = WireError.ReadOnly,
        [Errno.EMLINK] = WireError.TooManyLinks,
        [Errno.ERANGE] = WireError.Range,
        [Errno.EDEADLK] = WireError.Deadlock,
        [Errno.ENAMETOOLONG] = WireError.NameTooLong,
        [Errno.ENOLCK] = WireError.NoLocks,
        [Errno.ENOSYS] = WireError.NotImplemented,
        [Errno.ENOTEMPTY] = WireError.NotEmpty,
        [Errno.ELOOP] = WireError.Loop,
        [Errno.ENODATA] = WireError.NoData,
        [Errno.EPROTO] = WireError.ProtocolError,
        [Errno.EOVERFLOW] = WireError.Overflow,
        [Errno.EBADMSG] = null,
        [Errno.EOPNOTSUPP] = WireError.NotSupported,
        [Errno.ECONNABORTED] = null,
        [Errno.ENOTCONN] = null,
        [Errno.ETIMEDOUT] = WireError.TimedOut,
        [Errno.ESTALE] = WireError.Stale,
        [Errno.EDQUOT] = WireError.QuotaExceeded,
        [Errno.ECANCELED] = WireError.Canceled,
    };

    [Fact]
    public void Table_CoversEveryErrno()
    {
        Assert.Equal(Enum.GetValues<Errno>().Order(), s_errnoTable.Keys.Order());
    }

    [Fact]
    public void EveryErrno_MapsAsTheTableSaysAndMappedOnesComeBackUnchanged()
    {
        foreach ((Errno errno, WireError? wire) in s_errnoTable)
        {
            bool mapped = WireErrors.TryFromErrno(errno, out WireError error);

            Assert.True(mapped == wire.HasValue, $"{errno}: mapped {mapped}");
            Assert.Equal(wire ?? WireError.Invalid, error);
            Assert.Equal(wire ?? WireError.Invalid, WireErrors.FromErrno(errno));
            if (wire.HasValue)
            {
                Assert.Equal(errno, WireErrors.ToErrno(error));
            }
        }
    }

    [Fact]
    public void EveryWireError_HasAnErrno_AndAllButEvictedComeBackUnchanged()
    {
        foreach (WireError error in Enum.GetValues<WireError>())
        {
            Assert.True(WireErrors.IsDefined(error));
            Errno errno = WireErrors.ToErrno(error);
            WireError back = WireErrors.FromErrno(errno);
            if (error == WireError.Evicted)
            {
                Assert.Equal(Errno.EIO, errno);
                Assert.Equal(WireError.Io, back);
            }
            else
            {
                Assert.Equal(error, back);
            }
        }
    }

    [Fact]
    public void UndefinedWireError_IsNotDefinedAndHasNoErrno()
    {
        Assert.False(WireErrors.IsDefined((WireError)(Enum.GetValues<WireError>().Max() + 1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => WireErrors.ToErrno((WireError)200));
    }

    [Fact]
    public void UnmappedErrno_GoesOutAsInvalid_WithOneWarningPerErrno()
    {
        var logger = new ListLogger();

        Assert.Equal(WireError.Invalid, WireErrors.FromErrno(Errno.ESPIPE, logger));
        Assert.Equal(WireError.Invalid, WireErrors.FromErrno(Errno.ESPIPE, logger));
        Assert.Equal(WireError.Invalid, WireErrors.FromErrno((Errno)4000, logger));
        Assert.Equal(WireError.NotFound, WireErrors.FromErrno(Errno.ENOENT, logger));

        Assert.Collection(
            logger.Entries,
            e =>
            {
                Assert.Equal(LogLevel.Warning, e.Level);
                Assert.Equal(300, e.EventId);
                Assert.Contains("errno ESPIPE (29)", e.Message);
            },
            e => Assert.Contains("errno 4000 (4000)", e.Message));
    }
}
