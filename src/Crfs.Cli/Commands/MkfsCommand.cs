// SPDX-License-Identifier: MIT
using System.Diagnostics;
using System.Globalization;
using System.Text;
using Crfs.Format.Btrfs;
using Crfs.Volume.Devices;
using Crfs.Volume.Mkfs;
using Crfs.Volume.Transactions;

namespace Crfs.Cli.Commands;

/// <summary>
/// <c>crfs mkfs</c>: makes a btrfs volume with the writer (what <c>mkfs.btrfs</c> 6.2 makes by
/// default), optionally filled from a directory. Parses arguments, sizes or creates the target,
/// and hands over to <see cref="VolumeFormatter"/> and <see cref="RootDirImporter"/>.
/// </summary>
public sealed class MkfsCommand : ICommand
{
    public string Name => "mkfs";

    public string Summary => "make a btrfs volume, optionally filled from a directory";

    public string Usage => """
        usage: crfs mkfs PATH [--size N] [--checksum crc32c|xxhash|sha256|blake2b] [--rootdir DIR] [--label L]

          PATH        an image file or block device. An existing file or device keeps its size;
                      a new file is created and needs --size.
          --size N    bytes, or with a suffix K, M, G, T (powers of 1024); at least 64M.
          --checksum  the checksum of metadata and data (default crc32c).
          --rootdir   copy this directory tree into the new volume: owners, modes, ns times,
                      device numbers, symlinks, xattrs, hard links and holes are kept exactly.
          --label     the volume label (at most 255 bytes).

        The volume has the features mkfs.btrfs 6.2 uses by default: skinny metadata, no-holes,
        extended inode refs and the free space tree; metadata DUP, data SINGLE.
        """;

    public int Run(string[] args)
    {
        string? path = null;
        ulong? size = null;
        string? rootDir = null;
        var options = new MkfsOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            switch (a)
            {
                case "--size":
                    size = ParseSize(Value(args, ref i, a));
                    break;
                case "--checksum":
                    options = options with { ChecksumType = ParseChecksum(Value(args, ref i, a)) };
                    break;
                case "--rootdir":
                    rootDir = Value(args, ref i, a);
                    break;
                case "--label":
                    byte[] label = Encoding.UTF8.GetBytes(Value(args, ref i, a));
                    if (label.Length > 255)
                    {
                        throw new UsageException($"the label is {label.Length} bytes; at most 255 fit");
                    }

                    options = options with { Label = label };
                    break;
                default:
                    if (a.StartsWith('-') || path is not null)
                    {
                        throw new UsageException($"unexpected argument '{a}'");
                    }

                    path = a;
                    break;
            }
        }

        if (path is null)
        {
            throw new UsageException("missing PATH");
        }

        if (rootDir is not null && !Directory.Exists(rootDir))
        {
            throw new UsageException($"--rootdir {rootDir} is not a directory");
        }

        if (!File.Exists(path))
        {
            if (size is not ulong n)
            {
                throw new UsageException($"{path} does not exist; give --size to create it");
            }

            using var stream = new FileStream(path, FileMode.CreateNew, FileAccess.Write);
            stream.SetLength((long)n);
        }
        else if (size is ulong n && (new FileInfo(path).Attributes & FileAttributes.Device) == 0 && new FileInfo(path).Length != (long)n)
        {
            using var stream = new FileStream(path, FileMode.Open, FileAccess.Write);
            stream.SetLength((long)n);
        }

        var clock = Stopwatch.StartNew();
        using (FileBlockDevice device = FileBlockDevice.Open(path, writable: true))
        {
            VolumeFormatter.Format(device, options);
            if (rootDir is not null)
            {
                using VolumeWriter writer = VolumeWriter.Open(device);
                var importer = new RootDirImporter(writer);
                importer.Import(rootDir);
                Console.Out.WriteLine($"copied {importer.Files} files, {importer.Bytes} bytes of data from {rootDir}");
            }

            device.Flush();
        }

        Console.Out.WriteLine($"made a btrfs volume on {path} ({options.ChecksumType}) in {clock.Elapsed.TotalSeconds:F1} s");
        return 0;
    }

    private static string Value(string[] args, ref int i, string option) =>
        ++i < args.Length ? args[i] : throw new UsageException($"{option} needs a value");

    private static ChecksumType ParseChecksum(string s) => s switch
    {
        "crc32c" => ChecksumType.Crc32c,
        "xxhash" or "xxhash64" => ChecksumType.XxHash64,
        "sha256" => ChecksumType.Sha256,
        "blake2" or "blake2b" => ChecksumType.Blake2b,
        _ => throw new UsageException($"unknown checksum '{s}'"),
    };

    internal static ulong ParseSize(string s)
    {
        ulong factor = 1;
        char last = char.ToUpperInvariant(s.Length > 0 ? s[^1] : ' ');
        if (last is 'K' or 'M' or 'G' or 'T')
        {
            factor = last switch { 'K' => 1UL << 10, 'M' => 1UL << 20, 'G' => 1UL << 30, _ => 1UL << 40 };
            s = s[..^1];
        }

        if (!ulong.TryParse(s, NumberStyles.None, CultureInfo.InvariantCulture, out ulong n))
        {
            throw new UsageException($"bad size '{s}'");
        }

        return n * factor;
    }
}
