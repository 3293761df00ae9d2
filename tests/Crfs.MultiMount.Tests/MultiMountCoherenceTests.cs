// SPDX-License-Identifier: MIT
using System.Text;
using Crfs.Testing;
using Microsoft.Win32.SafeHandles;

namespace Crfs.MultiMount.Tests;

/// <summary>
/// The coherence guarantee through real kernel mounts (issue #6): what one client's system call
/// returned, the next system call on any other client sees — although each kernel caches names,
/// attributes and pages for an hour while its client holds the covering lock. Client A is mount 0,
/// B mount 1; each test works in its own directory of the shared cluster. Every step runs after the
/// previous one returned, with no sleeps: "at once" means the very next call.
/// </summary>
public sealed class MultiMountCoherenceTests(MultiMountCluster cluster) : IClassFixture<MultiMountCluster>
{
    private const int A = 0;
    private const int B = 1;

    private string OnB(string relative) => Path.Combine(cluster.MountPoint(B), relative);

    private void SkipUnlessRunning() => Skip.If(cluster.SkipReason is not null, cluster.SkipReason);

    [SkippableFact]
    public void Write_OnA_ReadOnB_ReturnsTheNewBytesAtOnce()
    {
        SkipUnlessRunning();
        cluster.Run(A, "mkdir \"$1/write\"; echo v0 > \"$1/write/f\"");
        Assert.Equal("v0\n", cluster.Run(B, "cat \"$1/write/f\""));
        for (int i = 1; i <= 5; i++)
        {
            cluster.Run(A, $"echo v{i} > \"$1/write/f\"");
            Assert.Equal($"v{i}\n", cluster.Run(B, "cat \"$1/write/f\""));
        }
    }

    [SkippableFact]
    public void Write_OnA_ReadThroughAnFdOpenOnB_SeesTheNewBytesNotItsPageCache()
    {
        SkipUnlessRunning();
        cluster.Run(A, "mkdir \"$1/pages\"; printf 'old bytes' > \"$1/pages/f\"");
        using SafeFileHandle held = File.OpenHandle(OnB("pages/f"), FileMode.Open, FileAccess.Read);
        Assert.Equal("old bytes", ReadAll(held));

        cluster.Run(A, "printf 'NEW' | dd of=\"$1/pages/f\" bs=1 seek=4 conv=notrunc status=none");

        Assert.Equal("old NEWes", ReadAll(held));
    }

    [SkippableFact]
    public void Append_OnA_SizeOnB_GrowsAtOnce()
    {
        SkipUnlessRunning();
        cluster.Run(A, "mkdir \"$1/append\"; printf 12345 > \"$1/append/log\"");
        Assert.Equal("5\n", cluster.Run(B, "stat -c %s \"$1/append/log\""));
        for (int i = 1; i <= 3; i++)
        {
            cluster.Run(A, "printf abc >> \"$1/append/log\"");
            Assert.Equal($"{5 + (3 * i)}\n", cluster.Run(B, "stat -c %s \"$1/append/log\""));
        }

        Assert.Equal("12345abcabcabc", cluster.Run(B, "cat \"$1/append/log\""));
    }

    [SkippableFact]
    public void NamespaceChanges_OnA_LookupAndReaddirOnB_SeeThemAtOnce()
    {
        SkipUnlessRunning();
        cluster.Run(A, "mkdir \"$1/ns\"");
        // B caches the listing's names and negative entries for what A is about to create.
        Assert.Equal("", cluster.Run(B, "ls -A \"$1/ns\"; test ! -e \"$1/ns/file\"; test ! -e \"$1/ns/dir\""));

        cluster.Run(A, "echo x > \"$1/ns/file\"; mkdir \"$1/ns/dir\"");
        Assert.Equal("dir\nfile\n", cluster.Run(B, "test -f \"$1/ns/file\"; test -d \"$1/ns/dir\"; ls -A \"$1/ns\""));

        cluster.Run(A, "mv \"$1/ns/file\" \"$1/ns/moved\"; mv \"$1/ns/dir\" \"$1/ns/dir2\"");
        Assert.Equal("dir2\nmoved\n", cluster.Run(B, "test ! -e \"$1/ns/file\"; test ! -e \"$1/ns/dir\"; cat \"$1/ns/moved\" >/dev/null; ls -A \"$1/ns\""));

        cluster.Run(A, "rm \"$1/ns/moved\"; rmdir \"$1/ns/dir2\"");
        Assert.Equal("", cluster.Run(B, "test ! -e \"$1/ns/moved\"; test ! -e \"$1/ns/dir2\"; ls -A \"$1/ns\""));
    }

