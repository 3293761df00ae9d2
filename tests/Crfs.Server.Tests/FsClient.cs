// SPDX-License-Identifier: MIT
using Crfs.Client.Session;
using Crfs.FileSystem;
using Crfs.Format.Btrfs;
using Crfs.Posix;
using Crfs.Protocol.Transports;

namespace Crfs.Server.Tests;

/// <summary>
/// One whole client (a <see cref="CrfsSession"/> and the <see cref="CrfsFileSystem"/> over it) of a
/// <see cref="ServerFixture"/>'s server, over an in-memory pipe; the session's clock is real, so its
/// reconnects run by themselves. Helpers assert success and name the operation on failure.
/// </summary>
internal sealed class FsClient : IAsyncDisposable
{
    public const ulong RootIno = 256;

    private FsClient(CrfsSession session)
    {
        Session = session;
        Fs = new CrfsFileSystem(session);
    }

    public CrfsSession Session { get; }

    public CrfsFileSystem Fs { get; }

    public static async Task<FsClient> ConnectAsync(CrfsServer server, CrfsSessionOptions? options = null) =>
        new(await CrfsSession.ConnectAsync(_ => ValueTask.FromResult<ICrfsTransport>(server.ConnectInMemory()), options ?? new CrfsSessionOptions()));

    public static byte[] N(string name) => System.Text.Encoding.UTF8.GetBytes(name);

    public async Task<ulong> CreateAsync(string name, string content)
    {
        FsResult<OpenedFile> created = await Fs.CreateAndOpenAsync(Caller.Root, RootIno, N(name), 0x1A4, OpenFlags.ReadWrite);
        Assert.True(created.IsOk, $"create {name}: {created.Error}");
        FsResult<int> written = await Fs.WriteAsync(Caller.Root, created.Value.Handle, 0, N(content));
        Assert.True(written.IsOk, $"write {name}: {written.Error}");
        Assert.Equal(Errno.Ok, await Fs.ReleaseAsync(created.Value.Handle));
        Assert.Equal(Errno.Ok, await Fs.SyncAsync());
        return created.Value.Attributes.Ino;
    }

    public async Task<ulong> OpenAsync(string name)
    {
        FsResult<InodeAttributes> found = await Fs.LookupAsync(Caller.Root, RootIno, N(name));
        Assert.True(found.IsOk, $"lookup {name}: {found.Error}");
        FsResult<OpenedFile> opened = await Fs.OpenAsync(Caller.Root, found.Value.Ino, OpenFlags.ReadOnly);
        Assert.True(opened.IsOk, $"open {name}: {opened.Error}");
        return opened.Value.Handle;
    }

    public async Task<string> ReadAsync(ulong handle)
    {
        FsResult<byte[]> read = await Fs.ReadAsync(handle, 0, 4096);
        Assert.True(read.IsOk, $"read handle {handle}: {read.Error}");
        return System.Text.Encoding.UTF8.GetString(read.Value!);
    }

    public async Task UnlinkAsync(string name)
    {
        Assert.Equal(Errno.Ok, await Fs.UnlinkAsync(Caller.Root, RootIno, N(name)));
        Assert.Equal(Errno.Ok, await Fs.SyncAsync());
    }

    public async Task CloseAsync(ulong handle)
    {
        Assert.Equal(Errno.Ok, await Fs.ReleaseAsync(handle));
        Assert.Equal(Errno.Ok, await Fs.SyncAsync());
    }

    public ValueTask DisposeAsync() => Session.DisposeAsync();
}

/// <summary>What the server's volume holds for an inode, read through the writer (the only copy once clients have synced).</summary>
internal static class VolumeProbe
{
    public static bool HasInode(CrfsServer server, ulong ino) =>
        server.Writer.Execute(tx => tx.TryGet(ObjectIds.FsTree, new BtrfsKey(ino, ItemType.InodeItem, 0), out _));

    public static bool HasOrphanItem(CrfsServer server, ulong ino) =>
        server.Writer.Execute(tx => tx.TryGet(ObjectIds.FsTree, new BtrfsKey(ObjectIds.Orphan, ItemType.OrphanItem, ino), out _));

    public static int OrphanItemCount(CrfsServer server) =>
        server.Writer.Execute(tx => tx.Scan(ObjectIds.FsTree, new BtrfsKey(ObjectIds.Orphan, ItemType.OrphanItem, 0), new BtrfsKey(ObjectIds.Orphan, ItemType.OrphanItem, ulong.MaxValue)).Count);

    /// <summary>Runs <c>btrfs check</c> on the stopped server's image when btrfs-progs is installed; returns whether it ran.</summary>
    public static bool CheckIfAvailable(string image)
    {
        if (!ProcessRunnerAvailable())
        {
            return false;
        }

        Crfs.Testing.ProcessResult r = Crfs.Testing.ProcessRunner.Run("btrfs", "check", "--readonly", image);
        Assert.True(r.ExitCode == 0, $"btrfs check {image} exited {r.ExitCode}:\n{r.StdOut}\n{r.StdErr}");
        return true;
    }

    private static bool ProcessRunnerAvailable() => Crfs.Testing.ProcessRunner.CommandExists("btrfs");
}
