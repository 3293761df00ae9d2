// SPDX-License-Identifier: MIT
using System.IO.Compression;

namespace Crfs.Cli.Commands;

/// <summary>
/// <c>crfs up</c>: the README's first command. It makes the default volume if there is none (from
/// the embedded sample image, see docs/decisions/0003) and runs CRFS on it.
/// </summary>
/// <remarks>
/// The server and the mounted client are not built yet, so for now "runs CRFS" means the read
/// path: the volume is opened with CRFS's own btrfs reader (every tree block and data sector
/// verified) and its root directory and welcome file are shown. When <c>crfs serve</c> and
/// <c>crfs mount</c> exist this command will serve and mount the volume in one process over the
/// in-memory pipe instead; the README's limitations section says which of the two it does today.
/// </remarks>
public sealed class UpCommand : ICommand
{
    private const string SampleResource = "Crfs.Cli.Resources.sample-volume.img.gz";

    public string Name => "up";

    public string Summary => "run CRFS on the default volume (made from the embedded sample if absent)";

    public string Usage => """
        usage: crfs up [--volume PATH]

          --volume PATH  the volume to use (default: $CRFS_HOME/default.img, where CRFS_HOME
                         defaults to ~/.crfs). Created from the embedded sample volume, a
                         128 MiB btrfs image made by mkfs.btrfs, when it does not exist.
        """;

    public int Run(string[] args)
    {
        string volume = DefaultVolumePath();
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--volume" when i + 1 < args.Length:
                    volume = Path.GetFullPath(args[++i]);
                    break;
                default:
                    throw new UsageException($"unexpected argument '{args[i]}'");
            }
        }

        if (!File.Exists(volume))
        {
            CreateFromSample(volume);
            Console.WriteLine($"crfs up: created the default volume {volume} from the embedded sample");
        }

        Console.WriteLine($"crfs up: volume {volume}");
        Console.WriteLine("crfs up: the server and the mount are not built yet; showing the volume through CRFS's btrfs reader.");
        Console.WriteLine();
        var inspect = new InspectCommand();
        int status = inspect.Run(["ls", volume, "/"]);
        if (status != 0)
        {
            return status;
        }

        Console.WriteLine();
        Console.WriteLine("--- /WELCOME.txt ---");
        Console.Out.Flush();
        status = inspect.Run(["cat", volume, "/WELCOME.txt"]);
        Console.WriteLine();
        Console.WriteLine($"Explore further: ./crfs inspect ls {volume} /docs   |   ./crfs inspect get {volume} / /tmp/out");
        return status;
    }

    private static string DefaultVolumePath()
    {
        string home = Environment.GetEnvironmentVariable("CRFS_HOME") is { Length: > 0 } h
            ? h
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".crfs");
        return Path.Combine(home, "default.img");
    }

    private static void CreateFromSample(string volume)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(volume)!);
        using Stream compressed = typeof(UpCommand).Assembly.GetManifestResourceStream(SampleResource)
            ?? throw new InvalidOperationException($"the embedded resource {SampleResource} is missing from this build");
        string temp = volume + ".partial";
        using (var gzip = new GZipStream(compressed, CompressionMode.Decompress))
        using (FileStream output = File.Create(temp))
        {
            gzip.CopyTo(output);
        }

        // Rename last, so an interrupted first run never leaves a truncated volume behind.
        File.Move(temp, volume, overwrite: false);
    }
}
