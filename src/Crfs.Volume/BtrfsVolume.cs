// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Format.Checksums;
using Crfs.Volume.Chunks;
using Crfs.Volume.Devices;
using Crfs.Volume.Files;
using Crfs.Volume.Trees;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;

namespace Crfs.Volume;

/// <summary>
/// A btrfs volume opened in user space: the devices, the chunk map, the tree-block cache and the
/// trees, with no kernel involved.
/// </summary>
/// <remarks>
/// <para>
/// Opening follows the kernel's bootstrap. Each device's superblock copies are read and the valid
/// copy with the highest generation is kept (<see cref="DeviceSet"/>); devices are matched by the
/// fsid and devid in those superblocks. The newest superblock's system chunk array maps just
/// enough of the logical address space to read the chunk tree, whose CHUNK_ITEMs then complete
/// the <see cref="ChunkMap"/>. From there every tree is reachable: the root tree from the
/// superblock, and every other tree from its ROOT_ITEM in the root tree.
/// </para>
/// <para>
/// All tree blocks come through one <see cref="ITreeBlockSource"/>, which validates each block once
/// (<see cref="TreeBlockChecker"/>), tries the next copy when one is bad, and caches validated
/// blocks. Readers walk trees with <see cref="TreeCursor"/>s, which check every child against the
/// pointer that led to it. Nothing above this layer parses untrusted bytes. File data is read by
/// <see cref="Subvolume"/>, which verifies every sector against the checksum tree and falls back
/// to the other copies of mirrored data.
/// </para>
/// <para>
/// The volume is safe for concurrent readers: the chunk map and trees are immutable, the cache is
/// locked, and cursors are per thread. Nothing here writes. A <see cref="BtrfsTree"/> is only a root
/// address over an <see cref="ITreeBlockSource"/>, so a copy-on-write writer can read committed
/// blocks through <see cref="BlockSource"/>, keep its dirty blocks in front of it, and hand out new
/// trees when a commit moves their roots, without the reader changing.
/// </para>
/// </remarks>
public sealed class BtrfsVolume : IDisposable
{
    /// <summary>Incompat features whose on-disk structures this reader understands.</summary>
    public const IncompatFeatures SupportedIncompat =
        IncompatFeatures.MixedBackref | IncompatFeatures.DefaultSubvol | IncompatFeatures.MixedGroups
        | IncompatFeatures.CompressLzo | IncompatFeatures.CompressZstd | IncompatFeatures.BigMetadata
        | IncompatFeatures.ExtendedIref | IncompatFeatures.SkinnyMetadata | IncompatFeatures.NoHoles
        | IncompatFeatures.MetadataUuid | IncompatFeatures.Raid1c34 | IncompatFeatures.SimpleQuota;

    private readonly DeviceSet _devices;
    private readonly byte[] _superblock;
    private readonly ILogger _logger;
    private readonly Action<BadCopyEventArgs>? _badCopyFound;
    private readonly Lazy<BtrfsTree?> _csumTree;

    private BtrfsVolume(DeviceSet devices, VolumeOptions options)
    {
        _devices = devices;
        _superblock = devices.Newest.Superblock;
        _logger = options.Logger ?? NullLogger.Instance;
        _badCopyFound = options.BadCopyFound;

        var sb = new SuperblockView(_superblock);
        CheckFeatures(sb, devices.Newest.Device.Name);
        NodeSize = (int)sb.NodeSize;
        SectorSize = (int)sb.SectorSize;
        ChecksumType = sb.CsumType;
        ChecksumSize = BtrfsChecksum.Size(ChecksumType);
        Generation = sb.Generation;
        Fsid = sb.Fsid.ToArray();
        Checker = TreeBlockChecker.ForSuperblock(sb);

        ChunkMap = new ChunkMap();
        foreach (SysChunkEntry entry in new SysChunkArrayEnumerator(sb))
        {
            ChunkMap.Add(Chunk.FromItem(entry.Key.Offset, entry.Chunk));
        }

        Reader = new LogicalReader(ChunkMap, devices);
        BlockSource = new VolumeBlockSource(Reader, Checker, new BlockCache((int)Math.Clamp(options.CacheBytes / NodeSize, 64, int.MaxValue)), ReportBadCopy);
        ChunkTree = new BtrfsTree(BlockSource, ObjectIds.ChunkTree, sb.ChunkRoot, sb.ChunkRootLevel, sb.ChunkRootGeneration);
        LoadChunkTree();
        RootTree = new BtrfsTree(BlockSource, ObjectIds.RootTree, sb.Root, sb.RootLevel, sb.Generation);
        _csumTree = new Lazy<BtrfsTree?>(() => FindTree(ObjectIds.CsumTree));
        ReportMissingDevices(sb);
        if (sb.LogRoot != 0)
        {
            VolumeLog.UnreplayedLog(_logger, sb.LogRoot, sb.Generation + 1);
        }
    }

