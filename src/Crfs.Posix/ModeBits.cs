// SPDX-License-Identifier: MIT
namespace Crfs.Posix;

/// <summary>
/// The bits of a POSIX <c>st_mode</c> besides the file type: <c>S_IFMT</c>, the set-id and sticky
/// bits and the permission masks. Linux values (identical on every architecture).
/// </summary>
public static class ModeBits
{
    /// <summary><c>S_IFMT</c>: the file-type bits, see <see cref="FileType"/>.</summary>
    public const uint TypeMask = 0xF000;

    /// <summary><c>S_ISUID</c>.</summary>
    public const uint SetUid = 0x800;

    /// <summary><c>S_ISGID</c>.</summary>
    public const uint SetGid = 0x400;

    /// <summary><c>S_ISVTX</c>.</summary>
    public const uint Sticky = 0x200;

    /// <summary>The nine rwx bits (<c>0777</c>).</summary>
    public const uint PermissionMask = 0x1FF;

    /// <summary>Permissions plus set-id and sticky bits (<c>07777</c>): everything chmod can change.</summary>
    public const uint ChmodMask = 0xFFF;

    /// <summary><c>S_IXGRP</c>: with <see cref="SetGid"/> it marks a file as setgid-executable.</summary>
    public const uint GroupExecute = 0x8;
}
