// SPDX-License-Identifier: MIT
using System.Diagnostics;
using System.Text;
using Crfs.Client.Session;
using Crfs.FileSystem;
using Crfs.Format.Btrfs;
using Crfs.Posix;
using Crfs.Protocol.Transports;
using Crfs.Server;
using Crfs.Testing;
using Crfs.Volume.Devices;
using Crfs.Volume.Mkfs;

namespace Crfs.Coherence.Tests;

/// <summary>
/// Three whole clients (<see cref="CrfsSession"/> + <see cref="CrfsFileSystem"/>) over in-memory
/// transports to one real <see cref="CrfsServer"/> on a freshly formatted image run random calls on
/// four shared names in the root directory, truly concurrently: create, mkdir, unlink, rmdir,
/// rename, lookup (stat), readdir, and open / write / append / read / close through handles, which
/// also exercises files open on one client while another unlinks them. Every call's invocation and
/// response are timed on one monotonic clock, and the whole history must be linearizable against
/// <see cref="FsModel"/>: full Wing and Gong checking (<see cref="LinearizabilityChecker"/>), no
/// barriers. After the run, nothing may be left behind (no ORPHAN_ITEM) and, when btrfs-progs is
/// installed, <c>btrfs check</c> must pass.
/// <para>
/// The seed fixes each client's choices, not the thread interleaving, so a failing seed usually but
/// not always fails again; the failure message carries the seed and the whole history.
/// <c>CRFS_LIN_SEED=n</c> runs one seed instead of the default ones.
/// </para>
/// </summary>
public sealed class LinearizabilityTests
{
    private const int Clients = 3;
    private const int CallsPerClient = 40;

    public static IEnumerable<object[]> Seeds =>
        Environment.GetEnvironmentVariable("CRFS_LIN_SEED") is { Length: > 0 } one
            ? [[int.Parse(one, System.Globalization.CultureInfo.InvariantCulture)]]
            : [[1], [2], [3]];

    [Theory]
    [MemberData(nameof(Seeds))]
    public async Task ThreeClientsRunningRandomCallsConcurrently_ProduceALinearizableHistory(int seed)
    {
        using var dir = new TempDirectory("crfs-linearizability");
        string image = dir.Combine("volume.img");
        using (var stream = new FileStream(image, FileMode.CreateNew))
        {
            stream.SetLength(256L << 20);
        }

        using (FileBlockDevice device = FileBlockDevice.Open(image, writable: true))
        {
            VolumeFormatter.Format(device, new MkfsOptions());
        }

        CrfsServer server = CrfsServer.Open(image);
        List<FsOp>[] histories;
        try
        {
            var sessions = new List<CrfsSession>();
            try
            {
                var clients = new List<LinearizabilityClient>();
                for (int c = 0; c < Clients; c++)
                {
                    CrfsSession session = await CrfsSession.ConnectAsync(_ => ValueTask.FromResult<ICrfsTransport>(server.ConnectInMemory()));
                    sessions.Add(session);
                    clients.Add(new LinearizabilityClient(c, new CrfsFileSystem(session), new Random(HashCode.Combine(seed, c))));
                }

                await Task.WhenAll(clients.Select(c => Task.Run(() => c.RunAsync(CallsPerClient)))).WaitAsync(TimeSpan.FromMinutes(2));
                foreach (LinearizabilityClient c in clients)
                {
                    await c.ReadDirAsync(); // after everything: every client must see the final state
                }

                histories = [.. clients.Select(c => c.History)];
            }
            finally
            {
                foreach (CrfsSession s in sessions)
                {
                    await s.DisposeAsync();
                }
            }

            bool linearizable = LinearizabilityChecker.IsLinearizable(histories, out string why);
            Assert.True(linearizable, $"seed {seed} (CRFS_LIN_SEED={seed} replays it): the history is not linearizable: {why}\n{Describe(histories)}");

            await server.OrphanScan;
            int orphans = server.Writer.Execute(tx => tx.Scan(ObjectIds.FsTree, new BtrfsKey(ObjectIds.Orphan, ItemType.OrphanItem, 0), new BtrfsKey(ObjectIds.Orphan, ItemType.OrphanItem, ulong.MaxValue)).Count);
            Assert.True(orphans == 0, $"seed {seed}: {orphans} ORPHAN_ITEMs left after every client closed everything and left");
        }
        finally
        {
            await server.DisposeAsync();
        }

        if (ProcessRunner.CommandExists("btrfs"))
        {
            ProcessResult check = ProcessRunner.Run("btrfs", ["check", "--readonly", image], TimeSpan.FromMinutes(2));
            Assert.True(check.ExitCode == 0, $"seed {seed}: btrfs check failed:\n{check.StdOut}\n{check.StdErr}");
        }
    }

