// SPDX-License-Identifier: MIT
using System.Diagnostics;
using Crfs.Volume.Devices;
using Crfs.Volume.Mkfs;
using Crfs.Volume.Transactions;

namespace Crfs.Bench.Mkfs;

/// <summary>
/// The writer's side of the mkfs benchmark: what <c>crfs mkfs --size N --rootdir DIR IMAGE</c>
/// does, timed, without the CLI (so it runs before the command is registered). Prints the
/// seconds it took, including the final flush.
/// </summary>
public static class Program
{
    public static int Main(string[] args)
    {
        if (args.Length != 3)
        {
            Console.Error.WriteLine("usage: Crfs.Bench.Mkfs IMAGE SIZE_BYTES ROOTDIR");
            return 2;
        }

        string image = args[0];
        long size = long.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture);
        File.Delete(image);
        using (var stream = new FileStream(image, FileMode.CreateNew))
        {
            stream.SetLength(size);
        }

        var clock = Stopwatch.StartNew();
        using (FileBlockDevice device = FileBlockDevice.Open(image, writable: true))
        {
            VolumeFormatter.Format(device, new MkfsOptions());
            using VolumeWriter writer = VolumeWriter.Open(device);
            var importer = new RootDirImporter(writer);
            importer.Import(args[2]);
            Console.Error.WriteLine($"{importer.Files} files, {importer.Bytes} bytes");
        }

        Console.WriteLine(clock.Elapsed.TotalSeconds.ToString("F2", System.Globalization.CultureInfo.InvariantCulture));
        return 0;
    }
}
