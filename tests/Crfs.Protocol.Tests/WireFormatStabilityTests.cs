// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Protocol.Framing;
using Crfs.Protocol.Messages;

namespace Crfs.Protocol.Tests;

/// <summary>
/// Freezes everything on the wire: header layout, magic, and the numeric values of every enum a
/// frame or body carries. Values may only be added (and a change bumps ProtocolVersion); a test
/// here failing means the wire changed.
/// </summary>
public class WireFormatStabilityTests
{
    [Fact]
    public void ProtocolVersionAndLimits_AreFrozen()
    {
        Assert.Equal(2, WireFormat.ProtocolVersion);
        Assert.Equal(0x53465243u, WireFormat.Magic);
        Assert.Equal(4 << 20, WireFormat.DefaultMaxPayload);
        Assert.Equal(16 << 20, WireFormat.HardMaxPayload);
        Assert.Equal(64 << 10, WireFormat.MinMaxPayload);
    }

    [Fact]
    public void FrameHeaderLayout_IsFrozen()
    {
        Assert.Equal(40, FrameHeader.Size);
        Assert.Equal(
            [0, 4, 6, 7, 8, 16, 24, 32, 36],
            new[]
            {
                FrameHeaderLayout.Magic, FrameHeaderLayout.Command, FrameHeaderLayout.Flags, FrameHeaderLayout.Status,
                FrameHeaderLayout.Seq, FrameHeaderLayout.Ack, FrameHeaderLayout.RequestId, FrameHeaderLayout.PayloadLength, FrameHeaderLayout.Crc,
            });
    }

    [Fact]
    public void EncodedFrame_MatchesGoldenBytes()
    {
        byte[] frame = FrameEncoder.Encode(
            new FrameHeader(Command.Lock, FrameFlags.Response | FrameFlags.More, WireError.Ok, 0x0102030405060708, 0x1112131415161718, 0x2122232425262728, 3),
            [0xAA, 0xBB, 0xCC]);

        Assert.Equal(
            "43524653" + "0300" + "03" + "00" + "0807060504030201" + "1817161514131211" + "2827262524232221" + "03000000" + "01310596" + "AABBCC",
            Convert.ToHexString(frame));
    }

    [Fact]
    public void FrameChecksum_IsStandardCrc32cOfHeaderPrefixThenPayload()
    {
        byte[] header = new byte[FrameHeader.Size];
        "abcdefghijklmnopqrstuvwxyz0123456789"u8.CopyTo(header);
        header.AsSpan(FrameHeaderLayout.Crc).Fill(0xEE); // the checksum field itself is not covered
        byte[] payload = "123456789"u8.ToArray();

        Assert.Equal(BitwiseCrc32c([.. header.AsSpan(0, FrameHeaderLayout.Crc), .. payload]), FrameEncoder.ComputeCrc(header, payload));
        Assert.Equal(0xE3069283u, BitwiseCrc32c(payload));
    }

    [Fact]
    public void CommandValues_AreFrozen() => AssertEnum(new Dictionary<Command, int>
    {
        [Command.Hello] = 1,
        [Command.Ping] = 2,
        [Command.Lock] = 3,
        [Command.Revoke] = 4,
        [Command.ItemRead] = 5,
        [Command.AllocIno] = 6,
        [Command.Commit] = 7,
        [Command.DataRead] = 8,
        [Command.Statfs] = 9,
        [Command.Sync] = 10,
        [Command.InUseQuery] = 11,
        [Command.LockRecover] = 12,
        [Command.Flock] = 13,
        [Command.Farewell] = 14,
        [Command.InUseCheck] = 15,
    });

    [Fact]
    public void FrameFlagValues_AreFrozen() => AssertEnum(new Dictionary<FrameFlags, int>
    {
        [FrameFlags.None] = 0,
        [FrameFlags.Response] = 1,
        [FrameFlags.More] = 2,
    });

    [Fact]
    public void WireErrorValues_AreFrozen() => AssertEnum(new Dictionary<WireError, int>
    {
        [WireError.Ok] = 0,
        [WireError.NotFound] = 1,
        [WireError.Exists] = 2,
        [WireError.NoSpace] = 3,
        [WireError.Io] = 4,
        [WireError.Stale] = 5,
        [WireError.Access] = 6,
        [WireError.Permission] = 7,
        [WireError.NotEmpty] = 8,
        [WireError.NotDir] = 9,
        [WireError.IsDir] = 10,
        [WireError.CrossDevice] = 11,
        [WireError.NameTooLong] = 12,
        [WireError.Loop] = 13,
        [WireError.Invalid] = 14,
        [WireError.Busy] = 15,
        [WireError.Again] = 16,
        [WireError.TimedOut] = 17,
        [WireError.Evicted] = 18,
        [WireError.ProtocolError] = 19,
        [WireError.ReadOnly] = 20,
        [WireError.FileTooBig] = 21,
        [WireError.TooManyLinks] = 22,
        [WireError.NoData] = 23,
        [WireError.Range] = 24,
        [WireError.NotSupported] = 25,
        [WireError.Overflow] = 26,
        [WireError.Deadlock] = 27,
        [WireError.NoLocks] = 28,
        [WireError.QuotaExceeded] = 29,
        [WireError.BadHandle] = 30,
        [WireError.TextBusy] = 31,
        [WireError.NoMemory] = 32,
        [WireError.NotImplemented] = 33,
        [WireError.Interrupted] = 34,
        [WireError.Canceled] = 35,
        [WireError.TooBig] = 36,
    });

