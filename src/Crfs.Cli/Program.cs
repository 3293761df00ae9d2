// SPDX-License-Identifier: MIT
namespace Crfs.Cli;

public static class Program
{
    public static int Main(string[] args)
    {
        Console.Error.WriteLine("crfs: no commands yet");
        return args.Length == 0 ? 2 : 2;
    }
}
