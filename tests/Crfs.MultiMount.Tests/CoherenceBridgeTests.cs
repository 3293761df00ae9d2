// SPDX-License-Identifier: MIT
using System.Collections.Concurrent;
using System.Text;
using Crfs.Client.Session;
using Crfs.FileSystem;
using Crfs.Fuse;
using Crfs.Fuse.Abi;
using Crfs.Mount;
using Crfs.Posix;
using Crfs.Protocol.Transports;
using Crfs.Server;
using Crfs.Testing;
using Crfs.Volume.Devices;
using Crfs.Volume.Mkfs;

namespace Crfs.MultiMount.Tests;

/// <summary>
/// The bridge's kernel-cache bookkeeping without a kernel: two clients (sessions over in-memory
/// connections to one server), B's bridge with a notifier that records what it is asked to send.
/// Exactly which notifications a revoke produces, and which timeouts replies carry, is checked here;
/// that the kernel then behaves is checked through real mounts in <see cref="MultiMountCoherenceTests"/>.
/// </summary>
public sealed class CoherenceBridgeTests : IAsyncLifetime
{
    private const uint DirMode = 0x4000 | 0x1ed; // S_IFDIR | 0755
    private const uint FileMode = 0x8000 | 0x1a4; // S_IFREG | 0644

    private readonly TempDirectory _dir = new("crfs-coherence-bridge");
    private readonly RecordingNotifier _notifier = new();
    private CrfsServer? _server;
    private CrfsSession? _sessionA;
    private CrfsSession? _sessionB;
    private FuseBridge? _a;
    private FuseBridge? _b;

    public async Task InitializeAsync()
    {
        string image = _dir.Combine("volume.img");
        using (var stream = new FileStream(image, System.IO.FileMode.CreateNew))
        {
            stream.SetLength(256L << 20);
        }

        using (FileBlockDevice device = FileBlockDevice.Open(image, writable: true))
        {
            VolumeFormatter.Format(device, new MkfsOptions());
        }

        _server = CrfsServer.Open(image);
        CrfsServer server = _server;
        _sessionA = await CrfsSession.ConnectAsync(_ => ValueTask.FromResult<ICrfsTransport>(server.ConnectInMemory()));
        _sessionB = await CrfsSession.ConnectAsync(_ => ValueTask.FromResult<ICrfsTransport>(server.ConnectInMemory()));
        _a = new FuseBridge(new CrfsFileSystem(_sessionA));
        _b = new FuseBridge(new CrfsFileSystem(_sessionB));
        _b.AttachNotifier(_notifier);
    }