    /// <summary>The newest valid superblock (4096 bytes, validated).</summary>
    public SuperblockView Superblock => new(_superblock);

    public DeviceSet Devices => _devices;

    public int NodeSize { get; }

    public int SectorSize { get; }

    public ChecksumType ChecksumType { get; }

    public int ChecksumSize { get; }

    public ulong Generation { get; }

    public byte[] Fsid { get; }

    public TreeBlockChecker Checker { get; }

    public ChunkMap ChunkMap { get; }

    /// <summary>Reads logical ranges, one chosen copy at a time (file data; tree blocks go through <see cref="BlockSource"/>).</summary>
    public LogicalReader Reader { get; }

    public VolumeBlockSource BlockSource { get; }

    public BtrfsTree ChunkTree { get; }

    public BtrfsTree RootTree { get; }

    /// <summary>The data checksum tree, or null on a volume without one.</summary>
    public BtrfsTree? CsumTree => _csumTree.Value;

    /// <summary>Opens the volume on the given image files or block devices (several for a multi-device volume).</summary>
    public static BtrfsVolume Open(IEnumerable<string> devicePaths, VolumeOptions? options = null)
    {
        var devices = new List<IBlockDevice>();
        try
        {
            foreach (string path in devicePaths)
            {
                devices.Add(FileBlockDevice.Open(path));
            }
        }
        catch
        {
            foreach (IBlockDevice d in devices)
            {
                d.Dispose();
            }

            throw;
        }

        return Open(devices, options);
    }

    /// <summary>Opens the volume on <paramref name="devices"/>, taking ownership of them.</summary>
    public static BtrfsVolume Open(IReadOnlyList<IBlockDevice> devices, VolumeOptions? options = null)
    {
        options ??= new VolumeOptions();
        ILogger logger = options.Logger ?? NullLogger.Instance;
        DeviceSet set = DeviceSet.Open(devices, message => VolumeLog.OpenWarning(logger, message));
        try
        {
            return new BtrfsVolume(set, options);
        }
        catch
        {
            set.Dispose();
            throw;
        }
    }

    /// <summary>
    /// The tree with id <paramref name="treeId"/>: the root and chunk trees from the superblock,
    /// every other tree from its ROOT_ITEM. Null when the volume has no such tree.
    /// </summary>
    public BtrfsTree? FindTree(ulong treeId)
    {
        if (treeId == ObjectIds.RootTree)
        {
            return RootTree;
        }

        if (treeId == ObjectIds.ChunkTree)
        {
            return ChunkTree;
        }

        if (!RootTree.TryGetFirstItem(treeId, ItemType.RootItem, out TreeItem item))
        {
            return null;
        }

        var root = new RootItemView(item.Data);
        return new BtrfsTree(BlockSource, treeId, root.Bytenr, root.Level, root.Generation);
    }

    /// <summary>Like <see cref="FindTree"/>, but a missing tree is an error naming it.</summary>
    public BtrfsTree GetTree(ulong treeId) =>
        FindTree(treeId) ?? throw new InvalidDataException($"the volume has no tree {treeId} (no ROOT_ITEM in the root tree)");

