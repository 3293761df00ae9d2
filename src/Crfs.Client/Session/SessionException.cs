// SPDX-License-Identifier: MIT
using Crfs.Protocol;

namespace Crfs.Client.Session;

/// <summary>
/// A request the file system cannot do without failed: the server answered with an error status, or
/// the session was closed or evicted. The file-system layer turns it into an errno (<see cref="Status"/>
/// through <see cref="WireErrors"/>, EIO for a closed session).
/// </summary>
public sealed class SessionException : IOException
{
    public SessionException(WireError status, string message)
        : base(message)
    {
        Status = status;
    }

    public WireError Status { get; }
}
