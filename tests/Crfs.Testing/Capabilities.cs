// SPDX-License-Identifier: MIT
namespace Crfs.Testing;

/// <summary>
/// What this machine lets tests do. Tests that need a capability call <c>Skip.IfNot(...)</c> with
/// these, so a machine without it reports a skip rather than a failure.
/// </summary>
public static class Capabilities
{
    private static readonly Lazy<bool> s_isRoot = new(() => ProcessRunner.Run("id", "-u").StdOut.Trim() == "0");
    private static readonly Lazy<bool> s_hasMkfsBtrfs = new(() => ProcessRunner.CommandExists("mkfs.btrfs"));
    private static readonly Lazy<bool> s_canLoopMountBtrfs = new(ProbeLoopMount);

    public static bool IsRoot => s_isRoot.Value;

    public static bool HasMkfsBtrfs => s_hasMkfsBtrfs.Value;

    public static bool HasDevFuse => File.Exists("/dev/fuse");

    /// <summary>Root, btrfs-progs, and the kernel's btrfs and loop drivers all usable.</summary>
    public static bool CanLoopMountBtrfs => s_canLoopMountBtrfs.Value;

    private static bool ProbeLoopMount()
    {
        if (!IsRoot || !HasMkfsBtrfs)
        {
            return false;
        }

        using var dir = new TempDirectory("crfs-probe");
        string img = dir.Combine("probe.img");
        string mnt = dir.Combine("mnt");
        Directory.CreateDirectory(mnt);
        ProcessResult r = ProcessRunner.Bash(
            $"truncate -s 128M '{img}' && mkfs.btrfs -q '{img}' && mount -o loop '{img}' '{mnt}' && umount '{mnt}'");
        return r.ExitCode == 0;
    }
}