    [SkippableFact]
    public void Rename_OnAOverAFileOpenOnB_BsFdKeepsTheOldBytesAndTheNameShowsTheNew()
    {
        SkipUnlessRunning();
        cluster.Run(A, "mkdir \"$1/over\"; echo old > \"$1/over/target\"");
        using SafeFileHandle held = File.OpenHandle(OnB("over/target"), FileMode.Open, FileAccess.Read);
        Assert.Equal("old\n", ReadAll(held));

        cluster.Run(A, "echo new > \"$1/over/src\"; mv \"$1/over/src\" \"$1/over/target\"");

        Assert.Equal("new\n", cluster.Run(B, "cat \"$1/over/target\""));
        Assert.Equal("old\n", ReadAll(held));
    }

    [SkippableFact]
    public void Unlink_OnAOfAFileOpenOnB_BsFdStillReadsIt()
    {
        SkipUnlessRunning();
        cluster.Run(A, "mkdir \"$1/unlinked\"; echo still here > \"$1/unlinked/f\"");
        using SafeFileHandle held = File.OpenHandle(OnB("unlinked/f"), FileMode.Open, FileAccess.Read);
        Assert.Equal("still here\n", ReadAll(held));

        cluster.Run(A, "rm \"$1/unlinked/f\"");

        Assert.Equal("", cluster.Run(B, "test ! -e \"$1/unlinked/f\"; ls -A \"$1/unlinked\""));
        Assert.Equal("still here\n", ReadAll(held));
    }

    [SkippableFact]
    public void AttributeChanges_OnA_StatAndGetxattrOnB_SeeThemAtOnce()
    {
        SkipUnlessRunning();
        const string Stat = "stat -c '%a %u %g %Y' \"$1/attrs/f\"";
        cluster.Run(A, "mkdir \"$1/attrs\"; echo x > \"$1/attrs/f\"; chmod 644 \"$1/attrs/f\"; touch -m -d @1500000000 \"$1/attrs/f\"");
        Assert.Equal("644 0 0 1500000000\n", cluster.Run(B, Stat));
        Assert.NotEqual(0, cluster.Bash(B, "getfattr -n user.k --only-values \"$1/attrs/f\"").ExitCode);

        cluster.Run(A, "chmod 640 \"$1/attrs/f\"");
        Assert.Equal("640 0 0 1500000000\n", cluster.Run(B, Stat));
        cluster.Run(A, "chown 123:456 \"$1/attrs/f\"");
        Assert.Equal("640 123 456 1500000000\n", cluster.Run(B, Stat));
        cluster.Run(A, "touch -m -d @1000000000 \"$1/attrs/f\"");
        Assert.Equal("640 123 456 1000000000\n", cluster.Run(B, Stat));

        cluster.Run(A, "setfattr -n user.k -v v1 \"$1/attrs/f\"");
        Assert.Equal("v1", cluster.Run(B, "getfattr -n user.k --only-values \"$1/attrs/f\""));
        cluster.Run(A, "setfattr -n user.k -v v2 \"$1/attrs/f\"");
        Assert.Equal("v2", cluster.Run(B, "getfattr -n user.k --only-values \"$1/attrs/f\""));
        cluster.Run(A, "setfattr -x user.k \"$1/attrs/f\"");
        Assert.NotEqual(0, cluster.Bash(B, "getfattr -n user.k --only-values \"$1/attrs/f\"").ExitCode);
    }

