// SPDX-License-Identifier: MIT
using System.Globalization;
using System.Runtime.InteropServices;
using Crfs.Testing;
using Errno = Crfs.Posix.Errno;

namespace Crfs.Mount.Tests.Posix;

/// <summary>
/// Permission checks through a real mount, by callers that are not root: the probes run as other
/// uids (<see cref="AsUser"/>), so the kernel forwards their ids and the file system alone decides.
/// Covers mode bits, access(2), sticky directories, set-id bits cleared on write and chown, and
/// supplementary groups.
/// </summary>
[Collection(PosixMount.Collection)]
public sealed class PosixPermissionTests(PosixMount mount)
{
    private static AsUser Alice => AsUser.Alice;
    private static AsUser Bob => AsUser.Bob;

    private string NewDirectory(uint mode = 0x1FF)
    {
        PosixMount.SkipUnlessMounted(mount);
        return mount.NewDirectory(mode);
    }

    private static string RootFile(string dir, string name, uint mode, uint uid = 0, uint gid = 0)
    {
        string f = Path.Combine(dir, name);
        Sys.WriteFile(f, "secret");
        Assert.Equal(Errno.Ok, Sys.Chown(f, uid, gid));
        Assert.Equal(Errno.Ok, Sys.Chmod(f, mode));
        return f;
    }

    [SkippableFact]
    public void ModeBits_DenyReadWriteAndSearch_WithEACCES()
    {
        string d = NewDirectory();
        string secret = RootFile(d, "secret", 0x180);
        string readable = RootFile(d, "readable", 0x1A4);
        string closed = Path.Combine(d, "closed");
        Assert.Equal(Errno.Ok, Sys.MkDir(closed, 0x1C0));
        Sys.WriteFile(Path.Combine(closed, "inside"), "x");
        string readOnlyDir = Path.Combine(d, "ro");
        Assert.Equal(Errno.Ok, Sys.MkDir(readOnlyDir, 0x1ED));

        Assert.Equal(Errno.EACCES, Alice.Open(secret, "<"));
        Assert.Equal(Errno.Ok, Alice.Open(readable, "<"));
        Assert.Equal(Errno.EACCES, Alice.Open(readable, "+<"));
        Assert.Equal(Errno.EACCES, Alice.Try("opendir(my $h, $ARGV[0])", closed));
        Assert.Equal(Errno.EACCES, Alice.Open(Path.Combine(readOnlyDir, "new"), ">"));
        Assert.Equal(Errno.EACCES, Alice.Try("mkdir($ARGV[0])", Path.Combine(readOnlyDir, "sub")));
        Assert.Equal(Errno.EACCES, Alice.Unlink(Path.Combine(closed, "inside")));
        Assert.Equal(Errno.EACCES, Alice.Try("truncate($ARGV[0], 0)", readable));
    }

    /// <summary>
    /// Search permission on a name the kernel has cached (root just created it): the file system
    /// sees no LOOKUP, so only the kernel can refuse, which the mount's default_permissions makes it do.
    /// </summary>
    [SkippableFact]
    public void SearchPermission_ThroughACachedName_IsEACCES()
    {
        string d = NewDirectory();
        string closed = Path.Combine(d, "closed");
        Assert.Equal(Errno.Ok, Sys.MkDir(closed, 0x1C0));
        Sys.WriteFile(Path.Combine(closed, "inside"), "x");

        Assert.Equal(Errno.EACCES, Alice.Try("stat($ARGV[0])", Path.Combine(closed, "inside")));
        Assert.Equal(Errno.EACCES, Alice.Open(Path.Combine(closed, "inside"), "<"));
    }

    /// <summary>
    /// exec(2) of a file only its owner may execute: the file system is sent nothing to refuse, so
    /// this too rests on the kernel's check under default_permissions.
    /// </summary>
    [SkippableFact]
    public void Exec_WithoutExecutePermissionForTheCaller_IsEACCES()
    {
        string d = NewDirectory();
        string script = Path.Combine(d, "script");
        Sys.WriteFile(script, "#!/bin/sh\necho executed\n");
        Assert.Equal(Errno.Ok, Sys.Chmod(script, 0x1E4)); // 0744

        // A successful exec replaces perl, and the script prints "executed" instead of an errno.
        Assert.Equal(((int)Errno.EACCES).ToString(CultureInfo.InvariantCulture), Alice.Run("exec($ARGV[0]); print $! + 0;", script).Trim());
    }

