// SPDX-License-Identifier: MIT
using Crfs.Mount.Control;

namespace Crfs.Cli.Commands;

/// <summary>
/// <c>crfs sync</c>: makes everything a CRFS mount holds durable on its server. A plain sync(1)
/// cannot: the kernel has nothing of a FUSE mount to flush when, as here, the daemon caches the
/// writes, and SYNCFS reaches the daemon only for some callers. The request goes over the
/// mount's control socket (<see cref="MountControlClient"/>); the mount process commits its
/// session and answers once the server has made the commit durable.
/// </summary>
public sealed class SyncCommand : ICommand
{
    public string Name => "sync";

    public string Summary => "make everything a CRFS mount has buffered durable on the server";

    public string Usage => """
        usage: crfs sync MOUNTPOINT

        Returns 0 once every change made through MOUNTPOINT so far is durable on the server; 1
        with the reason otherwise (not a CRFS mount, its mount process has gone, commit refused).
        """;

    public int Run(string[] args)
    {
        if (args.Length != 1 || args[0].StartsWith('-'))
        {
            throw new UsageException(args.Length == 0 ? "missing MOUNTPOINT" : $"expected one MOUNTPOINT, got '{string.Join(' ', args)}'");
        }

        ControlReply reply = MountControlClient.SendAsync(args[0], ControlVerb.Sync).GetAwaiter().GetResult();
        return reply.IsOk ? 0 : throw new IOException(reply.Message);
    }
}
