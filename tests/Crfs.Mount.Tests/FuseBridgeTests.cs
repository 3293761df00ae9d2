// SPDX-License-Identifier: MIT
using Crfs.Client.Session;
using Crfs.FileSystem;
using Crfs.Fuse;
using Crfs.Fuse.Abi;
using Crfs.Posix;
using Crfs.Protocol.Transports;
using Crfs.Server;
using Crfs.Testing;
using Crfs.Volume.Devices;
using Crfs.Volume.Mkfs;

namespace Crfs.Mount.Tests;

/// <summary>
/// The bridge without a kernel: node-id mapping, lookup counting and forwarding, against a
/// <see cref="CrfsFileSystem"/> over an in-memory connection to a server on a writer-formatted
/// image. Bridge calls block, so each test body runs on a pool thread.
/// </summary>
public sealed class FuseBridgeTests : IAsyncLifetime
{
    private const ulong RootIno = 256;
    private const uint DirMode = 0x4000 | 0x1ed; // S_IFDIR | 0755

    private readonly TempDirectory _dir = new("crfs-bridge");
    private CrfsServer? _server;
    private CrfsSession? _session;
    private FuseBridge? _bridge;

    private FuseBridge Bridge => _bridge!;

    public async Task InitializeAsync()
    {
        string image = _dir.Combine("volume.img");
        using (var stream = new FileStream(image, FileMode.CreateNew))
        {
            stream.SetLength(256L << 20);
        }

        using (FileBlockDevice device = FileBlockDevice.Open(image, writable: true))
        {
            VolumeFormatter.Format(device, new MkfsOptions());
        }

        _server = CrfsServer.Open(image);
        CrfsServer server = _server;
        _session = await CrfsSession.ConnectAsync(_ => ValueTask.FromResult<ICrfsTransport>(server.ConnectInMemory()));
        _bridge = new FuseBridge(new CrfsFileSystem(_session));
    }

    public async Task DisposeAsync()
    {
        if (_session is not null)
        {
            await _session.DisposeAsync();
        }

        if (_server is not null)
        {
            await _server.DisposeAsync();
        }

        _dir.Dispose();
    }

    private static FuseContext Root(FuseOpcode opcode) => new(opcode, 1, 0, 0, 1, CancellationToken.None);

    [Fact]
    public Task GetAttr_RootNodeId_AnswersTheSubvolumeRootDirectory() => Task.Run(() =>
    {
        Assert.Equal(Errno.Ok, Bridge.GetAttr(Root(FuseOpcode.GetAttr), IFuseFileSystem.RootId, null, out FuseAttrReply reply));
        Assert.Equal(RootIno, reply.Attributes.Ino);
        Assert.Equal(FileType.Directory, reply.Attributes.Type);
        // No notifier attached: the bridge could not take a cached answer back, so it caches nothing.
        Assert.Equal(TimeSpan.Zero, reply.Timeout);
    });

    [Fact]
    public Task MkDirThenLookup_CountsEachReferenceAndForgetReleasesThem() => Task.Run(() =>
    {
        Assert.Equal(Errno.Ok, Bridge.MkDir(Root(FuseOpcode.MkDir), IFuseFileSystem.RootId, "d"u8, DirMode, 0, out FuseEntry made));
        Assert.NotEqual(IFuseFileSystem.RootId, made.NodeId);
        Assert.Equal(made.Attributes.Ino, made.NodeId);
        Assert.Equal(Errno.Ok, Bridge.Lookup(Root(FuseOpcode.Lookup), IFuseFileSystem.RootId, "d"u8, out FuseEntry found));
        Assert.Equal(made.NodeId, found.NodeId);
        Assert.Equal(2UL, Bridge.LookupCount(made.NodeId));

        Bridge.Forget(made.NodeId, 1);
        Assert.Equal(1UL, Bridge.LookupCount(made.NodeId));
        Bridge.Forget(made.NodeId, 1);
        Assert.Equal(0, Bridge.NodeCount);
    });

    [Fact]
    public Task Lookup_MissingName_ReturnsEnoentAndCountsNothing() => Task.Run(() =>
    {
        Assert.Equal(Errno.ENOENT, Bridge.Lookup(Root(FuseOpcode.Lookup), IFuseFileSystem.RootId, "nope"u8, out _));
        Assert.Equal(0, Bridge.NodeCount);
    });

