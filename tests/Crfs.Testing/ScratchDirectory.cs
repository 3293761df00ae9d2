// SPDX-License-Identifier: MIT
namespace Crfs.Testing;

/// <summary>
/// A fresh directory under /tmp for trees that <see cref="TempDirectory"/> cannot delete: names
/// that are not UTF-8 (which .NET's enumeration cannot round-trip) and directories with mode 0000.
/// Deleted with <c>rm -rf --one-file-system</c>, which also refuses to descend into a mount that a
/// failed test left behind.
/// </summary>
public sealed class ScratchDirectory : IDisposable
{
    public ScratchDirectory(string prefix = "crfs-scratch")
    {
        Path = Directory.CreateTempSubdirectory(prefix + "-").FullName;
    }

    public string Path { get; }

    public string Combine(params string[] parts) => System.IO.Path.Combine([Path, .. parts]);

    public void Dispose() =>
        ProcessRunner.Run("rm", ["-rf", "--one-file-system", "--", Path], TimeSpan.FromMinutes(5));
}
