// SPDX-License-Identifier: MIT
using System.Runtime.InteropServices;

namespace Crfs.Testing;

/// <summary>
/// statx(2) as a probe: the errno is the outcome (0 on success) instead of an exception, so
/// conformance tests can assert ENOENT, ELOOP or EACCES as values. Shares the layout parsing of
/// <see cref="LibC"/>.
/// </summary>
public static class StatxProbe
{
    public const int AtFdCwd = -100;
    public const int AtSymlinkNoFollow = 0x100;
    public const int AtEmptyPath = 0x1000;

    private const uint StatxBasicStats = 0x7FF;
    private const int StatxSize = 256;
    private const int Eintr = 4;

    /// <summary>statx of <paramref name="path"/> (relative to <paramref name="dirFd"/>; empty with <see cref="AtEmptyPath"/> for the descriptor itself).</summary>
    public static int Stat(int dirFd, string path, int flags, out StatxResult result)
    {
        byte[] buffer = new byte[StatxSize];
        byte[] z = LibC.Z(path);
        int errno;
        do
        {
            errno = statx(dirFd, z, flags, StatxBasicStats, buffer) == 0 ? 0 : Marshal.GetLastPInvokeError();
        }
        while (errno == Eintr);

        result = errno == 0 ? StatxResult.Parse(buffer) : default;
        return errno;
    }

    [DllImport("libc", SetLastError = true)]
    private static extern int statx(int dirfd, byte[] path, int flags, uint mask, byte[] buffer);
}