    [SkippableFact]
    public void SearchPermission_ForANameNotCached_IsEACCES()
    {
        string d = NewDirectory();
        string closed = Path.Combine(d, "closed");
        Assert.Equal(Errno.Ok, Sys.MkDir(closed, 0x1C0));

        Assert.Equal(Errno.EACCES, Alice.Try("stat($ARGV[0])", Path.Combine(closed, "never-looked-up")));
        Assert.Equal(Errno.EACCES, Alice.Open(Path.Combine(closed, "new"), ">"));
    }

    [SkippableFact]
    public void OpenTruncate_ByNonOwner_ClearsSetUid()
    {
        string d = NewDirectory();
        string f = RootFile(d, "f", LibC.Octal("4666"));

        Assert.Equal(Errno.Ok, Alice.Open(f, ">"));

        StatxResult st = Sys.Stat(f);
        Assert.Equal((0L, LibC.IFREG | LibC.Octal("0666")), (st.Size, st.Mode));
    }

    [SkippableFact]
    public void Chmod_ByNonOwnerThatOnlyDropsSetUid_IsStillEPERMWithoutWritePermission()
    {
        string d = NewDirectory();
        string f = RootFile(d, "f", LibC.Octal("4644"));

        Assert.Equal(Errno.EPERM, Alice.Try("chmod(0644, $ARGV[0])", f));
        Assert.Equal(LibC.IFREG | LibC.Octal("4644"), Sys.Stat(f).Mode);
    }

    [SkippableFact]
    public void Access_ChecksTheCallersPermissions()
    {
        string d = NewDirectory();
        string secret = RootFile(d, "secret", 0x180);
        string readable = RootFile(d, "readable", 0x1A4);
        string readOnly = RootFile(d, "readonly", 0x124);

        Assert.Equal(Errno.EACCES, Alice.Access(secret, Sys.R_OK));
        Assert.Equal(Errno.Ok, Alice.Access(secret, Sys.F_OK));
        Assert.Equal(Errno.Ok, Alice.Access(readable, Sys.R_OK));
        Assert.Equal(Errno.EACCES, Alice.Access(readable, Sys.W_OK));
        Assert.Equal(Errno.EACCES, Alice.Access(readable, Sys.X_OK));
        Assert.Equal(Errno.Ok, Alice.Access(d, Sys.R_OK | Sys.W_OK | Sys.X_OK));

        // Root reads and writes anything but executes only what has some x bit.
        Assert.Equal(Errno.Ok, Sys.Access(readOnly, Sys.W_OK));
        Assert.Equal(Errno.EACCES, Sys.Access(readOnly, Sys.X_OK));
        Assert.Equal(Errno.Ok, Sys.Access(d, Sys.X_OK));
    }

    [SkippableFact]
    public void SupplementaryGroups_GrantGroupPermissions()
    {
        string d = NewDirectory();
        string shared = RootFile(d, "shared", 0x1A0, uid: 0, gid: 2000);

        Assert.Equal(Errno.EACCES, Alice.Open(shared, "<"));
        Assert.Equal(Errno.Ok, (Alice with { Groups = [3000, 2000] }).Open(shared, "<"));
        Assert.Equal(Errno.Ok, (Alice with { Groups = [2000] }).Access(shared, Sys.R_OK));
        Assert.Equal(Errno.EACCES, (Alice with { Groups = [2000] }).Access(shared, Sys.W_OK));
    }

    [SkippableFact]
    public void SupplementaryGroups_GrantWriteOnAGroupDirectory()
    {
        string d = NewDirectory();
        string team = Path.Combine(d, "team");
        Assert.Equal(Errno.Ok, Sys.MkDir(team, 0x1F8));
        Assert.Equal(Errno.Ok, Sys.Chown(team, 0, 2000));
        Assert.Equal(Errno.Ok, Sys.Chmod(team, 0x1F8)); // 0770

        Assert.Equal(Errno.EACCES, Alice.Open(Path.Combine(team, "no"), ">"));
        Assert.Equal(Errno.Ok, (Alice with { Groups = [2000] }).Open(Path.Combine(team, "yes"), ">"));
        Assert.Equal(Errno.Ok, (Alice with { Groups = [2000] }).Try("chdir($ARGV[0])", team));
        Assert.Equal(Errno.EACCES, Alice.Try("chdir($ARGV[0])", team));
    }

