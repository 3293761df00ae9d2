// SPDX-License-Identifier: MIT
namespace Crfs.Cli.Commands;

/// <summary>One <c>crfs</c> subcommand. <see cref="Run"/> gets the arguments after its name.</summary>
public interface ICommand
{
    string Name { get; }

    string Summary { get; }

    /// <summary>Full usage text, printed after a <see cref="UsageException"/>.</summary>
    string Usage { get; }

    int Run(string[] args);
}

/// <summary>Thrown for bad command-line arguments; the CLI prints it with the usage and exits 2.</summary>
public sealed class UsageException(string message) : Exception(message);