    private static string Describe(List<FsOp>[] histories) =>
        string.Join('\n', histories.SelectMany(h => h).OrderBy(o => o.Invoked).Select(o => o.ToString()));
}

/// <summary>One client's random calls, each timed and recorded; at most two handles open at a time.</summary>
internal sealed class LinearizabilityClient(int id, CrfsFileSystem fs, Random random)
{
    private const ulong Root = 256;
    private static readonly string[] s_names = ["a", "b", "c", "d"];
    private static readonly Caller s_caller = Caller.Root;

    private readonly Dictionary<ulong, (ulong Handle, bool Append)> _open = [];
    private readonly List<ulong> _knownFiles = [];
    private int _counter;

    public List<FsOp> History { get; } = [];

    public async Task RunAsync(int calls)
    {
        for (int i = 0; i < calls; i++)
        {
            await StepAsync();
        }

        foreach (ulong ino in _open.Keys.ToList())
        {
            await CloseAsync(ino);
        }
    }

    public Task ReadDirAsync() => RecordAsync(new FsOp { Client = id, Kind = FsOpKind.ReadDir }, async op =>
    {
        FsResult<IReadOnlyList<DirectoryEntry>> r = await fs.ReadDirAsync(s_caller, Root, 0, 1000);
        op.Result = r.Error;
        if (r.IsOk)
        {
            op.ResultListing = string.Join(",", r.Value!
                .Select(e => Encoding.UTF8.GetString(e.Name))
                .Where(n => n is not ("." or ".."))
                .Zip(r.Value!.Where(e => Encoding.UTF8.GetString(e.Name) is not ("." or "..")).Select(e => e.Ino))
                .OrderBy(p => p.First, StringComparer.Ordinal)
                .Select(p => $"{p.First}={p.Second}"));
        }
    });

    private async Task StepAsync()
    {
        string name = Pick();
        int roll = random.Next(100);
        if (_open.Count > 0 && roll < 35)
        {
            ulong ino = _open.Keys.ElementAt(random.Next(_open.Count));
            switch (random.Next(4))
            {
                case 0 or 1:
                    await WriteAsync(ino);
                    break;
                case 2:
                    await ReadAsync(ino);
                    break;
                default:
                    await CloseAsync(ino);
                    break;
            }

            return;
        }

        switch (roll % 10)
        {
            case 0 or 1:
                await RecordAsync(new FsOp { Client = id, Kind = FsOpKind.Create, Name = name }, async op =>
                {
                    FsResult<InodeAttributes> r = await fs.CreateAsync(s_caller, Root, N(name), 0x1A4);
                    op.Result = r.Error;
                    op.ResultIno = r.IsOk ? r.Value.Ino : 0;
                    if (r.IsOk)
                    {
                        _knownFiles.Add(r.Value.Ino);
                    }
                });
                break;
            case 2:
                await RecordAsync(new FsOp { Client = id, Kind = FsOpKind.MkDir, Name = name }, async op =>
                {
                    FsResult<InodeAttributes> r = await fs.MkDirAsync(s_caller, Root, N(name), 0x1ED);
                    op.Result = r.Error;
                    op.ResultIno = r.IsOk ? r.Value.Ino : 0;
                });
                break;
            case 3:
                await RecordAsync(new FsOp { Client = id, Kind = FsOpKind.Unlink, Name = name }, async op => op.Result = await fs.UnlinkAsync(s_caller, Root, N(name)));
                break;
            case 4:
                await RecordAsync(new FsOp { Client = id, Kind = FsOpKind.RmDir, Name = name }, async op => op.Result = await fs.RmDirAsync(s_caller, Root, N(name)));
                break;
            case 5:
                {
                    string to = Pick();
                    await RecordAsync(new FsOp { Client = id, Kind = FsOpKind.Rename, Name = name, NewName = to }, async op =>
                        op.Result = await fs.RenameAsync(s_caller, Root, N(name), Root, N(to)));
                    break;
                }

            case 6 or 7:
                await RecordAsync(new FsOp { Client = id, Kind = FsOpKind.Lookup, Name = name }, async op =>
                {
                    FsResult<InodeAttributes> r = await fs.LookupAsync(s_caller, Root, N(name));
                    op.Result = r.Error;
                    if (r.IsOk)
                    {
                        op.ResultIno = r.Value.Ino;
                        op.ResultIsDir = (r.Value.Mode & 0xF000) == 0x4000;
                        op.ResultSize = r.Value.Size;
                        if (!op.ResultIsDir && !_knownFiles.Contains(r.Value.Ino))
                        {
                            _knownFiles.Add(r.Value.Ino);
                        }
                    }
                });
                break;
            case 8:
                await ReadDirAsync();
                break;
            default:
                await OpenAsync();
                break;
        }
    }