    [SkippableFact]
    public void SetGidDirectory_PassesItsGroupToFilesAndItsSetGidToSubdirectories()
    {
        string d = NewDirectory();
        string shared = Path.Combine(d, "shared");
        Assert.Equal(Errno.Ok, Sys.MkDir(shared));
        Assert.Equal(Errno.Ok, Sys.Chown(shared, 0, 2000));
        Assert.Equal(Errno.Ok, Sys.Chmod(shared, LibC.Octal("2777")));

        Assert.Equal(Errno.Ok, Alice.Open(Path.Combine(shared, "f"), ">"));
        Assert.Equal(Errno.Ok, Alice.Try("mkdir($ARGV[0], 0755)", Path.Combine(shared, "sub")));

        StatxResult f = Sys.Stat(Path.Combine(shared, "f"));
        StatxResult sub = Sys.Stat(Path.Combine(shared, "sub"));
        Assert.Equal((1000u, 2000u), (f.Uid, f.Gid));
        Assert.Equal((2000u, LibC.IFDIR | LibC.Octal("2755")), (sub.Gid, sub.Mode));
    }

    [SkippableFact]
    public void NamespaceChanges_InADirectoryWithoutWritePermission_AreEACCES()
    {
        string d = NewDirectory();
        string locked = Path.Combine(d, "locked");
        Assert.Equal(Errno.Ok, Sys.MkDir(locked, 0x1ED));
        Sys.WriteFile(Path.Combine(locked, "f"), "x", 0x1B6);
        Assert.Equal(Errno.Ok, Sys.Chmod(Path.Combine(locked, "f"), 0x1B6));
        Assert.Equal(Errno.Ok, Sys.MkDir(Path.Combine(locked, "sub")));

        Assert.Equal(Errno.EACCES, Alice.Try("rename($ARGV[0], $ARGV[1])", Path.Combine(locked, "f"), Path.Combine(locked, "g")));
        Assert.Equal(Errno.EACCES, Alice.Try("rename($ARGV[0], $ARGV[1])", Path.Combine(locked, "f"), Path.Combine(d, "g")));
        Assert.Equal(Errno.EACCES, Alice.Try("link($ARGV[0], $ARGV[1])", Path.Combine(d, "..", Path.GetFileName(d), "locked", "f"), Path.Combine(locked, "h")));
        Assert.Equal(Errno.EACCES, Alice.Try("rmdir($ARGV[0])", Path.Combine(locked, "sub")));
        Assert.Equal(Errno.EACCES, Alice.Try("symlink('x', $ARGV[0])", Path.Combine(locked, "l")));
        Assert.Equal(Errno.Ok, Alice.Open(Path.Combine(locked, "f"), "+<"));
    }

    [SkippableFact]
    public void Xattrs_NamespaceRulesForOtherUsers()
    {
        string d = NewDirectory();
        string mine = RootFile(d, "mine", 0x1A4);
        string open = RootFile(d, "open", 0x1B6);

        // perl has no xattr calls: raw setxattr(2) / listxattr(2) by number.
        bool arm = RuntimeInformation.OSArchitecture == Architecture.Arm64;
        string set = $"do {{ my $v = 'v'; syscall({(arm ? 5 : 188)}, $ARGV[0], $ARGV[1], $v, 1, 0) == 0 }}";
        string list = $"my $b = \"\\0\" x 1024; my $n = syscall({(arm ? 11 : 194)}, $ARGV[0], $b, 1024); print join(',', grep {{ length }} split(/\\0/, substr($b, 0, $n)));";
        Assert.Equal(Errno.Ok, Sys.SetXattr(mine, "user.k", "v", 0));
        Assert.Equal(Errno.Ok, Sys.SetXattr(mine, "trusted.k", "v", 0));
        Assert.Equal(Errno.EACCES, Alice.Try(set, mine, "user.x"));
        Assert.Equal(Errno.Ok, Alice.Try(set, open, "user.x"));
        Assert.Equal(Errno.EPERM, Alice.Try(set, open, "trusted.x"));
        Assert.Equal("user.k", Alice.Run(list, mine));
    }

    [SkippableFact]
    public void OwnerOnlyChanges_ByOthers_AreEPERM()
    {
        string d = NewDirectory();
        string f = RootFile(d, "f", 0x1B6);

        Assert.Equal(Errno.EPERM, Alice.Try("chmod(0777, $ARGV[0])", f));
        Assert.Equal(Errno.EPERM, Alice.Try("chown(1000, 1000, $ARGV[0])", f));
        Assert.Equal(Errno.EPERM, Alice.Try("utime(1, 2, $ARGV[0])", f));

        // Setting both times to now needs only write permission.
        Assert.Equal(Errno.Ok, Alice.Try("utime(undef, undef, $ARGV[0])", f));
        Assert.Equal(Errno.Ok, Sys.Chmod(f, 0x1A4));
        Assert.Equal(Errno.EACCES, Alice.Try("utime(undef, undef, $ARGV[0])", f));
    }

