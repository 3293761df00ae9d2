// SPDX-License-Identifier: MIT
using System.Net.Sockets;

namespace Crfs.Mount.Control;

/// <summary>How a control request ended.</summary>
public enum ControlStatus
{
    /// <summary>The mount process did what was asked; <see cref="ControlReply.Payload"/> holds any answer.</summary>
    Ok,

    /// <summary>The mount process answered with an error (e.g. the commit was refused, the mount is busy).</summary>
    Failed,

    /// <summary>Nothing is mounted at the path.</summary>
    NotMounted,

    /// <summary>Something other than CRFS is mounted at the path.</summary>
    NotCrfs,

    /// <summary>A CRFS mount without a control socket (mounted by a library user, or an older crfs).</summary>
    NoControlSocket,

    /// <summary>The socket exists but nobody answers: the mount process was killed or crashed.</summary>
    MountProcessGone,
}

/// <summary>The outcome of one control request; <see cref="Message"/> is one line fit for a user.</summary>
public sealed record ControlReply(ControlStatus Status, string Message, string? Payload = null)
{
    public bool IsOk => Status == ControlStatus.Ok;
}

/// <summary>
/// The client end of the control channel, for <c>crfs sync/stat/umount</c> and tests: finds the
/// mount's socket from the mount point alone (mountinfo gives the device number, see
/// <see cref="ControlProtocol.SocketPath"/>), sends one request and reads the one reply.
/// Expected failures — not a CRFS mount, no socket, a mount process that has gone, an error the
/// process reports — come back as a <see cref="ControlReply"/>; only a malformed reply throws.
/// </summary>
public static class MountControlClient
{
    /// <summary>Finds the control socket of the CRFS mount at <paramref name="mountPoint"/>.</summary>
    public static ControlReply Locate(string mountPoint, out string? socketPath)
    {
        socketPath = null;
        string path = Path.GetFullPath(mountPoint);
        MountEntry? entry = MountTable.Find(path);
        if (entry is null)
        {
            return new ControlReply(ControlStatus.NotMounted, $"nothing is mounted at '{path}'");
        }

        if (!entry.IsCrfs)
        {
            return new ControlReply(ControlStatus.NotCrfs, $"'{path}' is a {entry.FileSystemType} mount, not a CRFS mount ({MountEntry.CrfsType})");
        }

        socketPath = ControlProtocol.SocketPath(entry.Major, entry.Minor);
        return File.Exists(socketPath)
            ? new ControlReply(ControlStatus.Ok, socketPath)
            : new ControlReply(ControlStatus.NoControlSocket, $"the CRFS mount at '{path}' has no control socket ({socketPath} is missing: mounted by another program, or its mount process has gone)");
    }

    /// <summary>
    /// Sends <paramref name="verb"/> to the mount at <paramref name="mountPoint"/> and waits for
    /// the reply (a sync or unmount waits as long as the commit takes).
    /// </summary>
    /// <exception cref="InvalidDataException">The reply is malformed.</exception>
    public static async Task<ControlReply> SendAsync(string mountPoint, ControlVerb verb, CancellationToken cancellationToken = default)
    {
        ControlReply located = Locate(mountPoint, out string? socketPath);
        if (!located.IsOk)
        {
            return located;
        }

        string path = Path.GetFullPath(mountPoint);
        using var socket = new Socket(AddressFamily.Unix, SocketType.Stream, ProtocolType.Unspecified);
        try
        {
            await socket.ConnectAsync(new UnixDomainSocketEndPoint(socketPath!), cancellationToken).ConfigureAwait(false);
        }
        catch (SocketException e) when (e.SocketErrorCode is SocketError.ConnectionRefused or SocketError.AddressNotAvailable)
        {
            return new ControlReply(ControlStatus.MountProcessGone, $"the mount process of '{path}' has gone (nobody listens on {socketPath}); unmount it with 'crfs umount --lazy {path}'");
        }

        await using var stream = new NetworkStream(socket, ownsSocket: false);
        string? line;
        try
        {
            await ControlProtocol.WriteLineAsync(stream, ControlProtocol.Format(verb), cancellationToken).ConfigureAwait(false);
            line = await ControlProtocol.ReadLineAsync(stream, ControlProtocol.MaxReplyLength, cancellationToken).ConfigureAwait(false);
        }
        catch (IOException e)
        {
            return new ControlReply(ControlStatus.MountProcessGone, $"the mount process of '{path}' went away during '{ControlProtocol.Format(verb)}': {e.Message}");
        }

        if (line is null)
        {
            return new ControlReply(ControlStatus.MountProcessGone, $"the mount process of '{path}' closed the control connection without answering '{ControlProtocol.Format(verb)}'");
        }

        if (line == ControlProtocol.Ok)
        {
            return new ControlReply(ControlStatus.Ok, "ok");
        }

        if (line.StartsWith(ControlProtocol.Ok + " ", StringComparison.Ordinal))
        {
            return new ControlReply(ControlStatus.Ok, "ok", line[(ControlProtocol.Ok.Length + 1)..]);
        }

        if (line.StartsWith(ControlProtocol.Error + " ", StringComparison.Ordinal))
        {
            return new ControlReply(ControlStatus.Failed, line[(ControlProtocol.Error.Length + 1)..]);
        }

        throw new InvalidDataException($"malformed control reply from {socketPath}: '{(line.Length > 80 ? line[..80] + "..." : line)}'");
    }
}
