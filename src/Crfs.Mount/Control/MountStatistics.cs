// SPDX-License-Identifier: MIT
using System.Text;
using System.Text.Json;
using Crfs.Fuse.Abi;
using Crfs.Protocol.Framing;

namespace Crfs.Mount.Control;

/// <summary>
/// What <c>crfs stat</c> shows: one snapshot of a mount's counters, rendered as a single-line JSON
/// object for the control channel and <c>--json</c>. The values are read one by one (each
/// atomic, not a consistent cut across counters), which is enough for people and for tests that
/// compare counts before and after a step.
/// </summary>
/// <remarks>
/// JSON names are stable: <c>pid</c>, <c>mountPoint</c>, <c>roundTrips</c> (by protocol command name,
/// e.g. <c>COMMIT</c>, non-zero only, plus <c>total</c> without PING), <c>fuseRequests</c> (by opcode
/// name, non-zero only, plus <c>total</c>), <c>cachedItems</c>, <c>dirtyBytes</c>, <c>commits</c>
/// (<c>count</c>, <c>itemOperations</c>, <c>dataOperations</c>, <c>totalBytes</c>, <c>largestBytes</c>),
/// <c>reconnects</c>, <c>evictions</c>, and <c>fuse</c> (<c>errorReplies</c>, <c>handlerExceptions</c>,
/// <c>interrupts</c>, <c>notifications</c>).
/// </remarks>
public static class MountStatistics
{
    public static string ToJson(CrfsMount mount)
    {
        ArgumentNullException.ThrowIfNull(mount);
        using var buffer = new MemoryStream();
        using (var w = new Utf8JsonWriter(buffer))
        {
            w.WriteStartObject();
            w.WriteNumber("pid", Environment.ProcessId);
            w.WriteString("mountPoint", mount.MountPoint);

            w.WriteStartObject("roundTrips");
            Client.Session.SessionCounters session = mount.SessionCounters;
            foreach (Command command in Enum.GetValues<Command>())
            {
                long n = session.RoundTrips(command);
                if (n != 0)
                {
                    w.WriteNumber(CommandInfo.Name(command), n);
                }
            }

            w.WriteNumber("total", session.TotalRoundTrips);
            w.WriteEndObject();

            w.WriteStartObject("fuseRequests");
            Fuse.FuseCounters fuse = mount.FuseCounters;
            foreach ((FuseOpcode opcode, long n) in fuse.Snapshot())
            {
                w.WriteNumber(Enum.IsDefined(opcode) ? opcode.ToString() : $"OPCODE_{(uint)opcode}", n);
            }

            w.WriteNumber("total", fuse.TotalRequests);
            w.WriteEndObject();

            w.WriteNumber("cachedItems", mount.CachedItems);
            w.WriteNumber("dirtyBytes", mount.DirtyBytes);

            w.WriteStartObject("commits");
            w.WriteNumber("count", session.Commits);
            w.WriteNumber("itemOperations", session.CommittedItemOperations);
            w.WriteNumber("dataOperations", session.CommittedDataOperations);
            w.WriteNumber("totalBytes", session.CommittedBytes);
            w.WriteNumber("largestBytes", session.LargestCommitBytes);
            w.WriteEndObject();

            w.WriteNumber("reconnects", session.Reconnects);
            w.WriteNumber("evictions", session.Evictions);

            w.WriteStartObject("fuse");
            w.WriteNumber("errorReplies", fuse.ErrorReplies);
            w.WriteNumber("handlerExceptions", fuse.HandlerExceptions);
            w.WriteNumber("interrupts", fuse.Interrupts);
            w.WriteNumber("notifications", fuse.Notifications);
            w.WriteEndObject();
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.GetBuffer(), 0, (int)buffer.Length);
    }
}
