// SPDX-License-Identifier: MIT
using System.IO.Pipelines;
using System.Net;
using System.Net.Sockets;

namespace Crfs.Protocol.Transports;

/// <summary>
/// A TCP connection presented as a duplex pipe, the way Kestrel's socket transport does it: two
/// pumps, socket → receive pipe and send pipe → socket, and back-pressure from the pipes'
/// pause/resume thresholds. When the application reads slowly, the receive pump stops reading the
/// socket and the peer's TCP window closes; when the peer reads slowly, the send pipe fills and the
/// application's flush waits.
/// </summary>
/// <remarks>
/// Dead peers are found by the kernel: keepalive probes while idle and, on Linux,
/// TCP_USER_TIMEOUT while data is outstanding (see <see cref="TcpTransportOptions"/>). A socket
/// error ends the receive pipe with an <see cref="IOException"/>; an orderly close from the peer
/// ends it cleanly. Disposal first lets queued bytes drain (bounded by
/// <see cref="TcpTransportOptions.DrainTimeout"/>, so a refused greeting's reply is not lost), then
/// aborts.
/// </remarks>
public sealed class TcpTransport : ICrfsTransport
{
    private const int LinuxTcpUserTimeout = 18;
    private const int MinReceiveBuffer = 64 << 10;

    private readonly Socket _socket;
    private readonly TcpTransportOptions _options;
    private readonly Pipe _receive;
    private readonly Pipe _send;
    private readonly Task _receiveLoop;
    private readonly Task _sendLoop;
    private int _disposed;

    internal TcpTransport(Socket socket, TcpTransportOptions options)
    {
        _socket = socket;
        _options = options;
        Name = socket.RemoteEndPoint?.ToString() ?? "tcp:unknown";
        ApplySocketOptions(socket, options);
        _receive = new Pipe(new PipeOptions(
            pauseWriterThreshold: options.ReceivePauseThreshold,
            resumeWriterThreshold: options.ReceivePauseThreshold / 2,
            useSynchronizationContext: false));
        _send = new Pipe(new PipeOptions(
            pauseWriterThreshold: options.SendPauseThreshold,
            resumeWriterThreshold: options.SendPauseThreshold / 2,
            useSynchronizationContext: false));
        _receiveLoop = ReceiveLoopAsync();
        _sendLoop = SendLoopAsync();
    }

    public string Name { get; }

    public PipeReader Input => _receive.Reader;

    public PipeWriter Output => _send.Writer;

    public EndPoint? LocalEndPoint => _socket.LocalEndPoint;

    public EndPoint? RemoteEndPoint => _socket.RemoteEndPoint;

    public static async Task<TcpTransport> ConnectAsync(EndPoint remote, TcpTransportOptions? options = null, CancellationToken cancellationToken = default)
    {
        var socket = new Socket(remote.AddressFamily, SocketType.Stream, ProtocolType.Tcp);
        try
        {
            await socket.ConnectAsync(remote, cancellationToken);
            return new TcpTransport(socket, options ?? TcpTransportOptions.Default);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }

    /// <summary>The socket options as the kernel reports them, for diagnostics and tests.</summary>
    public TcpSocketSettings ReadSettings()
    {
        bool keepAlive = (int)_socket.GetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive)! != 0;
        int userTimeoutMs = -1;
        if (OperatingSystem.IsLinux())
        {
            Span<byte> value = stackalloc byte[4];
            _socket.GetRawSocketOption((int)ProtocolType.Tcp, LinuxTcpUserTimeout, value);
            userTimeoutMs = BitConverter.ToInt32(value);
        }

        return new TcpSocketSettings(_socket.NoDelay, keepAlive, userTimeoutMs);
    }

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) != 0)
        {
            return;
        }

        await _send.Writer.CompleteAsync();
        try
        {
            await _sendLoop.WaitAsync(_options.DrainTimeout);
        }
        catch (TimeoutException)
        {
            // The peer stopped reading; abort below rather than hang.
        }

        _socket.Dispose();
        await Task.WhenAll(_receiveLoop, _sendLoop);
        await _receive.Reader.CompleteAsync();
    }

    public override string ToString() => Name;

    internal static void ApplySocketOptions(Socket socket, TcpTransportOptions options)
    {
        socket.NoDelay = options.NoDelay;
        socket.SetSocketOption(SocketOptionLevel.Socket, SocketOptionName.KeepAlive, true);
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveTime, Math.Max(1, (int)options.KeepAliveTime.TotalSeconds));
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveInterval, Math.Max(1, (int)options.KeepAliveInterval.TotalSeconds));
        socket.SetSocketOption(SocketOptionLevel.Tcp, SocketOptionName.TcpKeepAliveRetryCount, options.KeepAliveRetryCount);
        if (OperatingSystem.IsLinux() && options.UserTimeout > TimeSpan.Zero)
        {
            socket.SetRawSocketOption((int)ProtocolType.Tcp, LinuxTcpUserTimeout, BitConverter.GetBytes((int)options.UserTimeout.TotalMilliseconds));
        }
    }

    private async Task ReceiveLoopAsync()
    {
        Exception? error = null;
        try
        {
            while (true)
            {
                Memory<byte> memory = _receive.Writer.GetMemory(MinReceiveBuffer);
                int received = await _socket.ReceiveAsync(memory, SocketFlags.None);
                if (received == 0)
                {
                    break;
                }

                _receive.Writer.Advance(received);
                FlushResult flush = await _receive.Writer.FlushAsync();
                if (flush.IsCompleted || flush.IsCanceled)
                {
                    break;
                }
            }
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.OperationAborted || _disposed != 0)
        {
            // Our own disposal.
        }
        catch (ObjectDisposedException)
        {
            // Our own disposal.
        }
        catch (SocketException ex)
        {
            error = new IOException($"receive from {Name} failed: {ex.SocketErrorCode} ({ex.Message})", ex);
        }
        finally
        {
            await _receive.Writer.CompleteAsync(error);
        }
    }

    private async Task SendLoopAsync()
    {
        Exception? error = null;
        try
        {
            while (true)
            {
                ReadResult result = await _send.Reader.ReadAsync();
                if (result.IsCanceled)
                {
                    break;
                }

                foreach (ReadOnlyMemory<byte> segment in result.Buffer)
                {
                    ReadOnlyMemory<byte> rest = segment;
                    while (!rest.IsEmpty)
                    {
                        int sent = await _socket.SendAsync(rest, SocketFlags.None);
                        rest = rest[sent..];
                    }
                }

                _send.Reader.AdvanceTo(result.Buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }

            _socket.Shutdown(SocketShutdown.Send);
        }
        catch (SocketException ex) when (ex.SocketErrorCode == SocketError.OperationAborted || _disposed != 0)
        {
            // Our own disposal.
        }
        catch (ObjectDisposedException)
        {
            // Our own disposal.
        }
        catch (SocketException ex)
        {
            error = new IOException($"send to {Name} failed: {ex.SocketErrorCode} ({ex.Message})", ex);
        }
        finally
        {
            await _send.Reader.CompleteAsync(error);
        }
    }
}

/// <summary>The kernel's view of a transport's socket options; <see cref="UserTimeoutMilliseconds"/> is -1 off Linux.</summary>
public readonly record struct TcpSocketSettings(bool NoDelay, bool KeepAlive, int UserTimeoutMilliseconds);
