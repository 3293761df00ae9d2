// SPDX-License-Identifier: MIT
namespace Crfs.Testing;

public enum EntryKind
{
    Regular,
    Directory,
    Symlink,
    Fifo,
    CharDevice,
    BlockDevice,
    Socket,
}

/// <summary>A byte range <c>[Start, End)</c> of a file.</summary>
public readonly record struct ByteRange(long Start, long End)
{
    public long Length => End - Start;

    public bool Overlaps(ByteRange other) => Start < other.End && other.Start < End;

    public override string ToString() => $"[{Start}, {End})";
}

/// <summary>
/// Everything a manifest records about one path, as the kernel reported it through statx,
/// readlink, llistxattr/lgetxattr, read and SEEK_DATA/SEEK_HOLE. Times are the ones seen before
/// the walk read the entry (reading a directory or a symlink can move its atime).
/// </summary>
public sealed class ManifestEntry
{
    /// <summary>The path relative to the walked root, escaped (<see cref="ByteNames"/>); "/" is the root itself.</summary>
    public required string Path { get; init; }

    public required byte[] PathBytes { get; init; }

    public required EntryKind Kind { get; init; }

    /// <summary>The mode's permission bits including set-uid, set-gid and sticky (mode &amp; 07777).</summary>
    public required uint Permissions { get; init; }

    public required uint Uid { get; init; }

    public required uint Gid { get; init; }

    public required long Size { get; init; }

    public required uint LinkCount { get; init; }

    /// <summary>
    /// The inode's identity on the walked file system: its st_dev (subvolumes of one btrfs mount
    /// have different ones) and st_ino. Used only to group hard links, never compared directly.
    /// </summary>
    public required (ulong Device, ulong Inode) Identity { get; init; }

    public required uint RdevMajor { get; init; }

    public required uint RdevMinor { get; init; }

    public required Timespec Atime { get; init; }

    public required Timespec Mtime { get; init; }

    public required Timespec Ctime { get; init; }

    /// <summary>512-byte blocks allocated (st_blocks); informational, file-system dependent.</summary>
    public required long Blocks { get; init; }

    public required SortedDictionary<string, byte[]> Xattrs { get; init; }

    /// <summary>Lower-case hex SHA-256 of a regular file's bytes; null for other kinds.</summary>
    public string? ContentSha256 { get; init; }

    public byte[]? SymlinkTarget { get; init; }

    /// <summary>The ranges SEEK_DATA reports as data, clipped to the size; null for non-regular files.</summary>
    public IReadOnlyList<ByteRange>? DataRanges { get; init; }

    public IEnumerable<ByteRange> HoleRanges()
    {
        if (DataRanges is null)
        {
            yield break;
        }

        long position = 0;
        foreach (ByteRange data in DataRanges)
        {
            if (data.Start > position)
            {
                yield return new ByteRange(position, data.Start);
            }

            position = data.End;
        }

        if (position < Size)
        {
            yield return new ByteRange(position, Size);
        }
    }

    public static EntryKind KindOf(uint mode) => (mode & LibC.IFMT) switch
    {
        LibC.IFREG => EntryKind.Regular,
        LibC.IFDIR => EntryKind.Directory,
        LibC.IFLNK => EntryKind.Symlink,
        LibC.IFIFO => EntryKind.Fifo,
        LibC.IFCHR => EntryKind.CharDevice,
        LibC.IFBLK => EntryKind.BlockDevice,
        LibC.IFSOCK => EntryKind.Socket,
        _ => throw new InvalidDataException($"unknown file type in mode 0{Convert.ToString(mode, 8)}"),
    };

    public override string ToString() => $"{Path} ({Kind} 0{Convert.ToString(Permissions, 8)} {Uid}:{Gid} size {Size})";
}
