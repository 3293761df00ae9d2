// SPDX-License-Identifier: MIT
using System.Security.Cryptography;
using Crfs.Fuse.Abi;
using Crfs.Testing;

namespace Crfs.Fuse.Tests;

/// <summary>
/// The library against the real kernel: <see cref="MemoryFileSystem"/> mounted over /dev/fuse and
/// exercised by ordinary tools in child processes.
/// </summary>
[Collection(MountCollection.Name)]
public sealed class FuseServerTests
{
    private const string EnableUring = "/sys/module/fuse/parameters/enable_uring";

    [SkippableFact]
    public void CreateWriteReadList_WorksFromAnotherProcess()
    {
        using TestMount mount = TestMount.Create(new MemoryFileSystem());

        ProcessResult r = mount.Bash("""
            echo hello > "$M/a.txt"
            mkdir "$M/d"
            echo world >> "$M/a.txt"
            cat "$M/a.txt"
            ls "$M"
            stat -c '%F %s %h' "$M/a.txt" "$M/d"
            """);

        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Equal("hello\nworld\na.txt\nd\nregular file 12 1\ndirectory 4096 2\n", r.StdOut);
        Assert.True(mount.Server.Counters[FuseOpcode.Create] >= 1);
        Assert.Equal(0, mount.Server.Counters.HandlerExceptions);
    }

    [SkippableFact]
    public void RenameLinkSymlinkAndUnlinkWhileOpen_BehaveLikeALocalFileSystem()
    {
        var fs = new MemoryFileSystem();
        using TestMount mount = TestMount.Create(fs);

        ProcessResult r = mount.Bash("""
            cd "$M"
            printf 'content' > f
            mkdir -p a/b
            mv f a/b/g
            ln a/b/g hard
            ln -s a/b/g soft
            stat -c '%h' hard
            readlink soft
            cat soft; echo
            exec 3< a/b/g
            rm a/b/g hard
            test ! -e a/b/g
            cat <&3; echo
            exec 3<&-
            mv a c
            ls c
            rmdir c/b
            rmdir c
            mkfifo p
            stat -c '%F' p
            python3 -c 'import os; os.rename("soft", "p")'
            ls
            """);

        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Equal("2\na/b/g\ncontent\ncontent\nb\nfifo\np\n", r.StdOut);
    }

    [SkippableFact]
    public void TmpFile_WrittenThenLinked_AppearsWithItsContent()
    {
        using TestMount mount = TestMount.Create(new MemoryFileSystem());

        ProcessResult r = mount.Python("""
            import os
            fd = os.open(M, os.O_TMPFILE | os.O_RDWR, 0o644)
            os.write(fd, b"anonymous")
            print(len(os.listdir(M)))
            import ctypes
            libc = ctypes.CDLL(None, use_errno=True)
            # linkat(fd, "", AT_FDCWD, path, AT_EMPTY_PATH): give the unnamed file a name.
            if libc.linkat(fd, b"", -100, os.path.join(M, "named").encode(), 0x1000) != 0:
                raise OSError(ctypes.get_errno(), "linkat")
            os.close(fd)
            print(open(os.path.join(M, "named")).read(), os.stat(os.path.join(M, "named")).st_nlink)
            """);

        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Equal("0\nanonymous 1\n", r.StdOut);
        Assert.Equal(1, mount.Server.Counters[FuseOpcode.TmpFile]);
    }

    [SkippableFact]
    public void RenameNoReplaceAndExchange_ReachTheFileSystem()
    {
        using TestMount mount = TestMount.Create(new MemoryFileSystem());

        ProcessResult r = mount.Python("""
            import ctypes, os
            libc = ctypes.CDLL(None, use_errno=True)
            def rename2(a, b, flags):
                rc = libc.renameat2(-100, os.path.join(M, a).encode(), -100, os.path.join(M, b).encode(), flags)
                return 0 if rc == 0 else ctypes.get_errno()
            open(os.path.join(M, "x"), "w").write("X")
            open(os.path.join(M, "y"), "w").write("Y")
            print(rename2("x", "y", 1))
            print(rename2("x", "y", 2))
            print(open(os.path.join(M, "x")).read(), open(os.path.join(M, "y")).read())
            """);

        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Equal("17\n0\nY X\n", r.StdOut);
    }

