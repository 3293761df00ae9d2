// SPDX-License-Identifier: MIT
using Crfs.Cli.Commands;

namespace Crfs.Cli;

/// <summary>
/// The <c>crfs</c> command: a thin composition root. Each subcommand lives in its own file under
/// <c>Commands/</c> and is listed once in <see cref="s_commands"/>; this file knows nothing of what
/// they do. Exit codes: 0 success, 1 the operation failed (the message says why), 2 usage error.
/// </summary>
public static class Program
{
    private static readonly ICommand[] s_commands =
    [
        new UpCommand(),
        new InspectCommand(),
        new MkfsCommand(),
        new ServeCommand(),
        new MountCommand(),
        new UmountCommand(),
        new SyncCommand(),
        new StatCommand(),
        new InstallHelperCommand(),
    ];

    public static int Main(string[] args)
    {
        if (args.Length == 0 || args[0] is "-h" or "--help" or "help")
        {
            PrintUsage(Console.Out);
            return args.Length == 0 ? 2 : 0;
        }

        ICommand? command = Array.Find(s_commands, c => c.Name == args[0]);
        if (command is null)
        {
            Console.Error.WriteLine($"crfs: unknown command '{args[0]}'");
            PrintUsage(Console.Error);
            return 2;
        }

        try
        {
            return command.Run(args.AsSpan(1).ToArray());
        }
        catch (UsageException e)
        {
            Console.Error.WriteLine($"crfs {command.Name}: {e.Message}");
            Console.Error.WriteLine(command.Usage);
            return 2;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException or InvalidDataException)
        {
            // Expected failures of the environment or the volume: one clear line, no stack.
            Console.Error.WriteLine($"crfs {command.Name}: {e.Message}");
            return 1;
        }
    }

    private static void PrintUsage(TextWriter w)
    {
        w.WriteLine("usage: crfs COMMAND [ARGS...]");
        w.WriteLine();
        foreach (ICommand c in s_commands)
        {
            w.WriteLine($"  {c.Name,-10} {c.Summary}");
        }
    }
}