    public async Task DisposeAsync()
    {
        foreach (CrfsSession? s in (CrfsSession?[])[_sessionA, _sessionB])
        {
            if (s is not null)
            {
                await s.DisposeAsync();
            }
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _dir.Dispose();
    }

    private static FuseContext Root(FuseOpcode opcode) => new(opcode, 1, 0, 0, 1, CancellationToken.None);

    [Fact]
    public Task Lookups_WhileTheDirectoryLockIsHeld_GetLongTimeoutsAndMissingNamesBecomeCachedNegativeEntries() => Task.Run(() =>
    {
        Assert.Equal(Errno.Ok, _a!.MkDir(Root(FuseOpcode.MkDir), IFuseFileSystem.RootId, "dir"u8, DirMode, 0, out _));

        Assert.Equal(Errno.Ok, _b!.Lookup(Root(FuseOpcode.Lookup), IFuseFileSystem.RootId, "dir"u8, out FuseEntry found));
        Assert.NotEqual(0UL, found.NodeId);
        Assert.Equal(FuseBridge.CacheTimeout, found.EntryTimeout);
        Assert.Equal(FuseBridge.CacheTimeout, found.AttrTimeout);

        Assert.Equal(Errno.Ok, _b.Lookup(Root(FuseOpcode.Lookup), IFuseFileSystem.RootId, "missing"u8, out FuseEntry negative));
        Assert.Equal(0UL, negative.NodeId);
        Assert.Equal(FuseBridge.CacheTimeout, negative.EntryTimeout);
        Assert.Equal(1, _b.NodeCount);
    });

    [Fact]
    public Task Revoke_OfBsDirectoryLock_InvalidatesFileAndNegativeNamesFullyDirectoriesExpireOnlyAndEveryHeldNode() => Task.Run(() =>
    {
        Assert.Equal(Errno.Ok, _a!.MkDir(Root(FuseOpcode.MkDir), IFuseFileSystem.RootId, "dir"u8, DirMode, 0, out _));
        Assert.Equal(Errno.Ok, _a.MkNod(Root(FuseOpcode.MkNod), IFuseFileSystem.RootId, "file"u8, FileMode, 0, 0, out _));
        Assert.Equal(Errno.Ok, _b!.Lookup(Root(FuseOpcode.Lookup), IFuseFileSystem.RootId, "dir"u8, out FuseEntry dir));
        Assert.Equal(Errno.Ok, _b.Lookup(Root(FuseOpcode.Lookup), IFuseFileSystem.RootId, "file"u8, out FuseEntry file));
        Assert.Equal(Errno.Ok, _b.Lookup(Root(FuseOpcode.Lookup), IFuseFileSystem.RootId, "missing"u8, out _));
        Assert.Empty(_notifier.Calls);

        // A's create needs WRITE on the root's group: B's READ is revoked (and answered) before it returns.
        Assert.Equal(Errno.Ok, _a.MkDir(Root(FuseOpcode.MkDir), IFuseFileSystem.RootId, "missing"u8, DirMode, 0, out _));

        // The names are the root group's; the inodes: the root (group 0) and "dir", whose group A's new
        // directory (from the same inode lease) also needs. "file" lives in another lease's group, untouched.
        string[] calls = [.. _notifier.Calls];
        Assert.Equal(
            ["entry 1 dir expire", "entry 1 file", "entry 1 missing"],
            calls.Where(c => c.StartsWith("entry", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.Equal(
            new[] { $"inode {dir.NodeId}", $"inode {IFuseFileSystem.RootId}" }.Order(StringComparer.Ordinal),
            calls.Where(c => !c.StartsWith("entry", StringComparison.Ordinal)).Order(StringComparer.Ordinal));
        Assert.NotEqual(dir.NodeId / 1024, file.NodeId / 1024);

        // And B, asking again, sees A's directory where its negative entry was.
        Assert.Equal(Errno.Ok, _b.Lookup(Root(FuseOpcode.Lookup), IFuseFileSystem.RootId, "missing"u8, out FuseEntry now));
        Assert.NotEqual(0UL, now.NodeId);
    });

    [Fact]
    public Task Downgrade_FromWriteToRead_KeepsTheKernelsCaches() => Task.Run(() =>
    {
        // B writes (WRITE on the root group), A then only reads: B goes down to READ and keeps its cache.
        Assert.Equal(Errno.Ok, _b!.MkDir(Root(FuseOpcode.MkDir), IFuseFileSystem.RootId, "mine"u8, DirMode, 0, out FuseEntry mine));
        Assert.Equal(FuseBridge.CacheTimeout, mine.EntryTimeout);
        Assert.Equal(Errno.Ok, _a!.Lookup(Root(FuseOpcode.Lookup), IFuseFileSystem.RootId, "mine"u8, out FuseEntry seen));
        Assert.Equal(mine.NodeId, seen.NodeId);

        Assert.Empty(_notifier.Calls);
        Assert.Equal(0, _b.InvalidationCount);
    });

    /// <summary>Records every notification as one line; the kernel's answer is always "done".</summary>
    private sealed class RecordingNotifier : IFuseNotifier
    {
        public ConcurrentQueue<string> Calls { get; } = new();

        public Task<Errno> InvalidateInodeAsync(ulong nodeId, long offset = -1, long length = 0)
        {
            Calls.Enqueue(offset == 0 && length == 0 ? $"inode {nodeId}" : $"inode {nodeId} [{offset}, +{length})");
            return Task.FromResult(Errno.Ok);
        }

        public Task<Errno> InvalidateEntryAsync(ulong parent, ReadOnlySpan<byte> name, bool expireOnly = false)
        {
            Calls.Enqueue($"entry {parent} {Encoding.UTF8.GetString(name)}{(expireOnly ? " expire" : "")}");
            return Task.FromResult(Errno.Ok);
        }

        public Task<Errno> DeleteAsync(ulong parent, ulong child, ReadOnlySpan<byte> name) => Unexpected("delete");

        public Task<Errno> StoreAsync(ulong nodeId, long offset, ReadOnlySpan<byte> data) => Unexpected("store");

        public Task<FuseRetrieveResult> RetrieveAsync(ulong nodeId, long offset, int size, CancellationToken cancellationToken = default) =>
            Task.FromResult(new FuseRetrieveResult(Unexpected("retrieve").Result, offset, []));

        public Task<Errno> IncrementEpochAsync() => Unexpected("epoch");

        public Task<Errno> PruneAsync(ReadOnlySpan<ulong> nodeIds) => Unexpected("prune");

        public Task<Errno> PollWakeupAsync(ulong pollHandle) => Unexpected("poll");

        private Task<Errno> Unexpected(string what)
        {
            Calls.Enqueue("unexpected " + what);
            return Task.FromResult(Errno.ENOSYS);
        }
    }
}
