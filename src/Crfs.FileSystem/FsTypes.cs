// SPDX-License-Identifier: MIT
using Crfs.Posix;

namespace Crfs.FileSystem;

/// <summary>Who asks: the credentials FUSE passes with every request.</summary>
public readonly record struct Caller(uint Uid, uint Gid, IReadOnlyList<uint>? SupplementaryGroups = null)
{
    public static Caller Root => new(0, 0);

    public bool IsRoot => Uid == 0;

    public bool InGroup(uint gid)
    {
        if (gid == Gid)
        {
            return true;
        }

        if (SupplementaryGroups is not null)
        {
            foreach (uint g in SupplementaryGroups)
            {
                if (g == gid)
                {
                    return true;
                }
            }
        }

        return false;
    }
}

/// <summary>An operation's outcome: <see cref="Errno.Ok"/> and a value, or an errno.</summary>
public readonly record struct FsResult<T>(Errno Error, T? Value)
{
    public bool IsOk => Error == Errno.Ok;

    public static implicit operator FsResult<T>(Errno error) => new(error, default);

    public static FsResult<T> Ok(T value) => new(Errno.Ok, value);

    public T Get() => IsOk ? Value! : throw new InvalidOperationException($"the operation failed with {Error}");
}

/// <summary>The attribute changes of one setattr; null fields stay as they are.</summary>
public sealed record SetAttributes
{
    public uint? Mode { get; init; }

    public uint? Uid { get; init; }

    public uint? Gid { get; init; }

    public ulong? Size { get; init; }

    public Timespec? Atime { get; init; }

    public Timespec? Mtime { get; init; }

    /// <summary>UTIME_NOW for atime: permitted to anyone who may write the file.</summary>
    public bool AtimeNow { get; init; }

    public bool MtimeNow { get; init; }
}

/// <summary>One directory entry as readdir(plus) returns it; <see cref="NextOffset"/> resumes after it.</summary>
public sealed record DirectoryEntry(ulong Ino, byte[] Name, FileType Type, ulong NextOffset, InodeAttributes? Attributes);

/// <summary>renameat2 flags (Linux values).</summary>
[Flags]
public enum RenameFlags : uint
{
    None = 0,
    NoReplace = 1,
    Exchange = 2,
    Whiteout = 4,
}

/// <summary>setxattr flags (Linux values).</summary>
public enum XattrSetMode
{
    Any = 0,
    Create = 1,
    Replace = 2,
}

/// <summary>An open file: a handle number for read, write and release, and the attributes after open.</summary>
public readonly record struct OpenedFile(ulong Handle, InodeAttributes Attributes);

/// <summary>statfs(2) numbers.</summary>
public readonly record struct FsStatistics(ulong Blocks, ulong FreeBlocks, ulong AvailableBlocks, ulong Files, ulong FreeFiles, uint BlockSize, uint NameMax);

/// <summary>Settings of a <see cref="CrfsFileSystem"/>.</summary>
public sealed record FileSystemOptions
{
    /// <summary>The fs tree served (5 = the top-level subvolume).</summary>
    public ulong TreeId { get; init; } = Format.Btrfs.ObjectIds.FsTree;

    /// <summary>The root directory's inode number.</summary>
    public ulong RootIno { get; init; } = Format.Btrfs.ObjectIds.FirstFree;

    /// <summary>The volume's node size: bounds inode-ref items and xattrs.</summary>
    public int NodeSize { get; init; } = 16384;

    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;
}
