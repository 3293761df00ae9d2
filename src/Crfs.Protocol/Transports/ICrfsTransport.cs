// SPDX-License-Identifier: MIT
using System.IO.Pipelines;

namespace Crfs.Protocol.Transports;

/// <summary>
/// One byte stream between two peers: a duplex pipe plus a name for logs and a way to tear it
/// down. A <see cref="CrfsConnection"/> runs over one transport at a time and disposes it when it
/// detaches. Implementations: <see cref="TcpTransport"/> and <see cref="InMemoryTransport"/>.
/// </summary>
public interface ICrfsTransport : IDuplexPipe, IAsyncDisposable
{
    /// <summary>The peer as logs show it: <c>127.0.0.1:40312</c>, <c>memory#3.b</c>.</summary>
    string Name { get; }
}