    [SkippableFact]
    public void Xattrs_SetGetListRemove_WithAttrTools()
    {
        Skip.IfNot(ProcessRunner.CommandExists("setfattr"), "needs the attr package");
        using TestMount mount = TestMount.Create(new MemoryFileSystem());

        ProcessResult r = mount.Bash("""
            touch "$M/f"
            setfattr -n user.color -v blue "$M/f"
            setfattr -n user.size -v 42 "$M/f"
            getfattr --absolute-names --only-values -n user.color "$M/f"; echo
            getfattr -d --absolute-names "$M/f" | grep -c '^user\.'
            setfattr -x user.color "$M/f"
            { getfattr --absolute-names -n user.color "$M/f" 2>&1 || true; } | grep -c 'No such attribute'
            """);

        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Equal("blue\n2\n1\n", r.StdOut);
    }

    [SkippableFact]
    public void FlockAndFcntlLocks_ConflictAcrossProcesses_AndABlockedWaitIsInterruptible() => LocksScenario(new FuseOptions());

    [SkippableFact]
    public void FlockAndFcntlLocks_OverIoUring_AreInterruptibleToo()
    {
        Skip.IfNot(File.Exists(EnableUring) && File.ReadAllText(EnableUring).Trim() == "Y", $"{EnableUring} is not Y");
        LocksScenario(new FuseOptions { Transport = FuseTransportKind.IoUring });
    }

    private static void LocksScenario(FuseOptions options)
    {
        using TestMount mount = TestMount.Create(new MemoryFileSystem(), options);

        ProcessResult r = mount.Bash("""
            touch "$M/lock"
            # flock(1): a held exclusive lock makes a non-blocking attempt fail (exit 1).
            flock -x "$M/lock" -c "flock -xn '$M/lock' -c true; echo inner=\$?"
            flock -xn "$M/lock" -c 'echo free'
            python3 - "$M/lock" <<'PY'
            import fcntl, os, signal, sys, errno
            path = sys.argv[1]
            fd = os.open(path, os.O_RDWR)
            fcntl.lockf(fd, fcntl.LOCK_EX, 10, 0)
            pid = os.fork()
            if pid == 0:
                fd2 = os.open(path, os.O_RDWR)
                try:
                    fcntl.lockf(fd2, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 0)
                    print("child locked?!")
                except OSError as e:
                    print("nb", errno.errorcode[e.errno])
                print("range-free", fcntl.lockf(fd2, fcntl.LOCK_EX | fcntl.LOCK_NB, 10, 20) is None)
                def interrupted(*args):
                    raise TimeoutError()
                signal.signal(signal.SIGALRM, interrupted)
                signal.alarm(1)
                try:
                    fcntl.lockf(fd2, fcntl.LOCK_EX, 10, 0)
                    print("waited?!")
                except TimeoutError:
                    print("wait interrupted")
                os._exit(0)
            os.waitpid(pid, 0)
            PY
            """);

        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Equal("inner=1\nfree\nnb EAGAIN\nrange-free True\nwait interrupted\n", r.StdOut);
        Assert.True(mount.Server.Counters.Interrupts >= 1);
    }

    [SkippableFact]
    public void ReadDir_OfAHundredThousandEntries_ListsThemAll()
    {
        var fs = new MemoryFileSystem();
        ulong dir = fs.AddDirectory(IFuseFileSystem.RootId, "big");
        for (int i = 0; i < 100_000; i++)
        {
            fs.AddFile(dir, $"entry-{i:D6}", []);
        }

        using TestMount mount = TestMount.Create(fs);

        ProcessResult r = mount.Bash("""
            ls -f "$M/big" | wc -l
            ls -f "$M/big" | sort | sed -n '1p;$p'
            python3 -c "import os,sys; print(sum(1 for e in os.scandir(sys.argv[1]) if e.is_file()))" "$M/big"
            stat -c %s "$M/big/entry-099999"
            """);

        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Equal("100000\nentry-000000\nentry-099999\n100000\n0\n", r.StdOut);
        Assert.True(mount.Server.Counters[FuseOpcode.ReadDirPlus] + mount.Server.Counters[FuseOpcode.ReadDir] > 10);
    }

