// SPDX-License-Identifier: MIT
using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Crfs.Mount.Tests.Posix;

/// <summary>
/// Keeps the warnings and errors of the mount's session, server and FUSE layers, so a test that
/// sees EIO can say why (a refused COMMIT, a handler exception) instead of just "EIO".
/// </summary>
internal sealed class RecordingLogger : ILoggerProvider, ILogger
{
    private readonly ConcurrentQueue<string> _lines = new();

    public IReadOnlyCollection<string> Lines => _lines;

    public ILogger CreateLogger(string categoryName) => this;

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => logLevel >= LogLevel.Warning;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        if (IsEnabled(logLevel))
        {
            _lines.Enqueue($"{logLevel} {eventId.Id}: {formatter(state, exception)}{(exception is null ? "" : " " + exception.Message)}");
        }
    }

    public void Dispose()
    {
    }
}
