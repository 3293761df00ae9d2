// SPDX-License-Identifier: MIT
using System.Text;
using Crfs.Fuse.Abi;
using Crfs.Posix;
using Crfs.Testing;

namespace Crfs.Fuse.Tests;

/// <summary>
/// Kernel cache notifications against a real mount: each one must visibly change what the kernel
/// serves, and none may deadlock against a request in flight.
/// </summary>
[Collection(MountCollection.Name)]
public sealed class FuseNotifierKernelTests
{
    private const ulong Root = IFuseFileSystem.RootId;

    // Long enough that nothing in a test expires on its own: only a notification can refresh it.
    private static readonly TimeSpan s_longTimeout = TimeSpan.FromMinutes(10);

    [SkippableFact]
    public async Task InvalidateInode_MakesTheKernelDropCachedPagesAndAttributes()
    {
        var fs = new MemoryFileSystem(s_longTimeout);
        ulong node = fs.AddFile(Root, "f", Encoding.ASCII.GetBytes("old-data"));

        // Explicit: a new mtime seen in GETATTR (which every read provokes, to refresh atime)
        // must not drop pages by itself; only the notification may.
        using TestMount mount = TestMount.Create(fs, new FuseOptions { DataInvalidation = FuseDataInvalidation.Explicit });
        Assert.Equal("old-data", Cat(mount, "f"));

        // Same size, new bytes, behind the kernel's back: the page cache still serves the old ones.
        fs.ReplaceContent(node, Encoding.ASCII.GetBytes("NEW-DATA"));
        Assert.Equal("old-data", Cat(mount, "f"));

        Assert.Equal(Errno.Ok, await mount.Server.Notifier.InvalidateInodeAsync(node, 0, 0).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("NEW-DATA", Cat(mount, "f"));

        // Attributes only (offset -1): a grown file shows its new size. The first stat refreshes
        // the atime the read invalidated; after it the attributes are fully cached.
        Assert.Equal("8", Stat(mount, "%s", "f"));
        fs.ReplaceContent(node, Encoding.ASCII.GetBytes("NEW-DATA-LONGER"));
        Assert.Equal("8", Stat(mount, "%s", "f"));
        Assert.Equal(Errno.Ok, await mount.Server.Notifier.InvalidateInodeAsync(node).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal("15", Stat(mount, "%s", "f"));
    }

    [SkippableFact]
    public async Task InvalidateEntry_MakesACachedNameDisappear()
    {
        var fs = new MemoryFileSystem(s_longTimeout);
        fs.AddFile(Root, "gone", [1]);
        fs.AddFile(Root, "expired", [1]);
        using TestMount mount = TestMount.Create(fs);
        Assert.Equal("1", Stat(mount, "%s", "gone"));
        Assert.Equal("1", Stat(mount, "%s", "expired"));

        fs.RemoveBehindKernel(Root, "gone");
        fs.RemoveBehindKernel(Root, "expired");
        Assert.Equal("1", Stat(mount, "%s", "gone"));

        Assert.Equal(Errno.Ok, await mount.Server.Notifier.InvalidateEntryAsync(Root, "gone"u8).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(Errno.Ok, await mount.Server.Notifier.InvalidateEntryAsync(Root, "expired"u8, expireOnly: true).WaitAsync(TimeSpan.FromSeconds(30)));

        ProcessResult r = mount.Bash("stat \"$M/gone\" 2>&1 || true; stat \"$M/expired\" 2>&1 || true");
        Assert.Equal(2, r.StdOut.Split("No such file or directory").Length - 1);

        // A name the kernel never cached: ENOENT, which callers treat as "nothing to do".
        Assert.Equal(Errno.ENOENT, await mount.Server.Notifier.InvalidateEntryAsync(Root, "never-seen"u8).WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [SkippableFact]
    public async Task Delete_OfACachedName_IsAcceptedByTheKernel()
    {
        var fs = new MemoryFileSystem(s_longTimeout);
        ulong node = fs.AddFile(Root, "victim", [1]);
        using TestMount mount = TestMount.Create(fs);
        Assert.Equal("1", Stat(mount, "%s", "victim"));
        fs.RemoveBehindKernel(Root, "victim");

        Assert.Equal(Errno.Ok, await mount.Server.Notifier.DeleteAsync(Root, node, "victim"u8).WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("No such file", mount.Bash("stat \"$M/victim\" 2>&1 || true").StdOut, StringComparison.Ordinal);
    }

    [SkippableFact]
    public async Task StoreThenRetrieve_RoundTripsThroughThePageCache()
    {
        var fs = new MemoryFileSystem(s_longTimeout);
        ulong node = fs.AddFile(Root, "f", new byte[8192]);
        using TestMount mount = TestMount.Create(fs);

        // Keep the inode alive in the kernel while we talk to its page cache.
        Assert.Equal("8192", Stat(mount, "%s", "f"));
        byte[] data = Encoding.ASCII.GetBytes(new string('s', 4096));
        Assert.Equal(Errno.Ok, await mount.Server.Notifier.StoreAsync(node, 0, data).WaitAsync(TimeSpan.FromSeconds(30)));

        // The kernel now serves the stored bytes without asking the daemon (which still has zeros).
        Assert.Equal(new string('s', 16), mount.Bash("head -c 16 \"$M/f\"").StdOut);

        FuseRetrieveResult back = await mount.Server.Notifier.RetrieveAsync(node, 0, 4096).WaitAsync(TimeSpan.FromSeconds(30));
        Assert.Equal(Errno.Ok, back.Error);
        Assert.Equal(data, back.Data);
    }

    [SkippableFact]
    public async Task IncrementEpochAndPrune_AreAcceptedByThisKernel()
    {
        var fs = new MemoryFileSystem(s_longTimeout);
        ulong node = fs.AddFile(Root, "f", [1]);
        using TestMount mount = TestMount.Create(fs);
        Assert.Equal("1", Stat(mount, "%s", "f"));
        Skip.If(mount.Server.Connection.KernelMinor < 45, "kernel older than 7.45");

        Assert.Equal(Errno.Ok, await mount.Server.Notifier.IncrementEpochAsync().WaitAsync(TimeSpan.FromSeconds(30)));
        Assert.Equal(Errno.Ok, await mount.Server.Notifier.PruneAsync([node]).WaitAsync(TimeSpan.FromSeconds(30)));
    }

    [SkippableFact]
    public async Task NotifyQueuedFromInsideAHandler_ForItsOwnDirectory_DoesNotDeadlock()
    {
        var fs = new MemoryFileSystem(s_longTimeout);
        var queued = new List<Task<Errno>>();
        using TestMount mount = TestMount.Create(fs);

        // Sent synchronously here this would block forever: the kernel holds the directory's
        // lock until CREATE is answered, and INVAL_ENTRY needs that lock.
        fs.OnCreate = (parent, name) =>
        {
            lock (queued)
            {
                queued.Add(mount.Server.Notifier.InvalidateEntryAsync(parent, Encoding.UTF8.GetBytes(name)));
            }
        };

        ProcessResult r = mount.Bash("for i in $(seq 1 20); do echo x > \"$M/f$i\"; done; ls \"$M\" | wc -l");

        Assert.True(r.ExitCode == 0, r.StdErr);
        Assert.Equal("20\n", r.StdOut);
        Errno[] results = await Task.WhenAll(queued).WaitAsync(TimeSpan.FromSeconds(60));
        Assert.All(results, e => Assert.True(e is Errno.Ok or Errno.ENOENT, e.ToString()));
    }

    [SkippableFact]
    public async Task NotifyWhileAHandlerIsBlocked_CompletesOnceItIsReleased_AndOtherRequestsStillFlow()
    {
        using var release = new ManualResetEventSlim();
        using var entered = new ManualResetEventSlim();
        var fs = new MemoryFileSystem(s_longTimeout)
        {
            OnLookup = name =>
            {
                if (name == "slow")
                {
                    entered.Set();
                    release.Wait(TimeSpan.FromMinutes(2));
                }
            },
        };
        ulong dir = fs.AddDirectory(Root, "d");
        fs.AddFile(dir, "cached", [1]);
        fs.AddFile(Root, "other", [1, 2]);
        using TestMount mount = TestMount.Create(fs);
        try
        {
            Assert.Equal("1", Stat(mount, "%s", "d/cached"));
            Task<ProcessResult> blocked = Task.Run(() => mount.Bash("stat -c %s \"$M/d/slow\" 2>&1 || true"));
            Assert.True(entered.Wait(TimeSpan.FromSeconds(30)));

            // The directory's lock is held by the blocked LOOKUP; this notification has to wait
            // for it, on the notifier thread, without stopping anything else.
            Task<Errno> notify = mount.Server.Notifier.InvalidateEntryAsync(dir, "cached"u8);

            // A free reader still serves other requests meanwhile.
            Assert.Equal("2", Stat(mount, "%s", "other"));
            Assert.True(mount.Server.ReaderCount >= 2);

            release.Set();
            Assert.Equal(Errno.Ok, await notify.WaitAsync(TimeSpan.FromSeconds(60)));
            ProcessResult r = await blocked.WaitAsync(TimeSpan.FromSeconds(60));
            Assert.Contains("No such file", r.StdOut, StringComparison.Ordinal);
        }
        finally
        {
            release.Set();
        }
    }

    private static string Cat(TestMount mount, string path)
    {
        ProcessResult r = mount.Bash($"cat \"$M/{path}\"");
        Assert.True(r.ExitCode == 0, r.StdErr);
        return r.StdOut;
    }

    private static string Stat(TestMount mount, string format, string path)
    {
        ProcessResult r = mount.Bash($"stat -c '{format}' \"$M/{path}\"");
        Assert.True(r.ExitCode == 0, r.StdErr);
        return r.StdOut.Trim();
    }
}
