// SPDX-License-Identifier: MIT
using System.Net;
using System.Net.Sockets;

namespace Crfs.Protocol.Transports;

/// <summary>
/// Accepts TCP connections and hands each out as a <see cref="TcpTransport"/>. It knows nothing
/// of greetings or sessions: the server reads each transport's HELLO itself
/// (<see cref="CrfsConnection.ReadHelloAsync"/>), so one bad peer never disturbs the others.
/// Bind port 0 to let the kernel choose (tests do), then read <see cref="LocalEndPoint"/>.
/// </summary>
public sealed class CrfsTcpListener : IAsyncDisposable
{
    private readonly Socket _socket;
    private readonly TcpTransportOptions _options;

    private CrfsTcpListener(Socket socket, TcpTransportOptions options)
    {
        _socket = socket;
        _options = options;
    }

    public IPEndPoint LocalEndPoint => (IPEndPoint)_socket.LocalEndPoint!;

    public static CrfsTcpListener Start(IPEndPoint endPoint, TcpTransportOptions? options = null, int backlog = 128)
    {
        var socket = new Socket(endPoint.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.ReuseAddress, true);
            socket.Bind(endPoint);
            socket.Listen(backlog);
            return new CrfsTcpListener(socket, options ?? TcpTransportOptions.Default);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The next incoming connection; throws <see cref="OperationCanceledException"/> when cancelled.</summary>
    public async ValueTask<TcpTransport> AcceptAsync(CancellationToken cancellationToken = default)
    {
        Socket accepted = await _socket.AcceptAsync(cancellationToken);
        try
        {
            return new TcpTransport(accepted, _options);
        }
        catch
        {
            accepted.Dispose();
            throw;
        }
    }

    public ValueTask DisposeAsync()
    {
        _socket.Dispose();
        return ValueTask.CompletedTask;
    }
}
