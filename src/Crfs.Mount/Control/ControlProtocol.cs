// SPDX-License-Identifier: MIT
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;

namespace Crfs.Mount.Control;

/// <summary>What a control request asks of the mount process.</summary>
public enum ControlVerb
{
    /// <summary>Commit everything the session holds; answered once it is durable on the server.</summary>
    Sync,

    /// <summary>The mount's counters, as one line of JSON (<see cref="MountStatistics"/>).</summary>
    Stat,

    /// <summary>Unmount, make the final commit, answer with its result; the process then exits.</summary>
    Unmount,

    /// <summary>Like <see cref="Unmount"/> with MNT_FORCE: requests in flight fail first.</summary>
    UnmountForce,
}

/// <summary>
/// The control channel's wire format: one request line, one reply line, then the connection
/// closes. Lines are UTF-8 and end with <c>\n</c>.
/// </summary>
/// <remarks>
/// <para>Request: <c>sync</c>, <c>stat</c>, <c>unmount</c> or <c>unmount force</c>, at most
/// <see cref="MaxRequestLength"/> bytes. Reply: <c>ok</c>, <c>ok PAYLOAD</c> (stat: a JSON
/// object on the same line) or <c>error MESSAGE</c>, at most <see cref="MaxReplyLength"/> bytes.
/// Anything else — too long, no newline before the end, not UTF-8, an unknown verb — is rejected
/// where it is read, so neither end acts on a malformed line.</para>
/// <para>Text lines rather than binary frames: the channel carries a handful of messages per
/// command, and a person can speak it with <c>socat - UNIX-CONNECT:/run/crfs/0-52.sock</c>.</para>
/// </remarks>
public static class ControlProtocol
{
    public const int MaxRequestLength = 256;

    public const int MaxReplyLength = 1 << 20;

    public const string Ok = "ok";

    public const string Error = "error";

    /// <summary>The request line (without the newline) for <paramref name="verb"/>.</summary>
    public static string Format(ControlVerb verb) => verb switch
    {
        ControlVerb.Sync => "sync",
        ControlVerb.Stat => "stat",
        ControlVerb.Unmount => "unmount",
        ControlVerb.UnmountForce => "unmount force",
        _ => throw new ArgumentOutOfRangeException(nameof(verb), verb, "unknown control verb"),
    };

    public static bool TryParseRequest(string line, out ControlVerb verb)
    {
        (bool ok, verb) = line switch
        {
            "sync" => (true, ControlVerb.Sync),
            "stat" => (true, ControlVerb.Stat),
            "unmount" => (true, ControlVerb.Unmount),
            "unmount force" => (true, ControlVerb.UnmountForce),
            _ => (false, default),
        };
        return ok;
    }

    /// <summary>
    /// Reads one line of at most <paramref name="maxLength"/> bytes. Null when the peer closed
    /// before sending anything; <see cref="InvalidDataException"/> for a line that is too long,
    /// cut short, or not UTF-8.
    /// </summary>
    public static async Task<string?> ReadLineAsync(Stream stream, int maxLength, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[Math.Min(maxLength + 1, 4096)];
        using var line = new MemoryStream();
        while (true)
        {
            int n = await stream.ReadAsync(buffer, cancellationToken).ConfigureAwait(false);
            if (n == 0)
            {
                if (line.Length == 0)
                {
                    return null;
                }

                throw new InvalidDataException($"control line cut short after {line.Length} bytes (no newline)");
            }

            int newline = Array.IndexOf(buffer, (byte)'\n', 0, n);
            int take = newline >= 0 ? newline : n;
            if (line.Length + take > maxLength)
            {
                throw new InvalidDataException($"control line longer than {maxLength} bytes");
            }

            line.Write(buffer, 0, take);
            if (newline >= 0)
            {
                if (newline != n - 1)
                {
                    throw new InvalidDataException("bytes after the control line (one line per direction)");
                }

                try
                {
                    return new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(line.GetBuffer(), 0, (int)line.Length);
                }
                catch (DecoderFallbackException e)
                {
                    throw new InvalidDataException("control line is not UTF-8", e);
                }
            }
        }
    }

    /// <summary>Writes <paramref name="text"/> (which must not contain a newline) and the newline.</summary>
    public static async Task WriteLineAsync(Stream stream, string text, CancellationToken cancellationToken)
    {
        byte[] bytes = Encoding.UTF8.GetBytes(text.Replace('\n', ' ') + "\n");
        await stream.WriteAsync(bytes, cancellationToken).ConfigureAwait(false);
        await stream.FlushAsync(cancellationToken).ConfigureAwait(false);
    }

    // ---------------- where sockets live ----------------

    /// <summary>
    /// The directory of control sockets: <c>/run/crfs</c> for root; for other users
    /// <c>$XDG_RUNTIME_DIR/crfs</c> (or <c>/tmp/crfs-UID</c>). Created mode 0700, so only the
    /// user who mounts (and root) can reach the sockets: the channel needs no authentication of
    /// its own, and a sync or unmount request is no more than that user could do anyway.
    /// </summary>
    public static string SocketDirectory
    {
        get
        {
            uint uid = GetEuid();
            if (uid == 0)
            {
                return "/run/crfs";
            }

            return Environment.GetEnvironmentVariable("XDG_RUNTIME_DIR") is { Length: > 0 } runtime
                ? Path.Combine(runtime, "crfs")
                : $"/tmp/crfs-{uid.ToString(CultureInfo.InvariantCulture)}";
        }
    }

    /// <summary>
    /// The socket of the mount with device number <paramref name="major"/>:<paramref name="minor"/>.
    /// </summary>
    /// <remarks>
    /// Keyed by the st_dev of the mounted root because a client can learn it from the mount point
    /// alone (mountinfo, without touching the mount), and because it is unique while the mount
    /// exists: each FUSE mount gets its own anonymous device number from the kernel, freed only
    /// when the superblock goes away. A path-derived name would break with bind mounts, renamed
    /// parents and stacked mounts; a pid file would need the pid first.
    /// </remarks>
    public static string SocketPath(uint major, uint minor) =>
        Path.Combine(SocketDirectory, string.Create(CultureInfo.InvariantCulture, $"{major}-{minor}.sock"));

    [DllImport("libc", EntryPoint = "geteuid")]
    private static extern uint GetEuid();
}
