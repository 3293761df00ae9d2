// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using Crfs.Format.Btrfs;

namespace Crfs.Format.Tests.Btrfs;

public class SuperblockCheckerTests
{
    private static readonly Lazy<RealImage> s_image = new(RealImage.Load);

    private static byte[] Superblock()
    {
        Skip.IfNot(RealImage.CanBuild, "needs mkfs.btrfs and setfattr");
        return (byte[])s_image.Value.Superblock.Clone();
    }

    [SkippableFact]
    public void PrimaryCopyFromMkfsPassesAndListsItsSystemChunk()
    {
        byte[] sb = Superblock();
        Assert.Null(SuperblockChecker.Validate(sb, 0x10000));
        int chunks = 0;
        foreach (SysChunkEntry e in new SysChunkArrayEnumerator(new SuperblockView(sb)))
        {
            Assert.Equal(ItemType.ChunkItem, e.Key.Type);
            Assert.True((e.Chunk.Type & BlockGroupFlags.System) != 0);
            chunks++;
        }

        Assert.Equal(1, chunks);
    }

    [SkippableFact]
    public void CopyCheckedAtAnotherMirrorOffsetIsRejected()
    {
        byte[] sb = Superblock();
        Assert.Equal("bytenr 65536 does not match the copy's offset 67108864", SuperblockChecker.Validate(sb, 0x4000000));
    }

    [SkippableFact]
    public void DamageIsNamed()
    {
        Assert.StartsWith("bad magic", Damage(sb => sb[SuperblockLayout.Magic] ^= 1, reseal: false));
        Assert.StartsWith("checksum mismatch: stored 0x", Damage(sb => sb[SuperblockLayout.Generation] ^= 1, reseal: false));
        Assert.Equal("unknown checksum type 9", Damage(sb => BinaryPrimitives.WriteUInt16LittleEndian(sb.AsSpan(SuperblockLayout.CsumType), 9), reseal: false));
        Assert.Equal("invalid nodesize 3000 for sectorsize 4096", Damage(sb => BinaryPrimitives.WriteUInt32LittleEndian(sb.AsSpan(SuperblockLayout.NodeSize), 3000)));
        Assert.Equal("invalid sys_chunk_array_size 2049", Damage(sb => BinaryPrimitives.WriteUInt32LittleEndian(sb.AsSpan(SuperblockLayout.SysChunkArraySize), 2049)));
        Assert.StartsWith("invalid root levels", Damage(sb => sb[SuperblockLayout.RootLevel] = 8));
        Assert.StartsWith("dev_item fsid", Damage(sb => sb[SuperblockLayout.DevItem + DevItemLayout.Fsid] ^= 1));
        Assert.StartsWith("sys_chunk_array entry at 0 has key", Damage(sb => sb[SuperblockLayout.SysChunkArray + DiskKeyLayout.Type] = (byte)ItemType.DevItem));
        Assert.Contains("is not a SYSTEM chunk", Damage(sb =>
        {
            Span<byte> type = sb.AsSpan(SuperblockLayout.SysChunkArray + DiskKeyLayout.Size + ChunkItemLayout.Type);
            BinaryPrimitives.WriteUInt64LittleEndian(type, (ulong)(BlockGroupFlags.Metadata | BlockGroupFlags.Dup));
        }));
    }

    [SkippableFact]
    public void TruncatedCopyIsRejected()
    {
        byte[] sb = Superblock();
        Assert.Equal("superblock is 100 bytes, expected 4096", SuperblockChecker.Validate(sb.AsSpan(0, 100), 0x10000));
    }

    private static string Damage(Action<byte[]> damage, bool reseal = true)
    {
        byte[] sb = Superblock();
        damage(sb);
        if (reseal)
        {
            RealImage.ResealSuperblock(sb);
        }

        return SuperblockChecker.Validate(sb, 0x10000) ?? throw new Xunit.Sdk.XunitException("the damaged superblock passed");
    }
}
