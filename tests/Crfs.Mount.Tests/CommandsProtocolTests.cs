// SPDX-License-Identifier: MIT
using System.Text;
using Crfs.Mount.Control;

namespace Crfs.Mount.Tests.Commands;

/// <summary>The control channel's line format, validated where it is read.</summary>
public sealed class ControlProtocolTests
{
    [Theory]
    [InlineData("sync", ControlVerb.Sync)]
    [InlineData("stat", ControlVerb.Stat)]
    [InlineData("unmount", ControlVerb.Unmount)]
    [InlineData("unmount force", ControlVerb.UnmountForce)]
    public void TryParseRequest_EveryFormattedVerb_RoundTrips(string line, ControlVerb verb)
    {
        Assert.Equal(line, ControlProtocol.Format(verb));
        Assert.True(ControlProtocol.TryParseRequest(line, out ControlVerb parsed));
        Assert.Equal(verb, parsed);
    }

    [Theory]
    [InlineData("")]
    [InlineData("SYNC")]
    [InlineData("sync ")]
    [InlineData("unmount lazy")]
    public void TryParseRequest_UnknownLine_IsRejected(string line) =>
        Assert.False(ControlProtocol.TryParseRequest(line, out _));

    [Fact]
    public async Task ReadLineAsync_OneLine_ReturnsItWithoutTheNewline()
    {
        using var stream = new MemoryStream("ok {\"pid\":1}\n"u8.ToArray());
        Assert.Equal("ok {\"pid\":1}", await ControlProtocol.ReadLineAsync(stream, 100, CancellationToken.None));
    }

    [Fact]
    public async Task ReadLineAsync_PeerClosedBeforeAnything_ReturnsNull()
    {
        using var stream = new MemoryStream([]);
        Assert.Null(await ControlProtocol.ReadLineAsync(stream, 100, CancellationToken.None));
    }

    [Theory]
    [InlineData("sync", "cut short")]
    [InlineData("sync\nstat\n", "after the control line")]
    [InlineData("a very long request line\n", "longer than 8")]
    public async Task ReadLineAsync_MalformedInput_ThrowsInvalidDataNamingTheProblem(string input, string expected)
    {
        using var stream = new MemoryStream(Encoding.UTF8.GetBytes(input));
        InvalidDataException e = await Assert.ThrowsAsync<InvalidDataException>(() => ControlProtocol.ReadLineAsync(stream, 8, CancellationToken.None));
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task ReadLineAsync_NotUtf8_ThrowsInvalidData()
    {
        using var stream = new MemoryStream([0x73, 0xff, 0xfe, (byte)'\n']);
        await Assert.ThrowsAsync<InvalidDataException>(() => ControlProtocol.ReadLineAsync(stream, 100, CancellationToken.None));
    }

    [Fact]
    public void SocketPath_IsNamedByTheDeviceNumber()
    {
        Assert.Equal(Path.Combine(ControlProtocol.SocketDirectory, "0-52.sock"), ControlProtocol.SocketPath(0, 52));
    }
}

/// <summary>Parsing /proc/self/mountinfo lines.</summary>
public sealed class MountTableTests
{
    [Fact]
    public void TryParse_FuseCrfsLineWithEscapedSpace_ReadsDeviceTypeAndPath()
    {
        const string Line = @"812 30 0:52 / /tmp/my\040mnt rw,nosuid,nodev,relatime shared:455 - fuse.crfs crfs:127.0.0.1:7420 rw,user_id=0,group_id=0";
        Assert.True(MountTable.TryParse(Line, out MountEntry entry));
        Assert.Equal(new MountEntry(0, 52, "/tmp/my mnt", "fuse.crfs", "crfs:127.0.0.1:7420"), entry);
        Assert.True(entry.IsCrfs);
    }

    [Fact]
    public void TryParse_LineWithoutOptionalFields_ReadsTheTypeAfterTheSeparator()
    {
        Assert.True(MountTable.TryParse("25 1 8:1 / / rw - ext4 /dev/sda1 rw", out MountEntry entry));
        Assert.Equal(new MountEntry(8, 1, "/", "ext4", "/dev/sda1"), entry);
        Assert.False(entry.IsCrfs);
    }

    [Theory]
    [InlineData("")]
    [InlineData("25 1 8:1 / / rw ext4 /dev/sda1 rw")]
    [InlineData("25 1 8-1 / / rw - ext4 /dev/sda1 rw")]
    public void TryParse_MalformedLine_IsRejected(string line) => Assert.False(MountTable.TryParse(line, out _));

    [SkippableFact]
    public void Find_ProcMountPoint_IsNotCrfs()
    {
        Skip.IfNot(File.Exists(MountTable.MountInfoPath), "needs /proc/self/mountinfo");
        MountEntry? proc = MountTable.Find("/proc");
        Assert.NotNull(proc);
        Assert.Equal("proc", proc.FileSystemType);
    }
}