    private async Task OpenAsync()
    {
        List<ulong> closed = [.. _knownFiles.Where(i => !_open.ContainsKey(i))];
        if (closed.Count == 0 || _open.Count >= 2)
        {
            await ReadDirAsync();
            return;
        }

        ulong ino = closed[random.Next(closed.Count)];
        bool append = random.Next(2) == 0;
        await RecordAsync(new FsOp { Client = id, Kind = FsOpKind.Open, Ino = ino }, async op =>
        {
            FsResult<OpenedFile> r = await fs.OpenAsync(s_caller, ino, append ? OpenFlags.ReadWrite | OpenFlags.Append : OpenFlags.ReadWrite);
            op.Result = r.Error;
            if (r.IsOk)
            {
                _open[ino] = (r.Value.Handle, append);
            }
        });
    }

    private Task WriteAsync(ulong ino)
    {
        (ulong handle, bool append) = _open[ino];
        byte[] data = Encoding.ASCII.GetBytes($"{(char)('A' + id)}{_counter++}");
        ulong offset = append ? 0 : (ulong)random.Next(6);
        return RecordAsync(new FsOp { Client = id, Kind = append ? FsOpKind.Append : FsOpKind.Write, Ino = ino, Offset = offset, Data = data }, async op =>
        {
            FsResult<int> r = await fs.WriteAsync(s_caller, handle, offset, data);
            op.Result = r.IsOk && r.Value != data.Length ? Errno.EIO : r.Error;
        });
    }

    private Task ReadAsync(ulong ino) => RecordAsync(new FsOp { Client = id, Kind = FsOpKind.Read, Ino = ino }, async op =>
    {
        FsResult<byte[]> r = await fs.ReadAsync(_open[ino].Handle, 0, 4096);
        op.Result = r.Error;
        op.ResultData = r.IsOk ? r.Value! : [];
    });

    private Task CloseAsync(ulong ino)
    {
        ulong handle = _open[ino].Handle;
        _open.Remove(ino);
        return RecordAsync(new FsOp { Client = id, Kind = FsOpKind.Close, Ino = ino }, async op => op.Result = await fs.ReleaseAsync(handle));
    }

    private async Task RecordAsync(FsOp op, Func<FsOp, Task> call)
    {
        op.Invoked = Stopwatch.GetTimestamp();
        await call(op);
        op.Answered = Stopwatch.GetTimestamp();
        History.Add(op);
    }

    private string Pick() => s_names[random.Next(s_names.Length)];

    private static byte[] N(string name) => Encoding.UTF8.GetBytes(name);
}
