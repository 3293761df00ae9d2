// SPDX-License-Identifier: MIT
using System.Globalization;
using Crfs.Testing;
using Errno = Crfs.Posix.Errno;

namespace Crfs.Mount.Tests.Posix;

/// <summary>
/// Runs one perl snippet as another user: <c>setpriv --reuid --regid</c> with exactly the given
/// supplementary groups (none by default), so the kernel sends FUSE requests with those ids and the
/// process holds no capabilities. perl-base is part of every Debian system; in a snippet
/// <c>$!+0</c> is the errno and <c>@ARGV</c> holds the arguments.
/// </summary>
internal sealed record AsUser(uint Uid, uint Gid, params uint[] Groups)
{
    public static readonly AsUser Alice = new(1000, 1000);
    public static readonly AsUser Bob = new(1001, 1001);

    /// <summary>Runs <paramref name="script"/> (with Fcntl and POSIX imported) and returns what it printed.</summary>
    public string Run(string script, params string[] args)
    {
        string groups = Groups.Length == 0 ? "--clear-groups" : "--groups=" + string.Join(',', Groups);
        string[] argv =
        [
            $"--reuid={Uid}", $"--regid={Gid}", groups, "--",
            "perl", "-e", "use strict; use warnings; use Fcntl; use POSIX (); " + script, "--", .. args,
        ];
        ProcessResult r = ProcessRunner.Run("setpriv", argv, TimeSpan.FromSeconds(30));
        Assert.True(r.ExitCode == 0, $"perl as {Uid}:{Gid} exited {r.ExitCode}: {r.StdErr}");
        return r.StdOut;
    }

    /// <summary>Evaluates a perl expression that is true on success; returns Ok or the errno.</summary>
    public Errno Try(string expression, params string[] args) =>
        (Errno)int.Parse(Run($"print(({expression}) ? 0 : ($! + 0));", args).Trim(), CultureInfo.InvariantCulture);

    /// <summary>Opens <paramref name="path"/> for appending and writes <paramref name="text"/>; Ok or the first errno.</summary>
    public Errno Append(string path, string text) =>
        (Errno)int.Parse(
            Run("open(my $f, '>>', $ARGV[0]) or do { print $! + 0; exit }; print {$f} $ARGV[1]; close($f) or do { print $! + 0; exit }; print 0;", path, text).Trim(),
            CultureInfo.InvariantCulture);

    public Errno Open(string path, string mode) => Try($"open(my $f, '{mode}', $ARGV[0])", path);

    public Errno Unlink(string path) => Try("unlink($ARGV[0])", path);

    public Errno Access(string path, int mode) => Try($"POSIX::access($ARGV[0], {mode})", path);
}
