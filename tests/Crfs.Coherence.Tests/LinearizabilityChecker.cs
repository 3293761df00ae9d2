// SPDX-License-Identifier: MIT
using System.Collections.Immutable;
using System.Text;
using Crfs.Posix;

namespace Crfs.Coherence.Tests;

/// <summary>The single file-system calls the linearizability workload makes (all in the root directory).</summary>
internal enum FsOpKind
{
    Create,
    MkDir,
    Unlink,
    RmDir,
    Rename,
    Lookup,
    ReadDir,
    Open,
    Write,
    Append,
    Read,
    Close,
}

/// <summary>
/// One call of one client: what it asked, when (invocation and response, on one monotonic clock),
/// and what came back. Each is exactly one <c>CrfsFileSystem</c> call, so each must take effect
/// atomically at some instant between its invocation and its response.
/// </summary>
internal sealed class FsOp
{
    public required int Client { get; init; }

    public required FsOpKind Kind { get; init; }

    public string Name { get; init; } = "";

    public string NewName { get; init; } = "";

    /// <summary>The inode a handle operation works on (Open, Write, Append, Read, Close).</summary>
    public ulong Ino { get; init; }

    public ulong Offset { get; init; }

    public byte[] Data { get; init; } = [];

    public long Invoked { get; set; }

    public long Answered { get; set; }

    public Errno Result { get; set; }

    public ulong ResultIno { get; set; }

    public bool ResultIsDir { get; set; }

    public ulong ResultSize { get; set; }

    public byte[] ResultData { get; set; } = [];

    /// <summary>ReadDir: "name=ino" of every entry but "." and "..", sorted.</summary>
    public string ResultListing { get; set; } = "";

    public override string ToString()
    {
        string args = Kind switch
        {
            FsOpKind.Rename => $"{Name} -> {NewName}",
            FsOpKind.Open or FsOpKind.Read or FsOpKind.Close => $"ino {Ino}",
            FsOpKind.Write => $"ino {Ino} @{Offset} '{Encoding.ASCII.GetString(Data)}'",
            FsOpKind.Append => $"ino {Ino} '{Encoding.ASCII.GetString(Data)}'",
            FsOpKind.ReadDir => "/",
            _ => Name,
        };
        string result = Result != Errno.Ok ? Result.ToString() : Kind switch
        {
            FsOpKind.Create or FsOpKind.MkDir => $"ino {ResultIno}",
            FsOpKind.Lookup => $"ino {ResultIno} {(ResultIsDir ? "dir" : $"file size {ResultSize}")}",
            FsOpKind.Read => $"'{Encoding.ASCII.GetString(ResultData)}'",
            FsOpKind.ReadDir => $"[{ResultListing}]",
            _ => "ok",
        };
        return $"client {Client} [{Invoked}, {Answered}] {Kind} {args} => {result}";
    }
}

/// <summary>
/// The sequential specification: a root directory of names, each naming an inode (a file with
/// content or an empty directory). Immutable, so the search can branch without copying by hand.
/// Inodes are kept after their last name goes: a handle may still read and write them.
/// </summary>
internal sealed record FsModel(ImmutableSortedDictionary<string, ulong> Names, ImmutableSortedDictionary<ulong, FsModel.Inode> Inodes)
{
    public static readonly FsModel Empty = new(ImmutableSortedDictionary.Create<string, ulong>(StringComparer.Ordinal), ImmutableSortedDictionary<ulong, Inode>.Empty);

    /// <summary>A canonical text of the state, for the search's memo.</summary>
    public string Key
    {
        get
        {
            var sb = new StringBuilder();
            foreach ((string name, ulong ino) in Names)
            {
                sb.Append(name).Append('=').Append(ino).Append(';');
            }

            foreach ((ulong ino, Inode inode) in Inodes)
            {
                sb.Append(ino).Append(inode.IsDir ? ":d" : ":f").Append(Convert.ToHexString(inode.Content)).Append(';');
            }

            return sb.ToString();
        }
    }

