// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Protocol.Messages;
using Crfs.Testing;
using Crfs.Volume.Devices;
using Crfs.Volume.Mkfs;

namespace Crfs.Server.Tests;

/// <summary>
/// A fresh volume image (formatted by the writer's mkfs, so no external tool is needed) and a
/// server over it on a hand-moved clock. Disposing stops the server, then deletes the image.
/// </summary>
internal sealed class ServerFixture : IAsyncDisposable
{
    private readonly TempDirectory _dir;

    private ServerFixture(TempDirectory dir, string image, CrfsServer server, ManualTime time)
    {
        _dir = dir;
        ImagePath = image;
        Server = server;
        Time = time;
    }

    public string ImagePath { get; }

    public CrfsServer Server { get; private set; }

    public ManualTime Time { get; }

    public static ServerFixture Create(long megabytes = 256)
    {
        var dir = new TempDirectory("crfs-server");
        string image = dir.Combine("volume.img");
        using (var stream = new FileStream(image, FileMode.CreateNew))
        {
            stream.SetLength(megabytes << 20);
        }

        using (FileBlockDevice device = FileBlockDevice.Open(image, writable: true))
        {
            VolumeFormatter.Format(device, new MkfsOptions());
        }

        var time = new ManualTime();
        return new ServerFixture(dir, image, Open(image, time), time);
    }

    private static CrfsServer Open(string image, ManualTime time) =>
        CrfsServer.Open(image, new CrfsServerOptions { TickInterval = TimeSpan.FromHours(1) }, time: time);

    public Task<TestClient> ConnectAsync(bool answerRevokes = true) => TestClient.ConnectAsync(Server.ConnectInMemory(), answerRevokes);

    /// <summary>Stops the server and starts a new instance on the same image and clock.</summary>
    public async Task RestartAsync()
    {
        await Server.DisposeAsync();
        Server = Open(ImagePath, Time);
    }

    /// <summary>Stops the server (final commit, close) so the image can be inspected.</summary>
    public async Task StopAsync() => await Server.DisposeAsync();

    /// <summary>The INODE_ITEM of <paramref name="ino"/> as the server has it, read over the protocol.</summary>
    public static async Task<byte[]> ReadInodeAsync(TestClient client, ulong ino)
    {
        KeyRange range = KeyRange.ForInodeGroup(5, ino);
        var key = new BtrfsKey(ino, ItemType.InodeItem, 0);
        Reply<ItemReadReply> reply = await client.SendAsync(new ItemReadRequest(range, key, 1 << 16));
        Assert.True(reply.IsOk, $"ITEM_READ {key}: {reply.Status}");
        return reply.Value.Group.Items.Single(i => i.Key == key).Value.ToArray();
    }

    public async ValueTask DisposeAsync()
    {
        await Server.DisposeAsync();
        _dir.Dispose();
    }
}