    [Fact]
    public Task CreateWriteRead_ThroughTheReturnedHandle_ReadsTheBytesBack() => Task.Run(() =>
    {
        Assert.Equal(Errno.Ok, Bridge.Create(Root(FuseOpcode.Create), IFuseFileSystem.RootId, "f"u8, 0x1a4, 0, OpenFlags.ReadWrite, out FuseEntry entry, out FuseOpenReply open));
        Assert.Equal(Errno.Ok, Bridge.Write(Root(FuseOpcode.Write), entry.NodeId, open.Handle, 0, "payload"u8, FuseWriteFlags.None, out int written));
        Assert.Equal(7, written);

        byte[] buffer = new byte[64];
        Assert.Equal(Errno.Ok, Bridge.Read(Root(FuseOpcode.Read), entry.NodeId, open.Handle, 0, buffer, out int read));
        Assert.Equal("payload"u8.ToArray(), buffer[..read]);
        Assert.Equal(Errno.Ok, Bridge.Release(Root(FuseOpcode.Release), entry.NodeId, open.Handle, OpenFlags.ReadWrite, FuseReleaseFlags.None, 0));
        Assert.Equal(Errno.Ok, Bridge.GetAttr(Root(FuseOpcode.GetAttr), entry.NodeId, null, out FuseAttrReply attr));
        Assert.Equal(7UL, attr.Attributes.Size);
    });

    [Fact]
    public Task ReadDirPlus_CountsAReferenceForEachNamedEntryButNotTheDots() => Task.Run(() =>
    {
        Assert.Equal(Errno.Ok, Bridge.MkDir(Root(FuseOpcode.MkDir), IFuseFileSystem.RootId, "a"u8, DirMode, 0, out FuseEntry a));
        Assert.Equal(Errno.Ok, Bridge.MkDir(Root(FuseOpcode.MkDir), IFuseFileSystem.RootId, "b"u8, DirMode, 0, out FuseEntry b));

        var writer = new FuseDirectoryPlusWriter(new byte[4096]);
        Assert.Equal(Errno.Ok, Bridge.ReadDirPlus(Root(FuseOpcode.ReadDirPlus), IFuseFileSystem.RootId, 0, 0, ref writer));
        Assert.Equal(4, writer.Count);
        Assert.Equal(2UL, Bridge.LookupCount(a.NodeId));
        Assert.Equal(2UL, Bridge.LookupCount(b.NodeId));
        Assert.Equal(2, Bridge.NodeCount);
    });

    [Fact]
    public Task Rename_FuseFlagsPassThrough_NoReplaceRefusesAnExistingTarget() => Task.Run(() =>
    {
        Assert.Equal(Errno.Ok, Bridge.MkDir(Root(FuseOpcode.MkDir), IFuseFileSystem.RootId, "x"u8, DirMode, 0, out _));
        Assert.Equal(Errno.Ok, Bridge.MkDir(Root(FuseOpcode.MkDir), IFuseFileSystem.RootId, "y"u8, DirMode, 0, out _));

        Assert.Equal(Errno.EEXIST, Bridge.Rename(Root(FuseOpcode.Rename2), IFuseFileSystem.RootId, "x"u8, IFuseFileSystem.RootId, "y"u8, Fuse.RenameFlags.NoReplace));
        Assert.Equal(Errno.Ok, Bridge.Rename(Root(FuseOpcode.Rename2), IFuseFileSystem.RootId, "x"u8, IFuseFileSystem.RootId, "z"u8, Fuse.RenameFlags.None));
        Assert.Equal(Errno.ENOENT, Bridge.Lookup(Root(FuseOpcode.Lookup), IFuseFileSystem.RootId, "x"u8, out _));
    });

    [Fact]
    public Task Xattrs_SetGetListRemove_RoundTripWithTheSizeContract() => Task.Run(() =>
    {
        Assert.Equal(Errno.Ok, Bridge.SetXattr(Root(FuseOpcode.SetXattr), IFuseFileSystem.RootId, "user.k"u8, "v1"u8, XattrFlags.Create));
        Assert.Equal(Errno.EEXIST, Bridge.SetXattr(Root(FuseOpcode.SetXattr), IFuseFileSystem.RootId, "user.k"u8, "v2"u8, XattrFlags.Create));

        Assert.Equal(Errno.Ok, Bridge.GetXattr(Root(FuseOpcode.GetXattr), IFuseFileSystem.RootId, "user.k"u8, Span<byte>.Empty, out int probed));
        Assert.Equal(2, probed);
        byte[] value = new byte[16];
        Assert.Equal(Errno.Ok, Bridge.GetXattr(Root(FuseOpcode.GetXattr), IFuseFileSystem.RootId, "user.k"u8, value, out int length));
        Assert.Equal("v1"u8.ToArray(), value[..length]);

        byte[] names = new byte[64];
        Assert.Equal(Errno.Ok, Bridge.ListXattr(Root(FuseOpcode.ListXattr), IFuseFileSystem.RootId, names, out int namesLength));
        Assert.Equal("user.k\0"u8.ToArray(), names[..namesLength]);
        Assert.Equal(Errno.Ok, Bridge.RemoveXattr(Root(FuseOpcode.RemoveXattr), IFuseFileSystem.RootId, "user.k"u8));
        Assert.Equal(Errno.ENODATA, Bridge.GetXattr(Root(FuseOpcode.GetXattr), IFuseFileSystem.RootId, "user.k"u8, value, out _));
    });
}