    /// <summary>Applies <paramref name="op"/> if its recorded answer is what this state would give; null otherwise.</summary>
    public FsModel? Step(FsOp op)
    {
        bool exists = Names.TryGetValue(op.Name, out ulong ino);
        bool isDir = exists && Inodes[ino].IsDir;
        switch (op.Kind)
        {
            case FsOpKind.Create or FsOpKind.MkDir:
                if (exists)
                {
                    return op.Result == Errno.EEXIST ? this : null;
                }

                return op.Result == Errno.Ok && !Inodes.ContainsKey(op.ResultIno)
                    ? new FsModel(Names.Add(op.Name, op.ResultIno), Inodes.Add(op.ResultIno, new Inode(op.Kind == FsOpKind.MkDir, [])))
                    : null;
            case FsOpKind.Unlink:
                return Expect(op, !exists ? Errno.ENOENT : isDir ? Errno.EISDIR : Errno.Ok, () => this with { Names = Names.Remove(op.Name) });
            case FsOpKind.RmDir:
                return Expect(op, !exists ? Errno.ENOENT : !isDir ? Errno.ENOTDIR : Errno.Ok, () => this with { Names = Names.Remove(op.Name) });
            case FsOpKind.Rename:
                {
                    if (!exists)
                    {
                        return Expect(op, Errno.ENOENT, () => this);
                    }

                    if (op.Name == op.NewName)
                    {
                        return Expect(op, Errno.Ok, () => this);
                    }

                    Errno expected = Errno.Ok;
                    if (Names.TryGetValue(op.NewName, out ulong target))
                    {
                        bool targetIsDir = Inodes[target].IsDir;
                        expected = !isDir && targetIsDir ? Errno.EISDIR : isDir && !targetIsDir ? Errno.ENOTDIR : Errno.Ok;
                    }

                    return Expect(op, expected, () => this with { Names = Names.Remove(op.Name).SetItem(op.NewName, ino) });
                }

            case FsOpKind.Lookup:
                if (!exists)
                {
                    return op.Result == Errno.ENOENT ? this : null;
                }

                return op.Result == Errno.Ok && op.ResultIno == ino && op.ResultIsDir == isDir
                    && (isDir || op.ResultSize == (ulong)Inodes[ino].Content.Length) ? this : null;
            case FsOpKind.ReadDir:
                return op.Result == Errno.Ok && op.ResultListing == Listing() ? this : null;
            case FsOpKind.Open:
                return Expect(op, Names.ContainsValue(op.Ino) ? Errno.Ok : Errno.ENOENT, () => this);
            case FsOpKind.Write or FsOpKind.Append:
                {
                    if (op.Result != Errno.Ok || !Inodes.TryGetValue(op.Ino, out Inode? file))
                    {
                        return null;
                    }

                    byte[] content = file.Content;
                    ulong at = op.Kind == FsOpKind.Append ? (ulong)content.Length : op.Offset;
                    byte[] next = new byte[Math.Max(content.Length, (int)at + op.Data.Length)];
                    content.CopyTo(next, 0);
                    op.Data.CopyTo(next, (int)at);
                    return this with { Inodes = Inodes.SetItem(op.Ino, file with { Content = next }) };
                }

            case FsOpKind.Read:
                return op.Result == Errno.Ok && Inodes.TryGetValue(op.Ino, out Inode? read) && read.Content.AsSpan().SequenceEqual(op.ResultData) ? this : null;
            case FsOpKind.Close:
                return op.Result == Errno.Ok ? this : null;
            default:
                throw new InvalidOperationException($"no model for {op.Kind}");
        }
    }

    public string Listing() => string.Join(",", Names.Select(kv => $"{kv.Key}={kv.Value}"));

    /// <summary>The call must have answered <paramref name="expected"/>; only a success changes the state.</summary>
    private FsModel? Expect(FsOp op, Errno expected, Func<FsModel> then) =>
        op.Result != expected ? null : expected == Errno.Ok ? then() : this;

    public sealed record Inode(bool IsDir, byte[] Content);
}

/// <summary>
/// Wing and Gong's search, specialised to clients that each run one call at a time: a partial
/// linearization is a vector of per-client prefix lengths plus the model state it leads to, and the
/// next call to place may be any client's next one that was invoked before every other unplaced
/// call's response (real-time order). Visited (prefixes, state) pairs are memoised, so the search
/// is polynomial in the history length for a fixed number of clients.
/// </summary>
internal static class LinearizabilityChecker
{
    public static bool IsLinearizable(IReadOnlyList<IReadOnlyList<FsOp>> histories, out string explanation)
    {
        int[] next = new int[histories.Count];
        var visited = new HashSet<string>();
        int deepest = 0;
        FsModel? deepestState = null;
        string stuck = "";
        bool found = Search(FsModel.Empty);
        explanation = found ? "" : $"no linearization places more than {deepest} calls; the state there: [{deepestState?.Listing()}], each client's next call:\n{stuck}";
        return found;

        bool Search(FsModel state)
        {
            int placed = next.Sum();
            if (placed > deepest)
            {
                deepest = placed;
                deepestState = state;
                stuck = string.Join('\n', histories.Select((h, c) => next[c] < h.Count ? "  " + h[next[c]] : $"  client {c}: done"));
            }

            long firstAnswer = long.MaxValue;
            bool done = true;
            for (int c = 0; c < histories.Count; c++)
            {
                if (next[c] < histories[c].Count)
                {
                    done = false;
                    firstAnswer = Math.Min(firstAnswer, histories[c][next[c]].Answered);
                }
            }

            if (done)
            {
                return true;
            }

            for (int c = 0; c < histories.Count; c++)
            {
                if (next[c] >= histories[c].Count || histories[c][next[c]].Invoked > firstAnswer)
                {
                    continue;
                }

                if (state.Step(histories[c][next[c]]) is FsModel after)
                {
                    next[c]++;
                    if (visited.Add(string.Join(',', next) + "|" + after.Key) && Search(after))
                    {
                        return true;
                    }

                    next[c]--;
                }
            }

            return false;
        }
    }
}