    /// <summary>Opens subvolume (fs tree) <paramref name="treeId"/>, or returns null when it does not exist.</summary>
    public Subvolume? FindSubvolume(ulong treeId)
    {
        if (!ObjectIds.IsFsTree(treeId) || !RootTree.TryGetFirstItem(treeId, ItemType.RootItem, out TreeItem item))
        {
            return null;
        }

        var root = new RootItemView(item.Data);
        var tree = new BtrfsTree(BlockSource, treeId, root.Bytenr, root.Level, root.Generation);
        return new Subvolume(this, tree, root.RootDirId == 0 ? ObjectIds.FirstFree : root.RootDirId);
    }

    public Subvolume OpenSubvolume(ulong treeId) =>
        FindSubvolume(treeId) ?? throw new InvalidDataException($"the volume has no subvolume {treeId}");

    /// <summary>
    /// The id of the subvolume a kernel mount shows by default: the target of the "default" entry
    /// of the root tree's directory 6 (FS_TREE unless <c>btrfs subvolume set-default</c> changed it).
    /// </summary>
    public ulong DefaultSubvolumeId
    {
        get
        {
            ReadOnlySpan<byte> name = "default"u8;
            var key = new BtrfsKey(ObjectIds.RootTreeDir, ItemType.DirItem, NameHash.DirItem(name));
            if (RootTree.TryGetItem(key, out TreeItem item))
            {
                foreach (DirItemView entry in new DirItemEnumerator(item.Data))
                {
                    if (entry.Name.SequenceEqual(name))
                    {
                        return entry.Location.ObjectId;
                    }
                }
            }

            return ObjectIds.FsTree;
        }
    }

    public Subvolume OpenDefaultSubvolume() => OpenSubvolume(DefaultSubvolumeId);

    /// <summary>
    /// Every subvolume and snapshot, from the ROOT_ITEMs and ROOT_BACKREFs of the root tree, with
    /// its path from the top-level subvolume where it is still linked.
    /// </summary>
    public IReadOnlyList<SubvolumeInfo> ListSubvolumes()
    {
        var found = new Dictionary<ulong, SubvolumeInfo>();
        var cursor = RootTree.OpenCursor();
        for (bool ok = cursor.Seek(new BtrfsKey(ObjectIds.FirstFree, 0, 0)); ok; ok = cursor.MoveNext())
        {
            BtrfsKey key = cursor.Key;
            if (!ObjectIds.IsFsTree(key.ObjectId))
            {
                break;
            }

            if (key.Type == ItemType.RootItem)
            {
                var root = new RootItemView(cursor.Data);
                found[key.ObjectId] = new SubvolumeInfo(key.ObjectId, 0, 0, [], root.Generation, root.Flags, root.Uuid.ToArray(), root.ParentUuid.ToArray());
            }
            else if (key.Type == ItemType.RootBackref && found.TryGetValue(key.ObjectId, out SubvolumeInfo? info))
            {
                var backref = new RootRefView(cursor.Data);
                found[key.ObjectId] = info with { ParentId = key.Offset, DirId = backref.DirId, Name = backref.Name.ToArray() };
            }
        }

        return [.. found.Values.OrderBy(s => s.Id)];
    }

