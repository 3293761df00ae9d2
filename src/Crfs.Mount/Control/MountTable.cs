// SPDX-License-Identifier: MIT
using System.Globalization;
using System.Text;

namespace Crfs.Mount.Control;

/// <summary>One line of /proc/self/mountinfo, the fields the control channel needs.</summary>
/// <param name="Major">Major number of the mount's st_dev (0 for FUSE: an anonymous device).</param>
/// <param name="Minor">Minor number of the mount's st_dev.</param>
/// <param name="MountPoint">Absolute path, unescaped.</param>
/// <param name="FileSystemType">e.g. <c>fuse.crfs</c>.</param>
/// <param name="Source">The mount's source (the FUSE fsname), unescaped.</param>
public sealed record MountEntry(uint Major, uint Minor, string MountPoint, string FileSystemType, string Source)
{
    /// <summary>The type a CRFS mount has: FUSE with subtype <c>crfs</c>.</summary>
    public const string CrfsType = "fuse.crfs";

    public bool IsCrfs => FileSystemType == CrfsType;
}

/// <summary>
/// Finds the mount at a path in /proc/self/mountinfo. Reading the table never touches the mount
/// itself, so it answers even when the mount's daemon hangs or died (a stat(2) of the mount point
/// would block or fail with ENOTCONN).
/// </summary>
public static class MountTable
{
    public const string MountInfoPath = "/proc/self/mountinfo";

    /// <summary>The topmost mount whose mount point is exactly <paramref name="path"/> (made absolute), or null.</summary>
    public static MountEntry? Find(string path)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        if (full.Length == 0)
        {
            full = "/";
        }

        MountEntry? found = null;
        foreach (string line in File.ReadLines(MountInfoPath))
        {
            if (TryParse(line, out MountEntry? entry) && entry.MountPoint == full)
            {
                found = entry;
            }
        }

        return found;
    }

    /// <summary>Parses one mountinfo line: <c>id parent major:minor root mountpoint options [optional...] - fstype source superoptions</c>.</summary>
    public static bool TryParse(string line, out MountEntry entry)
    {
        entry = null!;
        string[] fields = line.Split(' ');
        int separator = fields.Length < 9 ? -1 : Array.IndexOf(fields, "-", 6);
        if (separator < 0 || separator + 2 >= fields.Length)
        {
            return false;
        }

        string[] dev = fields[2].Split(':');
        if (dev.Length != 2
            || !uint.TryParse(dev[0], NumberStyles.None, CultureInfo.InvariantCulture, out uint major)
            || !uint.TryParse(dev[1], NumberStyles.None, CultureInfo.InvariantCulture, out uint minor))
        {
            return false;
        }

        entry = new MountEntry(major, minor, Unescape(fields[4]), Unescape(fields[separator + 1]), Unescape(fields[separator + 2]));
        return true;
    }

    /// <summary>The kernel writes space, tab, newline and backslash in mountinfo as <c>\ooo</c> octal escapes.</summary>
    private static string Unescape(string field)
    {
        if (!field.Contains('\\', StringComparison.Ordinal))
        {
            return field;
        }

        var bytes = new List<byte>(field.Length);
        byte[] raw = Encoding.UTF8.GetBytes(field);
        for (int i = 0; i < raw.Length; i++)
        {
            if (raw[i] == (byte)'\\' && i + 3 < raw.Length && IsOctal(raw[i + 1]) && IsOctal(raw[i + 2]) && IsOctal(raw[i + 3]))
            {
                bytes.Add((byte)(((raw[i + 1] - '0') << 6) | ((raw[i + 2] - '0') << 3) | (raw[i + 3] - '0')));
                i += 3;
            }
            else
            {
                bytes.Add(raw[i]);
            }
        }

        return Encoding.UTF8.GetString([.. bytes]);
    }

    private static bool IsOctal(byte b) => b is >= (byte)'0' and <= (byte)'7';
}
