// SPDX-License-Identifier: MIT
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Crfs.Testing;

/// <summary>
/// What only a kernel-written image has, done through a read-write loop mount after
/// <see cref="SourceTree.Populate"/>: subvolumes (nested, many, with their own owners and modes),
/// snapshots (read-write and read-only, sharing tree blocks and extents), preallocated extents
/// (whole, split by a write, beyond EOF), punched holes, a hole before a <c>dd seek=</c> write,
/// overwrites in the middle of committed extents (partial extent references), inline files grown
/// into regular ones, truncation inside an extent, reflinks, a NODATACOW file (no checksums) and a
/// directory with the compress flag.
/// </summary>
/// <remarks>
/// Writes that must land in separate extents are separated by <c>sync -f</c>, which commits the
/// transaction; otherwise delayed allocation would merge them. <see cref="Run"/> goes before
/// <see cref="SourceTree.StampTimes"/>, <see cref="Snapshot"/> after it (read-only snapshots cannot
/// be stamped, so they must copy already-stamped subvolumes). Bump <see cref="Version"/> when the
/// output changes.
/// </remarks>
public static class KernelWorkload
{
    public const int Version = 2;

    public static void Run(string mnt, int seed)
    {
        Subvolumes(mnt, seed);
        Extents(mnt, seed);
        Directory.CreateDirectory(Path.Combine(mnt, "snapshots"));
    }

    public static void Snapshot(string mnt, int seed)
    {
        Btrfs(mnt, "subvolume", "snapshot", "subvolumes/subvol-b", "snapshots/snap-b");
        Btrfs(mnt, "subvolume", "snapshot", "-r", "subvolumes/subvol-b", "snapshots/ro-snap-b");

        // Diverge the writable snapshot from its source: CoW of shared tree blocks and extents.
        string snap = Path.Combine(mnt, "snapshots/snap-b");
        File.WriteAllBytes(Path.Combine(snap, "after-snapshot"), SeededRandom.For(seed, "after-snapshot").Bytes(70000));
        Overwrite(Path.Combine(snap, "data"), 8192, SeededRandom.For(seed, "snap-overwrite").Bytes(4096));
        Sync(mnt);

        SourceTree.StampOne(mnt, "snapshots/snap-b/after-snapshot", seed);
        SourceTree.StampOne(mnt, "snapshots/snap-b/data", seed);
        SourceTree.StampOne(mnt, "snapshots/snap-b", seed);
        SourceTree.StampOne(mnt, "snapshots", seed);
        SourceTree.StampOne(mnt, "", seed);
    }

    private static void Subvolumes(string mnt, int seed)
    {
        Directory.CreateDirectory(Path.Combine(mnt, "subvolumes"));
        Btrfs(mnt, "subvolume", "create", "subvolumes/subvol-a");
        Btrfs(mnt, "subvolume", "create", "subvolumes/subvol-a/nested");
        Btrfs(mnt, "subvolume", "create", "subvolumes/subvol-a/nested/deeper");
        Btrfs(mnt, "subvolume", "create", "subvolumes/subvol-b");
        for (int i = 1; i <= 12; i++)
        {
            Btrfs(mnt, "subvolume", "create", $"subvolumes/many-{i:D2}");
        }

        foreach (string sv in (string[])["subvol-a", "subvol-a/nested", "subvol-a/nested/deeper", "subvol-b", "many-01", "many-07", "many-12"])
        {
            string dir = Path.Combine(mnt, "subvolumes", sv);
            SeededRandom r = SeededRandom.For(seed, "subvolume " + sv);
            File.WriteAllBytes(Path.Combine(dir, "data"), r.Bytes(r.Next(20000, 200000)));
            File.WriteAllBytes(Path.Combine(dir, "inline"), r.Text(500));
            Directory.CreateDirectory(Path.Combine(dir, "dir"));
            File.WriteAllBytes(Path.Combine(dir, "dir", "file"), r.Text(5000));
            byte[] linked = Encoding.UTF8.GetBytes(Path.Combine(dir, "dir", "linked"));
            LibC.Link(Encoding.UTF8.GetBytes(Path.Combine(dir, "dir", "file")), linked);
            LibC.SetXattr(Encoding.UTF8.GetBytes(Path.Combine(dir, "data")), "user.subvolume", Encoding.UTF8.GetBytes(sv));
            LibC.MkNod(Encoding.UTF8.GetBytes(Path.Combine(dir, "fifo")), LibC.IFIFO | LibC.Octal("644"), 0, 0);
        }

        // A subvolume root is an inode like any other: owner, mode and xattrs.
        byte[] many3 = Encoding.UTF8.GetBytes(Path.Combine(mnt, "subvolumes/many-03"));
        LibC.Lchown(many3, 1000, 1001);
        LibC.Chmod(many3, LibC.Octal("700"));
        LibC.SetXattr(many3, "user.subvolume-root", "many-03"u8);
    }