    /// <summary>
    /// Resolves a '/'-separated path from the root of the default subvolume, crossing into
    /// subvolumes where an entry names one. "." and ".." are handled lexically; symlinks are not
    /// followed. On failure <paramref name="error"/> says why and <paramref name="failedAt"/> is
    /// the length of the path prefix that could not be resolved.
    /// </summary>
    public bool TryResolvePath(ReadOnlySpan<byte> path, out ResolvedPath resolved, out PathError error, out int failedAt)
    {
        var stack = new List<ResolvedPath>();
        Subvolume root = OpenDefaultSubvolume();
        var current = new ResolvedPath(root, root.RootDirectory, false);
        int pos = 0;
        error = PathError.None;
        failedAt = 0;
        while (pos < path.Length)
        {
            int slash = path[pos..].IndexOf((byte)'/');
            int end = slash < 0 ? path.Length : pos + slash;
            ReadOnlySpan<byte> name = path[pos..end];
            pos = end + 1;
            if (name.IsEmpty || name.SequenceEqual("."u8))
            {
                continue;
            }

            if (name.SequenceEqual(".."u8))
            {
                if (stack.Count > 0)
                {
                    current = stack[^1];
                    stack.RemoveAt(stack.Count - 1);
                }

                continue;
            }

            failedAt = end;
            if (current.IsPlaceholder)
            {
                error = PathError.NotFound;
                resolved = current;
                return false;
            }

            if (!current.Subvolume.TryGetInode(current.Inode, out InodeItem dirInode) || !InodeMode.IsDirectory(dirInode.Mode))
            {
                error = PathError.NotADirectory;
                resolved = current;
                return false;
            }

            if (!current.Subvolume.TryLookup(current.Inode, name, out DirEntry entry))
            {
                error = PathError.NotFound;
                resolved = current;
                return false;
            }

            stack.Add(current);
            if (entry.IsSubvolume)
            {
                Subvolume? child = current.Subvolume.EnterSubvolume(current.Inode, entry);
                current = child is null
                    ? new ResolvedPath(current.Subvolume, ObjectIds.EmptySubvolDir, true)
                    : new ResolvedPath(child, child.RootDirectory, false);
            }
            else
            {
                current = new ResolvedPath(current.Subvolume, entry.Location.ObjectId, false);
            }
        }

        resolved = current;
        return true;
    }

    public void Dispose() => _devices.Dispose();

    internal void ReportBadCopy(BadCopyEventArgs e)
    {
        VolumeLog.BadCopy(_logger, e.Kind, e.Logical, e.Mirror, e.Fault);
        _badCopyFound?.Invoke(e);
    }

    private static void CheckFeatures(SuperblockView sb, string device)
    {
        IncompatFeatures incompat = sb.IncompatFlags;
        IncompatFeatures unsupported = incompat & ~SupportedIncompat;
        if (unsupported != 0)
        {
            throw new UnsupportedVolumeException(
                $"{device}: unsupported incompat features 0x{(ulong)unsupported:x} ({FeatureNames.Format(unsupported)}); this reader supports 0x{(ulong)SupportedIncompat:x}");
        }
    }

    private void LoadChunkTree()
    {
        TreeCursor cursor = ChunkTree.OpenCursor();
        var first = new BtrfsKey(ObjectIds.FirstChunkTree, ItemType.ChunkItem, 0);
        for (bool ok = cursor.Seek(first); ok; ok = cursor.MoveNext())
        {
            BtrfsKey key = cursor.Key;
            if (key.ObjectId != ObjectIds.FirstChunkTree || key.Type != ItemType.ChunkItem)
            {
                break;
            }

            ChunkMap.Add(Chunk.FromItem(key.Offset, new ChunkItemView(cursor.Data)));
        }
    }

    private void ReportMissingDevices(SuperblockView sb)
    {
        var missing = new SortedSet<ulong>();
        foreach (Chunk chunk in ChunkMap.Chunks)
        {
            foreach (PhysicalLocation stripe in chunk.Stripes)
            {
                if (_devices.Find(stripe.DevId) is null)
                {
                    missing.Add(stripe.DevId);
                }
            }
        }

        if (missing.Count > 0)
        {
            VolumeLog.MissingDevices(_logger, sb.NumDevices, _devices.Devices.Count, string.Join(",", missing));
        }
    }
}

/// <summary>One subvolume or snapshot as the root tree lists it.</summary>
/// <param name="Id">Its tree id.</param>
/// <param name="ParentId">The subvolume it is linked in (0 when unlinked, e.g. deleted).</param>
/// <param name="DirId">The directory inode of the parent that holds it.</param>
/// <param name="Name">Its name in that directory.</param>
public sealed record SubvolumeInfo(
    ulong Id,
    ulong ParentId,
    ulong DirId,
    byte[] Name,
    ulong Generation,
    RootItemFlags Flags,
    byte[] Uuid,
    byte[] ParentUuid);
