// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Protocol.Framing;
using Crfs.Protocol.Messages;
using Crfs.Protocol.Tests.Infrastructure;

namespace Crfs.Protocol.Tests;

public class MessageCodecTests
{
    [Fact]
    public void Samples_CoverEveryCommandInBothDirections()
    {
        var covered = Samples.All.Select(m => (m.Command, m.IsResponse)).ToHashSet();
        foreach (Command command in Enum.GetValues<Command>())
        {
            Assert.Contains((command, false), covered);
            Assert.Contains((command, true), covered);
        }
    }

    [Fact]
    public void Samples_SetEveryFieldToANonDefaultValue()
    {
        foreach (Message message in Samples.All.Where(m => !(m is LockReply { Items: null })))
        {
            foreach (System.Reflection.PropertyInfo field in Samples.Fields(message.GetType()))
            {
                object? value = field.GetValue(message);
                object? zero = field.PropertyType.IsValueType ? Activator.CreateInstance(field.PropertyType) : null;
                bool exempt = field.PropertyType == typeof(ProtocolCapabilities); // no capability is defined yet
                Assert.True(exempt || !Equals(value, zero), $"{message.GetType().Name}.{field.Name} is left at its default");
            }
        }
    }

    [Theory]
    [MemberData(nameof(Samples.AllAsTheoryData), MemberType = typeof(Samples))]
    public void RoundTrip_PreservesEveryFieldAndReencodesToTheSameBytes(Message message)
    {
        byte[] body = MessageCodec.EncodeBody(message);
        Assert.Equal(MessageCodec.GetBodyLength(message), body.Length);

        Assert.True(MessageCodec.TryDecode(message.Command, message.IsResponse, body, out Message? decoded, out ProtocolViolation? violation), violation?.ToString());

        Samples.AssertEquivalent(message, decoded);
        Assert.Equal(body, MessageCodec.EncodeBody(decoded));
    }

    [Theory]
    [MemberData(nameof(Samples.AllAsTheoryData), MemberType = typeof(Samples))]
    public void EveryTruncatedBody_IsBodyTooShort(Message message)
    {
        byte[] body = MessageCodec.EncodeBody(message);
        for (int length = 0; length < body.Length; length++)
        {
            Assert.False(MessageCodec.TryDecode(message.Command, message.IsResponse, body.AsMemory(0, length), out _, out ProtocolViolation? violation));
            Assert.True(violation.Kind == ViolationKind.BodyTooShort, $"{length} of {body.Length} bytes: {violation}");
        }
    }

    [Theory]
    [MemberData(nameof(Samples.AllAsTheoryData), MemberType = typeof(Samples))]
    public void BodyWithAnExtraByte_IsTrailingBytes(Message message)
    {
        byte[] body = [.. MessageCodec.EncodeBody(message), 0];

        Assert.False(MessageCodec.TryDecode(message.Command, message.IsResponse, body, out _, out ProtocolViolation? violation));
        Assert.Equal(ViolationKind.TrailingBytes, violation.Kind);
        Assert.Contains("1 bytes left over after the last field", violation.Reason);
    }

    [Fact]
    public void ShortLockBody_NamesTheFieldAndOffset()
    {
        Assert.False(MessageCodec.TryDecode(Command.Lock, false, new byte[5], out _, out ProtocolViolation? violation));

        Assert.Equal(ViolationKind.BodyTooShort, violation.Kind);
        Assert.Equal("LOCK request body: field 'range' needs 8 bytes at offset 0 but the body has 5", violation.Reason);
    }

    [Fact]
    public void HugeItemCount_IsRefusedBeforeAnyAllocation()
    {
        byte[] body = [0xFF, 0xFF, 0xFF, 0xFF, 1, 2, 3];

        Assert.False(MessageCodec.TryDecode(Command.Commit, true, body, out _, out ProtocolViolation? violation));

        Assert.Equal(ViolationKind.BodyTooShort, violation.Kind);
        Assert.Contains("server items count 4294967295 needs at least", violation.Reason);
    }

