// SPDX-License-Identifier: MIT
using System.Text;

namespace Crfs.Cli.Commands;

/// <summary>
/// <c>crfs install-helper</c>: writes the mount(8) helper <c>/sbin/mount.fuse.crfs</c>, so that
/// <c>mount -t fuse.crfs HOST:PORT DIR</c> and fstab lines of type <c>fuse.crfs</c> work. mount(8)
/// runs <c>mount.fuse.crfs SOURCE DIR [-sfnv] [-N NS] [-o OPTIONS] [-t TYPE]</c>; the helper keeps
/// SOURCE, DIR and the options and execs this very crfs (the path it was run as, through the
/// dotnet host if that is how it runs) as <c>crfs mount SOURCE DIR -o OPTIONS</c>, which returns
/// once the mount is ready and serves in the background.
/// </summary>
public sealed class InstallHelperCommand : ICommand
{
    public const string DefaultPath = "/sbin/mount.fuse.crfs";

    public string Name => "install-helper";

    public string Summary => $"install the mount(8) helper {DefaultPath} (mount -t fuse.crfs, fstab)";

    public string Usage => $"""
        usage: crfs install-helper [--path FILE]

          --path FILE  where to write the helper (default {DefaultPath}).
        """;

    public int Run(string[] args)
    {
        string path = DefaultPath;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--path" when i + 1 < args.Length:
                    path = Path.GetFullPath(args[++i]);
                    break;
                default:
                    throw new UsageException($"unexpected argument '{args[i]}'");
            }
        }

        string processPath = Environment.ProcessPath ?? throw new IOException("cannot find this program's executable");
        string command = Path.GetFileNameWithoutExtension(processPath) == "dotnet"
            ? $"{Quote(processPath)} {Quote(typeof(InstallHelperCommand).Assembly.Location)}"
            : Quote(processPath);
        string temp = path + ".partial";
        File.WriteAllText(temp, Script(command), new UTF8Encoding(false));
        File.SetUnixFileMode(temp, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute
            | UnixFileMode.GroupRead | UnixFileMode.GroupExecute | UnixFileMode.OtherRead | UnixFileMode.OtherExecute);
        File.Move(temp, path, overwrite: true);
        Console.WriteLine($"crfs install-helper: wrote {path}; 'mount -t fuse.crfs HOST:PORT DIR' now runs {command} mount");
        return 0;
    }

    /// <summary>Single-quotes <paramref name="word"/> for sh.</summary>
    private static string Quote(string word) => "'" + word.Replace("'", "'\\''", StringComparison.Ordinal) + "'";

    private static string Script(string command) => $$"""
        #!/bin/sh
        # mount(8) helper for CRFS, written by 'crfs install-helper'.
        # mount(8) runs: mount.fuse.crfs SOURCE DIR [-sfnv] [-N NAMESPACE] [-o OPTIONS] [-t TYPE]
        [ $# -ge 2 ] || { echo "usage: mount.fuse.crfs HOST:PORT DIR [-o OPTIONS]" >&2; exit 1; }
        source=$1
        dir=$2
        shift 2
        opts=
        while [ $# -gt 0 ]; do
            case $1 in
                -o) opts=$2; shift 2 ;;
                -o*) opts=${1#-o}; shift ;;
                -t|-N) shift 2 ;;
                *) shift ;;
            esac
        done
        if [ -n "$opts" ]; then
            exec {{command}} mount "$source" "$dir" -o "$opts"
        fi
        exec {{command}} mount "$source" "$dir"

        """;
}
