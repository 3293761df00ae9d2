// SPDX-License-Identifier: MIT
using System.Text;

namespace Crfs.Testing;

/// <summary>
/// File names are bytes. Tests show them, and key manifests by them, as strings: valid UTF-8 is
/// kept as text, while every byte that is not part of a valid UTF-8 sequence, every control
/// character and the backslash are written as <c>\xNN</c> (backslash as <c>\\</c>). The mapping is
/// injective, so two different byte names never share a display string.
/// </summary>
public static class ByteNames
{
    public static string Escape(ReadOnlySpan<byte> bytes)
    {
        var sb = new StringBuilder(bytes.Length);
        while (!bytes.IsEmpty)
        {
            if (Rune.DecodeFromUtf8(bytes, out Rune rune, out int consumed) == System.Buffers.OperationStatus.Done)
            {
                if (rune.Value == '\\')
                {
                    sb.Append(@"\\");
                }
                else if (Rune.IsControl(rune))
                {
                    foreach (byte b in bytes[..consumed])
                    {
                        sb.Append($"\\x{b:X2}");
                    }
                }
                else
                {
                    sb.Append(rune.ToString());
                }

                bytes = bytes[consumed..];
            }
            else
            {
                sb.Append($"\\x{bytes[0]:X2}");
                bytes = bytes[1..];
            }
        }

        return sb.ToString();
    }

    /// <summary>The inverse of <see cref="Escape"/>.</summary>
    public static byte[] Unescape(string shown)
    {
        var bytes = new List<byte>(shown.Length);
        for (int i = 0; i < shown.Length; i++)
        {
            if (shown[i] == '\\' && i + 1 < shown.Length && shown[i + 1] == '\\')
            {
                bytes.Add((byte)'\\');
                i++;
            }
            else if (shown[i] == '\\' && i + 3 < shown.Length && shown[i + 1] == 'x')
            {
                bytes.Add(Convert.ToByte(shown.Substring(i + 2, 2), 16));
                i += 3;
            }
            else
            {
                int width = char.IsHighSurrogate(shown[i]) ? 2 : 1;
                bytes.AddRange(Encoding.UTF8.GetBytes(shown.Substring(i, width)));
                i += width - 1;
            }
        }

        return [.. bytes];
    }

    /// <summary>Joins a directory path and a name with one '/', as bytes.</summary>
    public static byte[] Join(ReadOnlySpan<byte> directory, ReadOnlySpan<byte> name)
    {
        bool slash = directory.Length > 0 && directory[^1] == (byte)'/';
        byte[] result = new byte[directory.Length + (slash ? 0 : 1) + name.Length];
        directory.CopyTo(result);
        if (!slash)
        {
            result[directory.Length] = (byte)'/';
        }

        name.CopyTo(result.AsSpan(result.Length - name.Length));
        return result;
    }

    public static byte[] Join(string directory, ReadOnlySpan<byte> name) => Join(Encoding.UTF8.GetBytes(directory), name);
}
