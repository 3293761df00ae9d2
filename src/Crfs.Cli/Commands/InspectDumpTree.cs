// SPDX-License-Identifier: MIT
using System.Globalization;
using System.Text;
using Crfs.Format.Btrfs;
using Crfs.Volume;
using Crfs.Volume.Files;
using Crfs.Volume.Trees;

namespace Crfs.Cli.Commands;

/// <summary>
/// <c>crfs inspect dump-tree</c>: every node and leaf of one tree (or of all trees) in depth-first
/// order, with each item decoded, in the layout of <c>btrfs inspect-internal dump-tree</c>.
/// </summary>
internal static class InspectDumpTree
{
    private static readonly (string Name, ulong Id)[] s_treeNames =
    [
        ("root", ObjectIds.RootTree),
        ("extent", ObjectIds.ExtentTree),
        ("chunk", ObjectIds.ChunkTree),
        ("dev", ObjectIds.DevTree),
        ("device", ObjectIds.DevTree),
        ("fs", ObjectIds.FsTree),
        ("csum", ObjectIds.CsumTree),
        ("checksum", ObjectIds.CsumTree),
        ("quota", ObjectIds.QuotaTree),
        ("uuid", ObjectIds.UuidTree),
        ("free-space", ObjectIds.FreeSpaceTree),
        ("block-group", ObjectIds.BlockGroupTree),
        ("data-reloc", ObjectIds.DataRelocTree),
    ];

    public static int Run(BtrfsVolume volume, string[] args)
    {
        using var w = new StreamWriter(Console.OpenStandardOutput(), new UTF8Encoding(false), 1 << 16);
        if (args.Length == 0)
        {
            DumpAll(w, volume);
        }
        else
        {
            ulong id = ParseTree(volume, args[0]);
            BtrfsTree tree = volume.FindTree(id) ?? throw new IOException($"the volume has no tree {id}");
            w.WriteLine($"{TreeTitle(id)} tree {(id is ObjectIds.RootTree or ObjectIds.ChunkTree ? "" : $"key {ItemPrinter.FormatKey(new BtrfsKey(id, ItemType.RootItem, 0))}")}".TrimEnd());
            DumpTree(w, volume, tree);
        }

        return 0;
    }

    private static ulong ParseTree(BtrfsVolume volume, string arg)
    {
        foreach ((string name, ulong id) in s_treeNames)
        {
            if (string.Equals(arg, name, StringComparison.OrdinalIgnoreCase))
            {
                return id;
            }
        }

        if (ulong.TryParse(arg, NumberStyles.None, CultureInfo.InvariantCulture, out ulong number))
        {
            return number;
        }

        if (long.TryParse(arg, NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture, out long negative) && negative < 0)
        {
            return unchecked((ulong)negative);
        }

        if (arg.StartsWith('/'))
        {
            ResolvedPath resolved = InspectCommand.Resolve(volume, arg);
            return resolved.Subvolume.Id;
        }

        throw new UsageException($"unknown tree '{arg}'");
    }

    private static void DumpAll(TextWriter w, BtrfsVolume volume)
    {
        w.WriteLine("root tree");
        DumpTree(w, volume, volume.RootTree);
        w.WriteLine("chunk tree");
        DumpTree(w, volume, volume.ChunkTree);
        var roots = new List<BtrfsKey>();
        TreeCursor cursor = volume.RootTree.OpenCursor();
        for (bool ok = cursor.SeekFirst(); ok; ok = cursor.MoveNext())
        {
            if (cursor.Key.Type == ItemType.RootItem)
            {
                roots.Add(cursor.Key);
            }
        }

        foreach (BtrfsKey key in roots)
        {
            w.WriteLine($"{TreeTitle(key.ObjectId)} tree key {ItemPrinter.FormatKey(key)}");
            DumpTree(w, volume, volume.GetTree(key.ObjectId));
        }

        SuperblockView sb = volume.Superblock;
        w.WriteLine($"total bytes {sb.TotalBytes}");
        w.WriteLine($"bytes used {sb.BytesUsed}");
        w.WriteLine($"uuid {UuidFormat.ToString(sb.Fsid)}");
    }

    private static string TreeTitle(ulong id) => id switch
    {
        ObjectIds.RootTree => "root",
        ObjectIds.ExtentTree => "extent",
        ObjectIds.ChunkTree => "chunk",
        ObjectIds.DevTree => "device",
        ObjectIds.FsTree => "fs",
        ObjectIds.CsumTree => "checksum",
        ObjectIds.QuotaTree => "quota",
        ObjectIds.UuidTree => "uuid",
        ObjectIds.FreeSpaceTree => "free space",
        ObjectIds.BlockGroupTree => "block group",
        ObjectIds.DataRelocTree => "data reloc",
        _ => "file",
    };

    private static void DumpTree(TextWriter w, BtrfsVolume volume, BtrfsTree tree) => DumpBlock(w, volume, tree, tree.ReadRoot());

    private static void DumpBlock(TextWriter w, BtrfsVolume volume, BtrfsTree tree, TreeBlock block)
    {
        ItemPrinter.PrintBlockHeader(w, block, volume.NodeSize);
        if (block.IsLeaf)
        {
            ItemPrinter.PrintLeafItems(w, block, volume.ChecksumSize, volume.SectorSize);
            return;
        }

        ItemPrinter.PrintNodePointers(w, block);
        for (int slot = 0; slot < block.NrItems; slot++)
        {
            DumpBlock(w, volume, tree, tree.ReadChild(block, slot));
        }
    }
}
