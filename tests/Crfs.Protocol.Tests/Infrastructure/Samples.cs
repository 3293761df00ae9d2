// SPDX-License-Identifier: MIT
using System.Collections;
using System.Reflection;
using Crfs.Format.Btrfs;
using Crfs.Protocol.Messages;

namespace Crfs.Protocol.Tests.Infrastructure;

/// <summary>
/// One sample of every message, every field set to a distinctive non-default value, so a codec
/// that drops, swaps or truncates a field fails the round trip; and a structural comparer.
/// </summary>
public static class Samples
{
    public static readonly KeyRange Range = new(5, new BtrfsKey(2048, 0, 0), new BtrfsKey(3071, (ItemType)0xFF, ulong.MaxValue));

    public static readonly LeafGroup Group = new(
        new BtrfsKey(2048, 0, 0),
        new BtrfsKey(2100, ItemType.DirIndex, 77),
        [
            new WireItem(new BtrfsKey(2050, ItemType.InodeItem, 0), new byte[] { 1, 2, 3, 4 }),
            new WireItem(new BtrfsKey(2050, ItemType.InodeRef, 256), "\u0010\0\0\0\0\0\0\0\u0005\0hello"u8.ToArray()),
            new WireItem(new BtrfsKey(2051, ItemType.XattrItem, 0x9999), ReadOnlyMemory<byte>.Empty),
        ]);

    public static IReadOnlyList<Message> All { get; } =
    [
        new HelloRequest(1, HelloFlags.Farewell, 1 << 20, Guid.Parse("00112233-4455-6677-8899-aabbccddeeff"), Guid.Parse("8a3c7f0e-2b1d-4e5f-9a6b-7c8d9e0f1a2b"), 0x51, 0x52, ProtocolCapabilities.None),
        new HelloReply(0xDEADBEEF, HelloMode.Recover, 0x61, 2 << 20, 30_000, ProtocolCapabilities.None),
        PingRequest.Instance,
        PingReply.Instance,
        new LockRequest(Range, LockMode.Read, LockMode.Write),
        new LockReply(LockMode.Read, LockMode.Write, 0x71, Group),
        new LockReply(LockMode.WriteOnly, LockMode.Null, 0x72, null),
        new RevokeRequest(Range, LockMode.Write, LockMode.Read, 0x0102_0304_0506_0708),
        new RevokeReply(Range, LockMode.Write, LockMode.Read, 0x0102_0304_0506_0708),
        new ItemReadRequest(Range, new BtrfsKey(2050, ItemType.DirItem, 0x1234), 65536),
        new ItemReadReply(Group),
        new AllocInoRequest(0x81, 5, InodeKind.Directory, 1024),
        new AllocInoReply(9 * 1024, 1000),
        new CommitRequest(
            0x91,
            5,
            [
                ItemOperation.Put(new BtrfsKey(2050, ItemType.InodeItem, 0), new byte[] { 9, 8, 7 }),
                ItemOperation.Delete(new BtrfsKey(2050, ItemType.DirIndex, 3)),
                ItemOperation.DeleteRange(new BtrfsKey(2051, 0, 0), new BtrfsKey(2051, (ItemType)0xFF, ulong.MaxValue)),
                ItemOperation.Put(new BtrfsKey(2052, ItemType.XattrItem, 5), ReadOnlyMemory<byte>.Empty),
            ],
            [
                DataOperation.Write(2050, 4096, new byte[] { 0xAB, 0xCD }),
                DataOperation.Truncate(2050, 1000),
                DataOperation.Punch(2052, 8192, 4096),
            ]),
        new CommitReply([new WireItem(new BtrfsKey(2050, ItemType.ExtentData, 0), new byte[53])]),
        new DataReadRequest(5, 2050, 1 << 40, 128 << 10),
        new DataReadReply(new byte[] { 0, 1, 2, 3, 0, 0, 0xFF }),
        StatfsRequest.Instance,
        new StatfsReply(1_000_000, 400_000, 390_000, 50_000, 40_000, 4096, 255),
        SyncRequest.Instance,
        SyncReply.Instance,
        new InUseQueryRequest(5, 2),
        new InUseQueryReply(Enumerable.Range(0, 128).Select(i => (byte)(i * 7)).ToArray()),
        new LockRecoverRequest(5, new BtrfsKey(1024, ItemType.InodeItem, 1)),
        new LockRecoverReply(
        [
            new RecoveredLock(KeyRange.ForInodeGroup(5, 1024), LockMode.Read),
            new RecoveredLock(KeyRange.ForInodeGroup(5, 2048), LockMode.Write),
            new RecoveredLock(KeyRange.ForInodeGroup(6, 0), LockMode.WriteOnly),
        ]),
        new FlockRequest(0xA1, 5, 2050, 0xA2, 100, 199, FlockType.Write, FlockFlags.Wait | FlockFlags.WholeFile),
        FlockReply.Instance,
        FarewellRequest.Instance,
        FarewellReply.Instance,
        new InUseCheckRequest(5, 3),
        new InUseCheckReply(Enumerable.Range(0, 128).Select(i => (byte)(i * 11)).ToArray()),
    ];

    public static IEnumerable<object[]> AllAsTheoryData => All.Select(m => new object[] { m });

    /// <summary>Fails with the path of the first field where <paramref name="actual"/> differs from <paramref name="expected"/>.</summary>
    public static void AssertEquivalent(object? expected, object? actual, string path = "message")
    {
        if (expected is null || actual is null)
        {
            Assert.True(expected is null && actual is null, $"{path}: expected {expected ?? "null"}, got {actual ?? "null"}");
            return;
        }

        if (expected is IList list && actual is IList other)
        {
            Assert.True(list.Count == other.Count, $"{path}: {list.Count} elements expected, got {other.Count}");
            for (int i = 0; i < list.Count; i++)
            {
                AssertEquivalent(list[i], other[i], $"{path}[{i}]");
            }

            return;
        }

        Type type = expected.GetType();
        Assert.True(type == actual.GetType(), $"{path}: expected a {type.Name}, got a {actual.GetType().Name}");
        switch (expected)
        {
            case ReadOnlyMemory<byte> bytes:
                Assert.True(bytes.Span.SequenceEqual(((ReadOnlyMemory<byte>)actual).Span), $"{path}: bytes differ");
                return;
            case Message or LeafGroup or WireItem or ItemOperation or DataOperation or RecoveredLock:
                foreach (PropertyInfo property in Fields(type))
                {
                    AssertEquivalent(property.GetValue(expected), property.GetValue(actual), $"{path}.{property.Name}");
                }

                return;
            default:
                Assert.True(expected.Equals(actual), $"{path}: expected {expected}, got {actual}");
                return;
        }
    }

    /// <summary>The properties that travel: public, declared by the message itself, not computed from others.</summary>
    public static IEnumerable<PropertyInfo> Fields(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.GetMethod is not null && p.Name is not ("Command" or "IsResponse" or "EqualityContract" or "TreeId" or "IsOk" or "Value")
                || (p.Name == "TreeId" && type != typeof(ItemReadRequest)) || (p.Name == "Value" && type == typeof(WireItem)));
}
