// SPDX-License-Identifier: MIT
using Crfs.Client.Coherence;
using Crfs.Client.Session;
using Crfs.FileSystem.Items;
using Crfs.Format.Btrfs;
using Crfs.Posix;
using Crfs.Protocol;
using Crfs.Protocol.Messages;

namespace Crfs.FileSystem;

/// <summary>
/// POSIX file-system operations built out of btrfs items, over a <see cref="CrfsSession"/>. Node ids
/// are inode numbers of one fs tree; names are bytes; outcomes are errno values.
/// <para>
/// <b>Shape of an operation.</b> Each runs as attempts. An attempt takes its locks (inode groups of
/// 1024 objectids, the orphan range, the rename lock) in one <see cref="LockClient.AcquireAllAsync"/>
/// call, reads items through an <see cref="FsOperation"/> (its own staged changes first, then the
/// session cache, then the server), checks permissions and preconditions, and stages its item and
/// data changes in a private change set. Touching a key whose lock it does not hold (the inode a name
/// leads to, a parent chain) abandons the attempt; the next one takes the larger lock set in key
/// order. So a task never waits for a lock sorting before one it holds, and lock discovery needs no
/// second code path. A successful mutating attempt hands its change set to
/// <see cref="CrfsSession.Apply"/> in one step; a failing one (an errno) changes nothing.
/// </para>
/// <para>
/// <b>Serialisation.</b> Lock leases admit many users of one client at once, so mutating operations
/// are serialised by one local async mutex (<c>_mutate</c>), taken before any lock. Readers run
/// beside them and see either the state before or after a whole change set. The mutex never waits
/// for a revoke: a revoke's write-back only commits the session's transaction.
/// </para>
/// <para>
/// <b>Open files.</b> Handles count opens per inode and feed the session's in-use registry. Unlinking
/// the last name of an open file keeps its items with nlink 0 and an ORPHAN_ITEM; the last release
/// deletes them (no renamed leftovers). Written data is buffered in the transaction; reads merge it
/// over the server's bytes.
/// </para>
/// </summary>
public sealed partial class CrfsFileSystem
{
    private const int MaxAttempts = 64;
    private const uint MaxLinks = 65535;

    private readonly CrfsSession _session;
    private readonly FileSystemOptions _options;
    private readonly SemaphoreSlim _mutate = new(1, 1);
    private readonly Lock _handlesGate = new();
    private readonly Dictionary<ulong, OpenHandle> _handles = [];
    private readonly Dictionary<ulong, int> _openCounts = [];
    private ulong _nextHandle = 1;

    public CrfsFileSystem(CrfsSession session, FileSystemOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(session);
        _session = session;
        _options = options ?? new FileSystemOptions();
    }

    public ulong TreeId => _options.TreeId;

    public ulong RootIno => _options.RootIno;

    public CrfsSession Session => _session;

    private int MaxItemSize => TreeBlockGeometry.MaxItemSize(_options.NodeSize);

    // ---------------- the attempt runner ----------------

    private async ValueTask<FsResult<T>> RunAsync<T>(
        bool mutating,
        IEnumerable<ulong> objectIds,
        Func<NamespaceItems, ValueTask<FsResult<T>>> body,
        CancellationToken cancellationToken,
        IEnumerable<KeyRange>? extraRanges = null)
    {
        var needs = new Dictionary<KeyRange, LockMode>();
        LockMode mode = mutating ? LockMode.Write : LockMode.Read;
        foreach (ulong id in objectIds)
        {
            if (id == ObjectIds.Orphan)
            {
                // Orphan items are blind writes that commute: WRITE_ONLY, shared with other writers.
                needs[LockRanges.Orphans(TreeId)] = LockMode.WriteOnly;
            }
            else
            {
                needs[KeyRange.ForInodeGroup(TreeId, id)] = mode;
            }
        }

        foreach (KeyRange range in extraRanges ?? [])
        {
            needs[range] = mode;
        }

        if (mutating)
        {
            await _mutate.WaitAsync(cancellationToken);
        }

        try
        {
            for (int attempt = 0; attempt < MaxAttempts; attempt++)
            {
                LockSetAcquisition acquired = await _session.Locks.AcquireAllAsync(
                    needs.Select(kv => new LockNeed(kv.Key, kv.Value)), cancellationToken);
                if (!acquired.IsGranted)
                {
                    return Errno.EIO;
                }

                using (acquired.Leases)
                {
                    var op = new FsOperation(_session, TreeId, new Dictionary<KeyRange, LockMode>(needs), mutating, cancellationToken);
                    try
                    {
                        FsResult<T> result = await body(new NamespaceItems(op, MaxItemSize));
                        if (result.IsOk && mutating)
                        {
                            _session.Apply(op.Changes);
                        }

                        return result;
                    }
                    catch (LockNeededException need)
                    {
                        needs[need.Range] = needs.TryGetValue(need.Range, out LockMode have) && have == LockMode.Write ? have : need.Mode;
                    }
                }
            }

            throw new InvalidOperationException($"operation on tree {TreeId} still needed more locks after {MaxAttempts} attempts ({needs.Count} held)");
        }
        catch (SessionException ex)
        {
            Errno errno = WireErrors.ToErrno(ex.Status);
            return errno == Errno.Ok ? Errno.EIO : errno;
        }
        finally
        {
            if (mutating)
            {
                _mutate.Release();
            }
        }
    }