    public static IEnumerable<object[]> MalformedMessages() =>
    [
        [new LockRequest(Samples.Range, (LockMode)7, LockMode.Read), "old mode 7 is not a lock mode"],
        [new LockRequest(Samples.Range with { Start = Samples.Range.End, End = Samples.Range.Start }, LockMode.Read, LockMode.Write), "starts after it ends"],
        [new ItemReadRequest(Samples.Range, new BtrfsKey(5000, 0, 0), 1), "lies outside the lock range"],
        [new ItemReadReply(Samples.Group with { Items = [.. Samples.Group.Items.Reverse()] }), "does not follow"],
        [new ItemReadReply(Samples.Group with { Items = [new WireItem(new BtrfsKey(9999, 0, 0), ReadOnlyMemory<byte>.Empty)] }), "lies outside"],
        [new LockReply(LockMode.Read, LockMode.Write, 1, Samples.Group with { Low = Samples.Group.High, High = Samples.Group.Low }), "starts after it ends"],
        [new AllocInoRequest(1, 5, (InodeKind)9, 10), "inode kind 9"],
        [new AllocInoRequest(1, 5, InodeKind.File, 0), "count is 0"],
        [new CommitRequest(1, 5, [ItemOperation.DeleteRange(new BtrfsKey(10, 0, 0), new BtrfsKey(20, 0, 0)), ItemOperation.Delete(new BtrfsKey(15, 0, 0))], []), "does not start after item op 0"],
        [new CommitRequest(1, 5, [new ItemOperation((ItemOperationKind)9, default, default, default)], []), "item operation kind 9"],
        [new CommitRequest(1, 5, [], [new DataOperation(DataOperationKind.Write, 1, ulong.MaxValue, 2, new byte[2])]), "overflows"],
        [new HelloRequest(1, HelloFlags.None, 1000, Guid.Empty, Guid.Empty, 0, 0, ProtocolCapabilities.None), "max payload 1000 outside"],
        [new HelloRequest(1, (HelloFlags)0x80, 1 << 20, Guid.Empty, Guid.Empty, 0, 0, ProtocolCapabilities.None), "unknown HELLO flag bits 0x0080"],
        [new HelloReply(1, (HelloMode)0, 0, 1 << 20, 0, ProtocolCapabilities.None), "mode 0 is not a HELLO mode"],
        [new FlockRequest(1, 5, 9, 1, 200, 100, FlockType.Read, FlockFlags.None), "starts after it ends"],
        [new FlockRequest(1, 5, 9, 1, 0, 100, (FlockType)0, FlockFlags.None), "flock type 0"],
        [new LockRecoverReply([new RecoveredLock(KeyRange.ForInodeGroup(5, 4096), LockMode.Read), new RecoveredLock(KeyRange.ForInodeGroup(5, 1024), LockMode.Read)]), "does not follow"],
    ];

    [Theory]
    [MemberData(nameof(MalformedMessages))]
    public void MalformedMessage_IsRefusedToSendAndRejectedOnReceipt(Message message, string reason)
    {
        ArgumentException refused = Assert.Throws<ArgumentException>(() => MessageCodec.EncodeBody(message));
        Assert.Contains(reason, refused.Message);

        // The bytes a buggy or hostile peer would send, past the sender-side check.
        var raw = new byte[MessageCodec.GetBodyLength(message)];
        MessageCodec.WriteBodyUnchecked(message, raw);

        Assert.False(MessageCodec.TryDecode(message.Command, message.IsResponse, raw, out _, out ProtocolViolation? violation));
        Assert.Equal(ViolationKind.InvalidField, violation.Kind);
        Assert.Contains(reason, violation.Reason);
    }

    [Fact]
    public void BoolFieldOtherThanZeroOrOne_IsInvalid()
    {
        byte[] body = MessageCodec.EncodeBody(new LockReply(LockMode.Read, LockMode.Read, 1, null));
        body[^1] = 2;

        Assert.False(MessageCodec.TryDecode(Command.Lock, true, body, out _, out ProtocolViolation? violation));
        Assert.Equal(ViolationKind.InvalidField, violation.Kind);
        Assert.Contains("has items 2 is neither 0 nor 1", violation.Reason);
    }

    [Fact]
    public void DecodedByteFields_AreSlicesOfTheBodyNotCopies()
    {
        byte[] body = MessageCodec.EncodeBody(new DataReadReply(new byte[] { 1, 2, 3 }));
        Assert.True(MessageCodec.TryDecode(Command.DataRead, true, body, out Message? message, out _));

        body[4] = 42;

        Assert.Equal(42, ((DataReadReply)message).Data.Span[0]);
    }
}
