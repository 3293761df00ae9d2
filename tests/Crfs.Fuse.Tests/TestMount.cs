// SPDX-License-Identifier: MIT
using Crfs.Testing;

namespace Crfs.Fuse.Tests;

/// <summary>
/// A file system mounted for one test under a fresh temp directory, exercised only from child
/// processes (the test process itself never touches the mountpoint: with every reader busy that
/// would deadlock). Dispose unmounts, and falls back to a lazy unmount so no test leaves a mount.
/// </summary>
internal sealed class TestMount : IDisposable
{
    private readonly TempDirectory _directory;

    private TestMount(TempDirectory directory, FuseServer server)
    {
        _directory = directory;
        Server = server;
    }

    public FuseServer Server { get; }

    public string Path => Server.MountPoint;

    /// <summary>Skips the test unless real mounts are possible here.</summary>
    public static void SkipUnlessMountable()
    {
        Skip.IfNot(Capabilities.HasDevFuse, "needs /dev/fuse");
        Skip.IfNot(Capabilities.IsRoot || ProcessRunner.CommandExists("fusermount3"), "needs root or fusermount3");
    }

    public static TestMount Create(IFuseFileSystem fileSystem, FuseOptions? options = null, FuseMountOptions? mountOptions = null)
    {
        SkipUnlessMountable();
        var directory = new TempDirectory("crfs-fuse");
        string mountPoint = directory.Combine("mnt");
        Directory.CreateDirectory(mountPoint);
        try
        {
            mountOptions ??= new FuseMountOptions { FsName = "crfs-test", Subtype = "crfstest", DefaultPermissions = true };
            return new TestMount(directory, FuseServer.Mount(fileSystem, mountPoint, mountOptions, options));
        }
        catch
        {
            directory.Dispose();
            throw;
        }
    }

    /// <summary>Runs a bash script in a child process with $M set to the mountpoint.</summary>
    public ProcessResult Bash(string script, TimeSpan? timeout = null) =>
        ProcessRunner.Run("/bin/bash", ["-euo", "pipefail", "-c", $"M='{Path}'\n{script}"], timeout ?? TimeSpan.FromMinutes(5), workingDirectory: "/");

    /// <summary>Runs a python3 script in a child process with M set to the mountpoint.</summary>
    public ProcessResult Python(string script, TimeSpan? timeout = null) =>
        ProcessRunner.Run("python3", ["-c", $"M = {PythonString(Path)}\n{script}"], timeout ?? TimeSpan.FromMinutes(5), workingDirectory: "/");

    public void Dispose()
    {
        try
        {
            Server.Dispose();
        }
        finally
        {
            if (FuseMount.IsMounted(Path))
            {
                ProcessRunner.Run("umount", "-l", Path);
            }

            _directory.Dispose();
        }
    }

    private static string PythonString(string s) => "'" + s.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("'", "\\'", StringComparison.Ordinal) + "'";
}
