// SPDX-License-Identifier: MIT
namespace Crfs.Fuse;

/// <summary>How the /dev/fuse connection gets mounted.</summary>
public enum FuseMountMethod
{
    /// <summary>mount(2) directly when running as root, fusermount3 otherwise.</summary>
    Auto,

    /// <summary>Open /dev/fuse and call mount(2) (needs CAP_SYS_ADMIN).</summary>
    Kernel,

    /// <summary>Let the set-uid fusermount3 helper mount and pass the descriptor back over a socket.</summary>
    Fusermount,
}

/// <summary>How to unmount.</summary>
[Flags]
public enum FuseUnmountFlags
{
    None = 0,

    /// <summary>MNT_DETACH (<c>umount -l</c>, <c>fusermount3 -uz</c>): detach now, finish when no longer busy.</summary>
    Lazy = 1,

    /// <summary>MNT_FORCE: for FUSE this aborts the connection first; pending requests fail (root only).</summary>
    Force = 2,
}

/// <summary>
/// The kernel mount: what appears in /proc/mounts and which VFS options apply. The defaults mount
/// a private (owner-only) file system with nosuid and nodev, like fusermount3 does.
/// </summary>
public sealed class FuseMountOptions
{
    /// <summary>The "device" shown in /proc/mounts and df.</summary>
    public string FsName { get; init; } = "fuse";

    /// <summary>The type becomes <c>fuse.&lt;Subtype&gt;</c> (e.g. fuse.crfs); empty for plain <c>fuse</c>.</summary>
    public string Subtype { get; init; } = "";

    /// <summary>Let users other than the mounting one in (non-root needs user_allow_other in /etc/fuse.conf).</summary>
    public bool AllowOther { get; init; }

    /// <summary>The kernel checks permissions from the mode bits; without it the file system must (ACCESS and friends).</summary>
    public bool DefaultPermissions { get; init; }

    public bool ReadOnly { get; init; }

    public bool NoSuid { get; init; } = true;

    public bool NoDev { get; init; } = true;

    public bool NoExec { get; init; }

    public bool NoAtime { get; init; }

    /// <summary>max_read= mount option; null leaves READ sizes to max_pages.</summary>
    public uint? MaxRead { get; init; }

    public FuseMountMethod Method { get; init; } = FuseMountMethod.Auto;

    /// <summary>fusermount3 only: the helper stays alive and unmounts when this process dies.</summary>
    public bool AutoUnmount { get; init; }

    /// <summary>Unmount on SIGINT/SIGTERM/SIGQUIT (PosixSignalRegistration) instead of letting the process die mounted.</summary>
    public bool UnmountOnTerminationSignals { get; init; }
}