    [SkippableFact]
    public void Owner_MayChmodAndChangeGroupToOwnGroupsOnly()
    {
        string d = NewDirectory();
        string f = RootFile(d, "f", 0x1A4, uid: 1000, gid: 1000);

        Assert.Equal(Errno.Ok, Alice.Try("chmod(0600, $ARGV[0])", f));
        Assert.Equal(LibC.IFREG | 0x180, Sys.Stat(f).Mode);
        Assert.Equal(Errno.EPERM, Alice.Try("chown(-1, 2000, $ARGV[0])", f));
        Assert.Equal(Errno.Ok, (Alice with { Groups = [2000] }).Try("chown(-1, 2000, $ARGV[0])", f));
        Assert.Equal(2000u, Sys.Stat(f).Gid);
        Assert.Equal(Errno.EPERM, Alice.Try("chown(1001, -1, $ARGV[0])", f));
    }

    [SkippableFact]
    public void StickyDirectory_OthersCannotRemoveOrRenameAnEntry()
    {
        string d = NewDirectory(0x3FF); // 1777
        string bobs = Path.Combine(d, "bobs");
        Assert.Equal(Errno.Ok, Bob.Open(bobs, ">"));
        Assert.Equal(1001u, Sys.Stat(bobs).Uid);

        Assert.Equal(Errno.EPERM, Alice.Unlink(bobs));
        Assert.Equal(Errno.EPERM, Alice.Try("rename($ARGV[0], $ARGV[1])", bobs, Path.Combine(d, "mine")));
        Assert.Equal(Errno.Ok, Alice.Open(Path.Combine(d, "alices"), ">"));
        Assert.Equal(Errno.EPERM, Alice.Try("rename($ARGV[0], $ARGV[1])", Path.Combine(d, "alices"), bobs));
        Assert.Equal(Errno.Ok, Bob.Unlink(bobs));
        Assert.Equal(Errno.Ok, Sys.Unlink(Path.Combine(d, "alices")));
    }

    [SkippableFact]
    public void WriteByNonOwner_ClearsSetUidAndSetGid()
    {
        string d = NewDirectory();
        string f = RootFile(d, "f", LibC.Octal("6777"));

        Assert.Equal(Errno.Ok, Alice.Append(f, "more"));

        Assert.Equal(LibC.IFREG | LibC.Octal("0777"), Sys.Stat(f).Mode);
        Assert.Equal("secretmore", Sys.ReadText(f));
    }

    [SkippableFact]
    public void MkNod_DeviceByNonRoot_IsEPERM_FifoIsAllowed()
    {
        string d = NewDirectory();

        // mknodat(AT_FDCWD, path, S_IFCHR | 0644, makedev(1, 3)): perl has no mknod of its own.
        int mknodat = RuntimeInformation.OSArchitecture == Architecture.Arm64 ? 33 : 259;
        Assert.Equal(Errno.EPERM, Alice.Try($"syscall({mknodat}, -100, $ARGV[0], 020644, 259) == 0", Path.Combine(d, "dev")));
        Assert.Equal(Errno.Ok, Alice.Try("POSIX::mkfifo($ARGV[0], 0644)", Path.Combine(d, "fifo")));
        Assert.Equal((LibC.IFIFO | 0x1A4, 1000u), (Sys.Stat(Path.Combine(d, "fifo")).Mode, Sys.Stat(Path.Combine(d, "fifo")).Uid));
    }

    [SkippableFact]
    public void NewFiles_BelongToTheCaller()
    {
        string d = NewDirectory();

        Assert.Equal(Errno.Ok, Alice.Try("mkdir($ARGV[0], 0755)", Path.Combine(d, "dir")));
        Assert.Equal(Errno.Ok, Alice.Try("symlink('x', $ARGV[0])", Path.Combine(d, "link")));

        StatxResult dir = Sys.Stat(Path.Combine(d, "dir"));
        StatxResult link = Sys.Stat(Path.Combine(d, "link"));
        Assert.Equal((1000u, 1000u, LibC.IFDIR | 0x1ED), (dir.Uid, dir.Gid, dir.Mode));
        Assert.Equal((1000u, 1000u), (link.Uid, link.Gid));
    }
}
