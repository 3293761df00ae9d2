// SPDX-License-Identifier: MIT
using System.Text.Json;
using Crfs.Mount.Control;

namespace Crfs.Cli.Commands;

/// <summary>
/// <c>crfs stat</c>: a CRFS mount's counters, read over its control socket — round trips to the
/// server by message type, FUSE requests by opcode, the cache, dirty bytes, commits and their
/// sizes, reconnects and evictions (<see cref="MountStatistics"/> names the JSON fields). Without
/// <c>--json</c> the same values are printed for people, one per line.
/// </summary>
public sealed class StatCommand : ICommand
{
    public string Name => "stat";

    public string Summary => "show a CRFS mount's counters (round trips, FUSE requests, cache, commits)";

    public string Usage => """
        usage: crfs stat MOUNTPOINT [--json]

          --json   print one JSON object (field names: docs/mounting.md) instead of text.
        """;

    public int Run(string[] args)
    {
        string? mountPoint = null;
        bool json = false;
        foreach (string a in args)
        {
            switch (a)
            {
                case "--json":
                    json = true;
                    break;
                case { } when a.StartsWith('-'):
                    throw new UsageException($"unknown option '{a}'");
                default:
                    mountPoint = mountPoint is null ? a : throw new UsageException("only one MOUNTPOINT");
                    break;
            }
        }

        if (mountPoint is null)
        {
            throw new UsageException("missing MOUNTPOINT");
        }

        ControlReply reply = MountControlClient.SendAsync(mountPoint, ControlVerb.Stat).GetAwaiter().GetResult();
        if (!reply.IsOk || reply.Payload is null)
        {
            throw new IOException(reply.IsOk ? "the mount process answered stat without counters" : reply.Message);
        }

        if (json)
        {
            Console.WriteLine(reply.Payload);
            return 0;
        }

        JsonElement root;
        try
        {
            root = JsonDocument.Parse(reply.Payload).RootElement;
        }
        catch (JsonException e)
        {
            throw new InvalidDataException($"the mount process answered stat with malformed JSON: {e.Message}", e);
        }

        Print(root, "");
        return 0;
    }

    /// <summary>Nested objects become dotted names: <c>roundTrips.COMMIT  12</c>.</summary>
    private static void Print(JsonElement element, string prefix)
    {
        foreach (JsonProperty p in element.EnumerateObject())
        {
            string name = prefix.Length == 0 ? p.Name : $"{prefix}.{p.Name}";
            if (p.Value.ValueKind == JsonValueKind.Object)
            {
                Print(p.Value, name);
            }
            else
            {
                Console.WriteLine($"{name,-32} {p.Value}");
            }
        }
    }
}