    [SkippableFact]
    public async Task CurrentDirectory_OnB_SurvivesCreatesInItAndBesideItOnA()
    {
        SkipUnlessRunning();
        cluster.Run(A, "mkdir -p \"$1/cwdparent/cwd\"");
        string ready = Path.Combine(cluster.Scratch, "cwd.ready");
        string go = Path.Combine(cluster.Scratch, "cwd.go");

        // B's shell sits in the directory (its cwd pins the dentry) while A changes the directory and
        // its parent: the parent's revoke drops B's entry for the directory, which must only expire.
        Task<ProcessResult> b = cluster.BashAsync(B, $"""
            cd "$1/cwdparent/cwd"
            ls -A
            touch "{ready}"
            for _ in $(seq 1 600); do [ -e "{go}" ] && break; sleep 0.05; done
            readlink /proc/self/cwd
            ls -A
            """);
        for (int i = 0; i < 600 && !File.Exists(ready) && !b.IsCompleted; i++)
        {
            await Task.Delay(50);
        }

        Assert.True(File.Exists(ready), "B's shell never got into the directory");
        cluster.Run(A, "echo x > \"$1/cwdparent/cwd/new\"; echo y > \"$1/cwdparent/sibling\"");
        await File.WriteAllTextAsync(go, "");

        ProcessResult r = await b;
        Assert.True(r.ExitCode == 0, $"B's shell failed ({r.ExitCode}):\n{r.StdOut}\n{r.StdErr}");
        Assert.Equal($"{cluster.MountPoint(B)}/cwdparent/cwd\nnew\n", r.StdOut);
        Assert.Equal("cwd\nsibling\n", cluster.Run(B, "ls -A \"$1/cwdparent\""));
    }

    [SkippableFact]
    public async Task RemoveTree_OnAWhileBListsIt_BSeesOnlyVanishingEntriesAndBothEndEmpty()
    {
        SkipUnlessRunning();
        cluster.Run(A, """
            mkdir "$1/rmrf"
            for d in $(seq 1 10); do
              mkdir "$1/rmrf/tree/d$d" -p
              for f in $(seq 1 10); do echo "$d $f" > "$1/rmrf/tree/d$d/f$f"; done
            done
            """);
        Assert.Equal("110\n", cluster.Run(B, "find \"$1/rmrf/tree\" -mindepth 1 | wc -l"));

        Task<ProcessResult> lister = cluster.BashAsync(B, """
            set +e
            n=0
            while [ -e "$1/rmrf/tree" ] && [ $n -lt 400 ]; do
              find "$1/rmrf/tree" >/dev/null 2>>"$2/rmrf.err"
              ls -lR "$1/rmrf/tree" >/dev/null 2>>"$2/rmrf.err"
              n=$((n + 1))
            done
            echo "$n"
            """);
        cluster.Run(A, "rm -rf \"$1/rmrf/tree\"");
        ProcessResult listed = await lister;

        Assert.Equal(0, listed.ExitCode);
        string errors = File.Exists(Path.Combine(cluster.Scratch, "rmrf.err")) ? await File.ReadAllTextAsync(Path.Combine(cluster.Scratch, "rmrf.err")) : "";
        string[] unexpected = [.. errors.Split('\n', StringSplitOptions.RemoveEmptyEntries).Where(l => !l.Contains("No such file or directory", StringComparison.Ordinal))];
        Assert.True(unexpected.Length == 0, "B saw errors other than vanishing entries:\n" + string.Join('\n', unexpected));
        Assert.Equal("", cluster.Run(A, "ls -A \"$1/rmrf\""));
        Assert.Equal("", cluster.Run(B, "test ! -e \"$1/rmrf/tree\"; ls -A \"$1/rmrf\""));
    }

    private static string ReadAll(SafeFileHandle handle)
    {
        byte[] buffer = new byte[4096];
        int n = RandomAccess.Read(handle, buffer, 0);
        return Encoding.UTF8.GetString(buffer, 0, n);
    }
}