    [SkippableFact]
    public void OneGibibyteFile_WrittenAndReadBackDirect_HasTheSameChecksum()
    {
        var fs = new MemoryFileSystem();
        using TestMount mount = TestMount.Create(fs);

        ProcessResult r = mount.Bash("""
            T=$(mktemp -d)
            trap 'rm -rf "$T"' EXIT
            mkfifo "$T/p"
            sha256sum < "$T/p" | cut -d' ' -f1 > "$T/sum" &
            head -c 1073741824 /dev/urandom | tee "$T/p" | dd of="$M/big" bs=1M iflag=fullblock status=none
            wait
            cat "$T/sum"
            stat -c %s "$M/big"
            dd if="$M/big" iflag=direct bs=1M status=none | sha256sum | cut -d' ' -f1
            """, TimeSpan.FromMinutes(5));

        Assert.True(r.ExitCode == 0, r.StdErr);
        string[] lines = r.StdOut.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Equal("1073741824", lines[1]);
        Assert.Equal(lines[0], lines[2]);

        // And what the daemon holds is what was written.
        ulong node = fs.Find(IFuseFileSystem.RootId, "big")!.Value;
        Assert.Equal(lines[0], Convert.ToHexStringLower(SHA256.HashData(new MemoryFileStream(fs, node))));
        Assert.True(mount.Server.Counters[FuseOpcode.Write] < 4096, $"{mount.Server.Counters[FuseOpcode.Write]} WRITEs for 1 GiB: large writes not negotiated");
    }

    [SkippableFact]
    public void IoUringTransport_CarriesRequestsWhenTheKernelOffersIt()
    {
        Skip.IfNot(File.Exists(EnableUring) && File.ReadAllText(EnableUring).Trim() == "Y", $"{EnableUring} is not Y");
        var fs = new MemoryFileSystem();
        using TestMount mount = TestMount.Create(fs, new FuseOptions { Transport = FuseTransportKind.IoUring });

        ProcessResult r = mount.Bash("""
            for i in $(seq 1 100); do echo "line $i" > "$M/f$i"; done
            cat "$M/f1" "$M/f100"
            head -c 3000000 /dev/zero | tr '\0' 'z' > "$M/big"
            stat -c %s "$M/big"
            tr -d z < "$M/big" | wc -c
            rm "$M"/f*
            ls "$M"
            """);

        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Equal("line 1\nline 100\n3000000\n0\nbig\n", r.StdOut);
        Assert.StartsWith("io_uring", mount.Server.TransportName, StringComparison.Ordinal);
        Assert.True(mount.Server.Counters.RingRequests > 300, $"only {mount.Server.Counters.RingRequests} requests came through the rings");
    }

    [SkippableFact]
    public void IoUringRequested_WithoutKernelSupport_FallsBackToDevFuse()
    {
        Skip.If(File.Exists(EnableUring) && File.ReadAllText(EnableUring).Trim() == "Y", "the kernel offers io_uring here");
        using TestMount mount = TestMount.Create(new MemoryFileSystem(), new FuseOptions { Transport = FuseTransportKind.IoUring });

        ProcessResult r = mount.Bash("echo ok > \"$M/f\"; cat \"$M/f\"");

        Assert.Equal("ok\n", r.StdOut);
        Assert.Equal("/dev/fuse", mount.Server.TransportName);
        Assert.Equal(0, mount.Server.Counters.RingRequests);
    }

    [SkippableFact]
    public void FusermountPath_MountsAndUnmounts()
    {
        Skip.IfNot(ProcessRunner.CommandExists("fusermount3"), "needs fusermount3");
        var mountOptions = new FuseMountOptions { Method = FuseMountMethod.Fusermount, FsName = "crfs-fm", Subtype = "crfstest" };
        using TestMount mount = TestMount.Create(new MemoryFileSystem(), mountOptions: mountOptions);

        ProcessResult r = mount.Bash("""
            echo via-fusermount > "$M/f"; cat "$M/f"
            grep " $M " /proc/mounts | cut -d' ' -f1,3
            """);

        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Equal("via-fusermount\ncrfs-fm fuse.crfstest\n", r.StdOut);
    }

    [SkippableFact]
    public void ExternalUnmount_EndsTheConnection_AndDestroysTheFileSystem()
    {
        var fs = new MemoryFileSystem();
        using TestMount mount = TestMount.Create(fs);
        Assert.True(FuseMount.IsMounted(mount.Path));

        FuseMount.Unmount(mount.Path);

        Assert.True(mount.Server.Completion.Wait(TimeSpan.FromSeconds(30)), "connection did not end after umount");
        Assert.False(FuseMount.IsMounted(mount.Path));
        Assert.Equal(1, fs.Destroyed);
    }