    [Fact]
    public void HelloModeAndFlagValues_AreFrozen()
    {
        AssertEnum(new Dictionary<HelloMode, int>
        {
            [HelloMode.New] = 1,
            [HelloMode.Resumed] = 2,
            [HelloMode.Recover] = 3,
            [HelloMode.Evicted] = 4,
            [HelloMode.FarewellDone] = 5,
        });
        AssertEnum(new Dictionary<HelloFlags, int> { [HelloFlags.None] = 0, [HelloFlags.Farewell] = 1 });
        AssertEnum(new Dictionary<ProtocolCapabilities, int> { [ProtocolCapabilities.None] = 0 });
    }

    [Fact]
    public void LockModeValues_AreFrozen() => AssertEnum(new Dictionary<LockMode, int>
    {
        [LockMode.Null] = 0,
        [LockMode.Read] = 1,
        [LockMode.Write] = 2,
        [LockMode.WriteOnly] = 3,
    });

    [Fact]
    public void BodyEnumValues_AreFrozen()
    {
        AssertEnum(new Dictionary<InodeKind, int> { [InodeKind.Directory] = 1, [InodeKind.File] = 2 });
        AssertEnum(new Dictionary<ItemOperationKind, int> { [ItemOperationKind.Put] = 1, [ItemOperationKind.Delete] = 2, [ItemOperationKind.DeleteRange] = 3 });
        AssertEnum(new Dictionary<DataOperationKind, int> { [DataOperationKind.Write] = 1, [DataOperationKind.Truncate] = 2, [DataOperationKind.Punch] = 3 });
        AssertEnum(new Dictionary<FlockType, int> { [FlockType.Read] = 1, [FlockType.Write] = 2, [FlockType.Unlock] = 3 });
        AssertEnum(new Dictionary<FlockFlags, int> { [FlockFlags.None] = 0, [FlockFlags.Wait] = 1, [FlockFlags.WholeFile] = 2 });
    }

    [Fact]
    public void HelloRequestBody_MatchesGoldenBytes()
    {
        var hello = new HelloRequest(
            1, HelloFlags.Farewell, 0x00400000, Guid.Parse("00112233-4455-6677-8899-aabbccddeeff"), Guid.Parse("ffeeddcc-bbaa-9988-7766-554433221100"),
            0x0102030405060708, 0x1112131415161718, ProtocolCapabilities.None);

        Assert.Equal(
            "0100" + "0100" + "00004000" + "00112233445566778899AABBCCDDEEFF" + "FFEEDDCCBBAA99887766554433221100"
            + "0807060504030201" + "1817161514131211" + "0000000000000000",
            Convert.ToHexString(MessageCodec.EncodeBody(hello)));
    }

    [Fact]
    public void LockRequestBody_MatchesGoldenBytes()
    {
        var request = new LockRequest(
            new KeyRange(5, new BtrfsKey(1024, 0, 0), new BtrfsKey(2047, (ItemType)0xFF, ulong.MaxValue)), LockMode.Read, LockMode.Write);

        Assert.Equal(
            "0500000000000000" + "0004000000000000" + "00" + "0000000000000000" + "FF07000000000000" + "FF" + "FFFFFFFFFFFFFFFF" + "01" + "02",
            Convert.ToHexString(MessageCodec.EncodeBody(request)));
    }

    // The definition, one bit at a time, independent of any table or instruction.
    private static uint BitwiseCrc32c(ReadOnlySpan<byte> data)
    {
        uint crc = ~0u;
        foreach (byte b in data)
        {
            crc ^= b;
            for (int k = 0; k < 8; k++)
            {
                crc = (crc & 1) != 0 ? (crc >> 1) ^ 0x82F63B78 : crc >> 1;
            }
        }

        return ~crc;
    }

    private static void AssertEnum<T>(Dictionary<T, int> frozen)
        where T : struct, Enum
    {
        Assert.Equal(frozen.Keys.OrderBy(k => k), Enum.GetValues<T>().OrderBy(k => k));
        foreach ((T value, int number) in frozen)
        {
            Assert.Equal(number, Convert.ToInt32(value, System.Globalization.CultureInfo.InvariantCulture));
        }
    }
}
