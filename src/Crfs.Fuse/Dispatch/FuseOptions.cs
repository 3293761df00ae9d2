// SPDX-License-Identifier: MIT
namespace Crfs.Fuse;

/// <summary>How the kernel should treat cached file pages when attributes change.</summary>
public enum FuseDataInvalidation
{
    /// <summary>Neither flag: only a size change seen in an attribute reply drops pages.</summary>
    None,

    /// <summary>AUTO_INVAL_DATA: a changed mtime or size in any attribute reply drops the pages (libfuse's default).</summary>
    Auto,

    /// <summary>EXPLICIT_INVAL_DATA: pages go only on NOTIFY_INVAL_INODE; for file systems whose server sends revocations.</summary>
    Explicit,
}

/// <summary>When the kernel should use READDIRPLUS (if the file system implements it).</summary>
public enum FuseReadDirPlusMode
{
    /// <summary>Never negotiate DO_READDIRPLUS.</summary>
    Off,

    /// <summary>DO_READDIRPLUS + READDIRPLUS_AUTO: plus for the first read and when lookups follow the listing.</summary>
    Auto,

    /// <summary>DO_READDIRPLUS only: every directory read is a READDIRPLUS.</summary>
    Always,
}

/// <summary>How requests travel between the kernel and the readers.</summary>
public enum FuseTransportKind
{
    /// <summary>read(2)/write(2) on /dev/fuse by a pool of reader threads.</summary>
    DevFuse,

    /// <summary>
    /// FUSE-over-io_uring when the kernel offers it (root must first set
    /// /sys/module/fuse/parameters/enable_uring to Y); /dev/fuse otherwise.
    /// </summary>
    IoUring,
}

/// <summary>
/// Protocol and session settings: what INIT asks for and how many readers serve. Defaults are the
/// safe and fast choices; options that change file-system semantics (the file system must then
/// do more) are off until the file system opts in. See docs/fuse.md for the measurements behind
/// each default.
/// </summary>
public sealed record FuseOptions
{
    /// <summary>Largest READ/WRITE payload. The kernel caps it at max_pages_limit (256 pages = 1 MiB by default).</summary>
    public int MaxWrite { get; init; } = 1 << 20;

    /// <summary>Readahead window; the kernel's own offer (128 KiB) caps it.</summary>
    public int MaxReadahead { get; init; } = 1 << 20;

    /// <summary>Asynchronous requests (readahead, writeback, RELEASE) the kernel keeps in flight (kernel default 12).</summary>
    public ushort MaxBackground { get; init; } = 64;

    /// <summary>Where the kernel starts throttling background requests; about 3/4 of <see cref="MaxBackground"/>.</summary>
    public ushort CongestionThreshold { get; init; } = 48;

    /// <summary>Reader threads started with the mount. At least 2, so one always waits in read(2).</summary>
    public int MinReaders { get; init; } = 2;

    /// <summary>
    /// The pool grows, one thread at a time, whenever a reader takes a request and no other is
    /// left waiting (handlers may block), up to this many.
    /// </summary>
    public int MaxReaders { get; init; } = 16;

    /// <summary>ASYNC_READ: several READs per handle in flight (parallel readahead).</summary>
    public bool AsyncRead { get; init; } = true;

    /// <summary>PARALLEL_DIROPS: LOOKUP and READDIR of one directory are not serialized by the kernel.</summary>
    public bool ParallelDirOps { get; init; } = true;

    public FuseReadDirPlusMode ReadDirPlus { get; init; } = FuseReadDirPlusMode.Auto;

    /// <summary>ATOMIC_O_TRUNC: OPEN carries O_TRUNC and the file system truncates (saves a SETATTR). Opt-in.</summary>
    public bool AtomicOTrunc { get; init; }

    /// <summary>
    /// HANDLE_KILLPRIV_V2: the file system promises to clear set-uid/set-gid on WRITE, truncate and
    /// chown when asked (the flags say when). The kernel then stops sending GETXATTR
    /// security.capability before writes (measured: −18 % of untar requests). Opt-in.
    /// </summary>
    public bool HandleKillPrivV2 { get; init; }

    /// <summary>
    /// WRITEBACK_CACHE: the kernel buffers writes and owns size/mtime of cached files — it then
    /// ignores the file system's size even after an invalidation. Only for single-writer setups.
    /// </summary>
    public bool WritebackCache { get; init; }

    public FuseDataInvalidation DataInvalidation { get; init; } = FuseDataInvalidation.Auto;

    /// <summary>CACHE_SYMLINKS: READLINK results live in the page cache (symlinks are immutable).</summary>
    public bool CacheSymlinks { get; init; } = true;

    /// <summary>DONT_MASK: the kernel does not apply the umask; the file system gets it in create/mkdir/mknod.</summary>
    public bool DontMask { get; init; }

    /// <summary>POSIX_ACL: the kernel enforces ACLs stored in system.posix_acl_* xattrs.</summary>
    public bool PosixAcl { get; init; }

    /// <summary>EXPORT_SUPPORT: lookups of "." and ".." may arrive (NFS re-export); node ids must then be stable.</summary>
    public bool ExportSupport { get; init; }

    /// <summary>DIRECT_IO_ALLOW_MMAP: shared mmap of files opened with DirectIo.</summary>
    public bool DirectIoAllowMmap { get; init; }

    /// <summary>
    /// Answer INTERRUPT requests (cancel the target's token). Off: the first INTERRUPT is answered
    /// ENOSYS and the kernel sends no more.
    /// </summary>
    public bool Interrupts { get; init; } = true;

    /// <summary>Timestamp granularity in nanoseconds reported in INIT (1 = full nanoseconds).</summary>
    public uint TimeGranularity { get; init; } = 1;

    public FuseTransportKind Transport { get; init; } = FuseTransportKind.DevFuse;

    /// <summary>io_uring: entries per queue (one queue per CPU).</summary>
    public int IoUringQueueDepth { get; init; } = 8;

    internal void Validate()
    {
        if (MaxWrite < 4096 || MaxWrite > (1 << 24) || MaxWrite % 4096 != 0)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxWrite), MaxWrite, "MaxWrite must be a multiple of 4096 in [4 KiB, 16 MiB]");
        }

        if (MinReaders < 1 || MaxReaders < MinReaders)
        {
            throw new ArgumentOutOfRangeException(nameof(MaxReaders), MaxReaders, $"need 1 <= MinReaders ({MinReaders}) <= MaxReaders");
        }

        if (IoUringQueueDepth < 1 || IoUringQueueDepth > 1024)
        {
            throw new ArgumentOutOfRangeException(nameof(IoUringQueueDepth), IoUringQueueDepth, "queue depth must be in [1, 1024]");
        }
    }
}
