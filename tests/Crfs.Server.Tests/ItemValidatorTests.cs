// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using Crfs.Format.Btrfs;
using Crfs.Format.Checksums;
using Crfs.Server.Items;

namespace Crfs.Server.Tests;

public sealed class ItemValidatorTests
{
    private const int NodeSize = 16384;

    [Fact]
    public void ValidatePut_ItemsOfACreate_AreAccepted()
    {
        byte[] name = "file.txt"u8.ToArray();
        Assert.Null(ItemValidator.ValidatePut(new BtrfsKey(300, ItemType.InodeItem, 0), ClientItems.Inode(InodeMode.Regular | 0x1A4, 0), NodeSize));
        Assert.Null(ItemValidator.ValidatePut(new BtrfsKey(300, ItemType.InodeRef, 256), ClientItems.InodeRef(2, name), NodeSize));
        Assert.Null(ItemValidator.ValidatePut(new BtrfsKey(256, ItemType.DirItem, NameHash.DirItem(name)), ClientItems.DirEntry(300, DirEntryType.RegularFile, name), NodeSize));
        Assert.Null(ItemValidator.ValidatePut(new BtrfsKey(256, ItemType.DirIndex, 2), ClientItems.DirEntry(300, DirEntryType.RegularFile, name), NodeSize));
        Assert.Null(ItemValidator.ValidatePut(new BtrfsKey(ObjectIds.Orphan, ItemType.OrphanItem, 300), [], NodeSize));
    }

    [Fact]
    public void ValidatePut_DirIndexWithTwoEntries_IsRefused()
    {
        byte[] two = [.. ClientItems.DirEntry(300, DirEntryType.RegularFile, "a"u8), .. ClientItems.DirEntry(301, DirEntryType.RegularFile, "b"u8)];

        string? error = ItemValidator.ValidatePut(new BtrfsKey(256, ItemType.DirIndex, 5), two, NodeSize);

        Assert.Contains("exactly one", error, StringComparison.Ordinal);
    }

    [Fact]
    public void ValidatePut_DirEntryWhoseNameLengthOverrunsTheItem_IsRefused()
    {
        byte[] entry = ClientItems.DirEntry(300, DirEntryType.RegularFile, "abc"u8);
        BinaryPrimitives.WriteUInt16LittleEndian(entry.AsSpan(DirItemLayout.NameLength), 200);

        string? error = ItemValidator.ValidatePut(new BtrfsKey(256, ItemType.DirIndex, 5), entry, NodeSize);

        Assert.Contains("overruns", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(".")]
    [InlineData("..")]
    [InlineData("a\0b")]
    public void ValidatePut_InodeRefWithReservedOrIllegalName_IsRefused(string name)
    {
        byte[] bytes = System.Text.Encoding.ASCII.GetBytes(name);

        string? error = ItemValidator.ValidatePut(new BtrfsKey(300, ItemType.InodeRef, 256), ClientItems.InodeRef(2, bytes), NodeSize);

        Assert.NotNull(error);
    }

    [Fact]
    public void ValidatePut_ExtrefWithWrongHash_IsRefused()
    {
        byte[] name = "x"u8.ToArray();
        byte[] extref = new byte[InodeExtrefLayout.EntrySize(name.Length)];
        BinaryPrimitives.WriteUInt64LittleEndian(extref.AsSpan(InodeExtrefLayout.ParentObjectId), 256);
        BinaryPrimitives.WriteUInt64LittleEndian(extref.AsSpan(InodeExtrefLayout.Index), 2);
        BinaryPrimitives.WriteUInt16LittleEndian(extref.AsSpan(InodeExtrefLayout.NameLength), 1);
        name.CopyTo(extref.AsSpan(InodeExtrefLayout.Size));

        Assert.Null(ItemValidator.ValidatePut(new BtrfsKey(300, ItemType.InodeExtref, NameHash.InodeExtref(256, name)), extref, NodeSize));
        Assert.Contains("hash", ItemValidator.ValidatePut(new BtrfsKey(300, ItemType.InodeExtref, 7), extref, NodeSize), StringComparison.Ordinal);
    }

    [Fact]
    public void ValidatePut_InodeWithUnknownFileType_IsRefused()
    {
        string? error = ItemValidator.ValidatePut(new BtrfsKey(300, ItemType.InodeItem, 0), ClientItems.Inode(0xE000 | 0x1A4, 0), NodeSize);

        Assert.Contains("mode", error, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(ItemType.ExtentData)]
    [InlineData(ItemType.RootItem)]
    [InlineData(ItemType.ExtentCsum)]
    public void ValidatePut_ServerOwnedType_IsRefused(ItemType type)
    {
        string? error = ItemValidator.ValidatePut(new BtrfsKey(300, type, 0), new byte[53], NodeSize);

        Assert.Contains("server-owned", error, StringComparison.Ordinal);
    }
}
