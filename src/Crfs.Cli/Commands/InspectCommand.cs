// SPDX-License-Identifier: MIT
namespace Crfs.Cli.Commands;

/// <summary>Offline inspection of a btrfs volume (placeholder until the reader lands).</summary>
public sealed class InspectCommand : ICommand
{
    public string Name => "inspect";

    public string Summary => "read a volume offline: dump-super, dump-tree, ls, cat, get";

    public string Usage => "usage: crfs inspect dump-super|dump-tree|ls|cat|get VOLUME ...";

    public int Run(string[] args) => throw new UsageException("not implemented yet");
}
