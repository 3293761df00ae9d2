// SPDX-License-Identifier: MIT
using Crfs.Client.Session;
using Crfs.Client.Tests.Fakes;
using Crfs.Format.Btrfs;

namespace Crfs.FileSystem.Tests;

/// <summary>A <see cref="CrfsFileSystem"/> over a session to a fresh <see cref="FakeServer"/>, with a manual clock.</summary>
public abstract class FileSystemTestBase : IAsyncLifetime
{
    protected static readonly Caller Alice = new(1000, 1000);
    protected static readonly Caller Bob = new(1001, 1001);
    protected static readonly Caller Root = Caller.Root;
    protected const ulong RootIno = FakeServer.RootIno;

    protected FakeServer Server { get; } = new();

    protected ManualTimeProvider Time { get; } = new();

    protected CrfsSession Session { get; private set; } = null!;

    protected CrfsFileSystem Fs { get; private set; } = null!;

    public async Task InitializeAsync()
    {
        Session = await CrfsSession.ConnectAsync(Server.ConnectAsync, new CrfsSessionOptions { TimeProvider = Time });
        Fs = new CrfsFileSystem(Session, new FileSystemOptions { TimeProvider = Time });
    }

    public async Task DisposeAsync()
    {
        await Session.DisposeAsync();
        await Server.DisposeAsync();
    }

    protected static byte[] N(string name) => System.Text.Encoding.UTF8.GetBytes(name);

    /// <summary>Commits and returns the server's fs tree.</summary>
    protected async Task<SortedDictionary<BtrfsKey, byte[]>> CommittedAsync()
    {
        Assert.Equal(Crfs.Posix.Errno.Ok, await Fs.SyncAsync());
        Assert.Empty(Server.Violations);
        return Server.Snapshot();
    }

    protected static InodeItem Inode(SortedDictionary<BtrfsKey, byte[]> tree, ulong ino) =>
        new InodeItemView(tree[new BtrfsKey(ino, ItemType.InodeItem, 0)]).ToInodeItem();

    protected async Task<ulong> CreateAsync(Caller caller, ulong parent, string name, uint mode = 0x1A4)
    {
        FsResult<Crfs.Posix.InodeAttributes> r = await Fs.CreateAsync(caller, parent, N(name), mode);
        Assert.Equal(Crfs.Posix.Errno.Ok, r.Error);
        return r.Value.Ino;
    }

    protected async Task<ulong> MkDirAsync(Caller caller, ulong parent, string name, uint mode = 0x1ED)
    {
        FsResult<Crfs.Posix.InodeAttributes> r = await Fs.MkDirAsync(caller, parent, N(name), mode);
        Assert.Equal(Crfs.Posix.Errno.Ok, r.Error);
        return r.Value.Ino;
    }
}