    private static void Extents(string mnt, int seed)
    {
        string k = Path.Combine(mnt, "kernel");
        Directory.CreateDirectory(k);
        SeededRandom r = SeededRandom.For(seed, "kernel extents");
        string P(string name) => Path.Combine(k, name);

        Sh(k, "truncate -s 8M truncated");
        Sh(k, "fallocate -l 4M prealloc-whole");

        // Preallocated 2 MiB split into prealloc / written / prealloc.
        Sh(k, "fallocate -l 2M prealloc-split");
        Overwrite(P("prealloc-split"), 1 << 20, r.Bytes(4096));

        // A preallocated extent past i_size (FALLOC_FL_KEEP_SIZE): not part of the file.
        File.WriteAllBytes(P("prealloc-beyond-eof"), r.Text(10));
        Sh(k, "fallocate -n -o 0 -l 1M prealloc-beyond-eof");

        File.WriteAllBytes(P("punched"), r.Bytes(4 << 20));
        Sync(mnt);
        Sh(k, "fallocate -p -o 1M -l 1M punched && fallocate -p -o $((3 * 1048576 + 100)) -l 5000 punched");

        // dd seek=: a hole before the data, and a 200 MiB one.
        File.WriteAllBytes(P("dd-source"), r.Bytes(1 << 20));
        Sh(k, "dd if=dd-source of=dd-seek bs=4k count=1 seek=1000 status=none");
        Sh(k, "dd if=dd-source of=dd-seek-far bs=1M count=1 seek=200 status=none");

        // Overwrites in the middle of a committed extent leave partial references to it.
        File.WriteAllBytes(P("overwritten"), r.Bytes(4 << 20));
        Sync(mnt);
        Overwrite(P("overwritten"), (1 << 20) + 4096, r.Bytes(65536));
        Sync(mnt);
        Overwrite(P("overwritten"), (3 << 20) + 7, r.Bytes(100));

        File.WriteAllBytes(P("grown-from-inline"), r.Text(100));
        Sync(mnt);
        File.AppendAllText(P("grown-from-inline"), Encoding.ASCII.GetString(r.Text(10000)));

        File.WriteAllBytes(P("shrunk"), r.Bytes(1 << 20));
        Sync(mnt);
        Sh(k, "truncate -s 300000 shrunk");

        Sh(k, "cp --reflink=always ../sizes/random-1048576 reflinked");
        Sync(mnt);
        Overwrite(P("reflinked"), 512 << 10, r.Bytes(4096));

        // NODATACOW (+C) files have no data checksums; +c asks for compression.
        Sh(k, "touch nodatacow && chattr +C nodatacow");
        File.WriteAllBytes(P("nodatacow"), r.Bytes(300000));
        Directory.CreateDirectory(P("compress-flag"));
        Sh(k, "chattr +c compress-flag");
        File.WriteAllBytes(Path.Combine(P("compress-flag"), "text"), r.Text(1 << 20));
        File.WriteAllBytes(Path.Combine(P("compress-flag"), "small-text"), r.Text(3000));
        Sync(mnt);
    }

    private static void Overwrite(string path, long offset, byte[] data)
    {
        using SafeFileHandle h = File.OpenHandle(path, FileMode.Open, FileAccess.Write);
        RandomAccess.Write(h, data, offset);
    }

    private static void Sync(string mnt) => ProcessRunner.Run("sync", ["-f", mnt], TimeSpan.FromMinutes(5)).EnsureSuccess();

    private static void Btrfs(string mnt, params string[] args) =>
        ProcessRunner.Run("btrfs", args, TimeSpan.FromMinutes(2), workingDirectory: mnt).EnsureSuccess();

    private static void Sh(string directory, string script) =>
        ProcessRunner.Run("/bin/bash", ["-euo", "pipefail", "-c", script], TimeSpan.FromMinutes(5), workingDirectory: directory).EnsureSuccess();
}