    [SkippableFact]
    public void Unmount_WhileAFileIsOpen_IsBusy_AndLazyDetachesUntilItCloses()
    {
        Skip.IfNot(Capabilities.IsRoot, "umount2 flags need root");
        var fs = new MemoryFileSystem();
        fs.AddFile(IFuseFileSystem.RootId, "held", [1, 2, 3]);
        using TestMount mount = TestMount.Create(fs);
        var psi = new System.Diagnostics.ProcessStartInfo("/bin/bash", ["-c", $"exec 3< '{mount.Path}/held'; echo ready; read -r line"])
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            WorkingDirectory = "/",
        };
        using var holder = System.Diagnostics.Process.Start(psi)!;
        try
        {
            Assert.Equal("ready", holder.StandardOutput.ReadLine());

            IOException busy = Assert.Throws<IOException>(() => FuseMount.Unmount(mount.Path));
            Assert.Contains("EBUSY", busy.Message, StringComparison.Ordinal);

            FuseMount.Unmount(mount.Path, FuseUnmountFlags.Lazy);
            Assert.False(FuseMount.IsMounted(mount.Path));

            // The open file keeps the connection alive; closing it ends it.
            holder.StandardInput.WriteLine("done");
            Assert.True(holder.WaitForExit(30_000));
            Assert.True(mount.Server.Completion.Wait(TimeSpan.FromSeconds(30)), "connection did not end after the last file closed");
        }
        finally
        {
            if (!holder.HasExited)
            {
                holder.Kill();
            }
        }
    }

    [SkippableFact]
    public void Abort_OfAHungDaemon_FailsTheStuckCaller()
    {
        Skip.IfNot(Capabilities.IsRoot, "fusectl abort needs root");
        using var release = new ManualResetEventSlim();
        using var entered = new ManualResetEventSlim();
        var fs = new MemoryFileSystem
        {
            OnLookup = name =>
            {
                if (name == "hang")
                {
                    entered.Set();
                    release.Wait(TimeSpan.FromMinutes(2));
                }
            },
        };
        using TestMount mount = TestMount.Create(fs);
        try
        {
            Task<ProcessResult> stuck = Task.Run(() => mount.Bash("stat \"$M/hang\" 2>&1 || true"));
            Assert.True(entered.Wait(TimeSpan.FromSeconds(30)));

            uint connection = FuseMount.Abort(mount.Path);

            Assert.Equal(mount.Server.ConnectionId, connection);
            Assert.True(stuck.Wait(TimeSpan.FromSeconds(30)), "the caller stayed stuck after abort");
            // ECONNABORTED for requests in flight (ABORT_ERROR is negotiated), ENOTCONN for later ones.
            Assert.Matches("Software caused connection abort|Transport endpoint is not connected", stuck.Result.StdOut);
            release.Set();
            Assert.True(mount.Server.Completion.Wait(TimeSpan.FromSeconds(30)));
        }
        finally
        {
            release.Set();
        }
    }

    [SkippableFact]
    public void DirectMount_ShowsFsNameTypeAndOptionsInProcMounts()
    {
        Skip.IfNot(Capabilities.IsRoot, "direct mount(2) needs root");
        var mountOptions = new FuseMountOptions { FsName = "crfs-direct", Subtype = "crfstest", AllowOther = true, DefaultPermissions = true, Method = FuseMountMethod.Kernel };
        using TestMount mount = TestMount.Create(new MemoryFileSystem(), mountOptions: mountOptions);

        ProcessResult r = mount.Bash("grep \" $M \" /proc/mounts");

        Assert.True(r.ExitCode == 0, r.StdErr);
        string[] fields = r.StdOut.Trim().Split(' ');
        Assert.Equal("crfs-direct", fields[0]);
        Assert.Equal("fuse.crfstest", fields[2]);
        Assert.Contains("nosuid", fields[3], StringComparison.Ordinal);
        Assert.Contains("default_permissions", fields[3], StringComparison.Ordinal);
        Assert.Contains("allow_other", fields[3], StringComparison.Ordinal);
    }
}