    // ---------------- helpers ----------------

    private BtrfsTimespec Now()
    {
        long ticks = _options.TimeProvider.GetUtcNow().UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        return new BtrfsTimespec(ticks / TimeSpan.TicksPerSecond, (uint)(ticks % TimeSpan.TicksPerSecond * 100));
    }

    private static BtrfsTimespec ToBtrfs(Timespec t) => new(t.Seconds, t.Nanoseconds);

    private static Timespec ToPosix(BtrfsTimespec t) => new(t.Seconds, t.Nanoseconds);

    internal static InodeAttributes ToAttributes(ulong ino, in InodeItem inode) => new()
    {
        Ino = ino,
        Size = inode.Size,
        Blocks = (inode.Nbytes + 511) / 512,
        Atime = ToPosix(inode.Atime),
        Mtime = ToPosix(inode.Mtime),
        Ctime = ToPosix(inode.Ctime),
        Mode = inode.Mode,
        Nlink = inode.Nlink,
        Uid = inode.Uid,
        Gid = inode.Gid,
        Rdev = EncodeUserDev(inode.RdevMajor, inode.RdevMinor),
        BlockSize = 4096,
    };

    /// <summary>Linux <c>new_encode_dev</c>: the dev_t user space and FUSE use.</summary>
    internal static uint EncodeUserDev(uint major, uint minor) => (minor & 0xFF) | (major << 8) | ((minor & ~0xFFu) << 12);

    /// <summary>A user-space dev_t as btrfs stores it: <c>(major &lt;&lt; 20) | minor</c>.</summary>
    internal static ulong DecodeUserDev(uint dev)
    {
        uint major = (dev & 0xFFF00) >> 8;
        uint minor = (dev & 0xFF) | ((dev >> 12) & 0xFFF00);
        return ((ulong)major << 20) | minor;
    }

    /// <summary>Checks <paramref name="want"/> (r = 4, w = 2, x = 1) against the mode bits that apply to <paramref name="caller"/>.</summary>
    internal static bool MayAccess(Caller caller, in InodeItem inode, uint want)
    {
        if (caller.IsRoot)
        {
            // Root may read and write anything; execute needs some x bit (directories are always searchable).
            return (want & 1) == 0 || InodeMode.IsDirectory(inode.Mode) || (inode.Mode & 0x49) != 0;
        }

        uint bits = caller.Uid == inode.Uid ? (inode.Mode >> 6) & 7
            : caller.InGroup(inode.Gid) ? (inode.Mode >> 3) & 7
            : inode.Mode & 7;
        return (bits & want) == want;
    }

    /// <summary>In a sticky directory only the owner of the entry, the owner of the directory or root may remove or rename it.</summary>
    internal static bool StickyForbids(Caller caller, in InodeItem dir, in InodeItem victim) =>
        (dir.Mode & InodeMode.Sticky) != 0 && !caller.IsRoot && caller.Uid != dir.Uid && caller.Uid != victim.Uid;

    /// <summary>Validates a name to be created: ENAMETOOLONG, EINVAL (slash, NUL, empty), EEXIST ("." and "..").</summary>
    private static Errno CheckNewName(byte[] name)
    {
        if (name.Length > DirItemLayout.MaxNameLength)
        {
            return Errno.ENAMETOOLONG;
        }

        if (name.Length == 0 || name.AsSpan().IndexOfAny((byte)'/', (byte)0) >= 0)
        {
            return Errno.EINVAL;
        }

        return IsDotOrDotDot(name) ? Errno.EEXIST : Errno.Ok;
    }

    private static bool IsDotOrDotDot(byte[] name) => name.AsSpan().SequenceEqual("."u8) || name.AsSpan().SequenceEqual(".."u8);

    /// <summary>The directory an entry is made in or removed from: exists, is a directory, is alive, and the caller may write and search it.</summary>
    private static async ValueTask<(Errno Error, InodeItem Dir)> WritableDirAsync(NamespaceItems items, Caller caller, ulong dir)
    {
        InodeItem? d = await items.GetInodeAsync(dir);
        if (d is not InodeItem item || item.Nlink == 0)
        {
            return (Errno.ENOENT, default);
        }

        if (!InodeMode.IsDirectory(item.Mode))
        {
            return (Errno.ENOTDIR, default);
        }

        return MayAccess(caller, item, 3) ? (Errno.Ok, item) : (Errno.EACCES, item);
    }

    private sealed class OpenHandle(ulong ino, OpenFlags flags, bool isDirectory)
    {
        public ulong Ino { get; } = ino;

        public OpenFlags Flags { get; } = flags;

        public bool IsDirectory { get; } = isDirectory;

        public bool CanRead => (Flags & OpenFlags.AccessModeMask) != OpenFlags.WriteOnly;

        public bool CanWrite => (Flags & OpenFlags.AccessModeMask) != OpenFlags.ReadOnly;
    }
}
