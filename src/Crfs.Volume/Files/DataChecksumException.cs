// SPDX-License-Identifier: MIT
namespace Crfs.Volume.Files;

/// <summary>
/// File data failed its checksum on every copy (or has no checksum although it must): the reader
/// answers EIO rather than return bytes it cannot vouch for. The message is one line naming the
/// subvolume, inode, file offset, logical address, and the expected and actual checksums in hex.
/// </summary>
public sealed class DataChecksumException : IOException
{
    public DataChecksumException(ulong subvolume, ulong inode, ulong fileOffset, ulong logical, string? expected, IReadOnlyList<string> actual)
        : base(Describe(subvolume, inode, fileOffset, logical, expected, actual))
    {
        Subvolume = subvolume;
        Inode = inode;
        FileOffset = fileOffset;
        Logical = logical;
        Expected = expected;
        Actual = actual;
    }

    public ulong Subvolume { get; }

    public ulong Inode { get; }

    /// <summary>The file offset of the bad sector (for compressed extents: of the extent).</summary>
    public ulong FileOffset { get; }

    /// <summary>The logical address of the bad sector.</summary>
    public ulong Logical { get; }

    /// <summary>The stored checksum in hex, or null when none is stored.</summary>
    public string? Expected { get; }

    /// <summary>The computed checksum of each copy, in mirror order.</summary>
    public IReadOnlyList<string> Actual { get; }

    private static string Describe(ulong subvolume, ulong inode, ulong fileOffset, ulong logical, string? expected, IReadOnlyList<string> actual)
    {
        string where = $"subvolume {subvolume} inode {inode} file offset {fileOffset} (logical {logical})";
        if (expected is null)
        {
            return $"data checksum missing: {where} has no EXTENT_CSUM entry";
        }

        string found = actual.Count == 1
            ? $"0x{actual[0]}"
            : string.Join(", ", actual.Select((a, i) => $"0x{a} (mirror {i + 1})"));
        return $"data checksum mismatch: {where}: expected 0x{expected}, actual {found}";
    }
}
