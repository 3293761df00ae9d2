// SPDX-License-Identifier: MIT
using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text;

namespace Crfs.Cli.Commands;

/// <summary>
/// Running <c>crfs mount</c> in the background the way sshfs does, without fork: .NET cannot fork
/// a running runtime (its threads would not survive), so the command re-executes itself with
/// <c>--foreground</c> and waits for the child to say it is ready.
/// </summary>
/// <remarks>
/// <para><b>Readiness.</b> The parent starts the child with stdout on a pipe and
/// <see cref="NotifyVariable"/> set. The child first moves that pipe to a private descriptor
/// (close-on-exec, so helpers it spawns never hold it) and points its own stdin at /dev/null and
/// stdout/stderr at /dev/null or the <c>--log</c> file, then calls setsid(2) to leave the
/// terminal's session. When the mount is live (kernel INIT answered, control socket listening) it
/// writes <c>ready</c> on the private descriptor, or <c>error MESSAGE</c> if mounting failed, and
/// closes it. The parent prints nothing after <c>ready</c> and exits 0; after an error, or if the
/// child dies before a line, it prints why and exits 1. No signal or pid file is involved, and a
/// child that crashes is noticed by the end of the pipe.</para>
/// <para>The redirection happens before anything touches <see cref="Console"/>: .NET duplicates
/// the standard descriptors when a console stream is first opened, so a stream opened earlier
/// would keep the parent's pipe (or terminal) alive behind the redirection.</para>
/// </remarks>
internal static class Daemon
{
    /// <summary>Set in the child's environment: stdout is the readiness pipe.</summary>
    public const string NotifyVariable = "CRFS_MOUNT_NOTIFY";

    private const int FDupFdCloexec = 1030;
    private const int FGetFd = 1;
    private const int FdCloexec = 1;

    /// <summary>How long the parent waits for the child to mount.</summary>
    private static readonly TimeSpan s_readyTimeout = TimeSpan.FromMinutes(2);

    private static int s_notifyFd = -1;

    public static bool IsChild => Environment.GetEnvironmentVariable(NotifyVariable) == "stdout";

    /// <summary>
    /// Starts <c>crfs</c> again with <paramref name="arguments"/> and waits for its readiness line.
    /// Returns the exit code for the parent: 0 once the child is ready.
    /// </summary>
    public static int Spawn(IReadOnlyList<string> arguments, string? logFile)
    {
        string processPath = Environment.ProcessPath ?? throw new IOException("cannot find this program's executable to start the background mount");
        var psi = new ProcessStartInfo(processPath)
        {
            RedirectStandardOutput = true,
            UseShellExecute = false,
            WorkingDirectory = "/",
        };

        // Under `dotnet crfs.dll` the executable is the host; the program is the entry assembly.
        if (Path.GetFileNameWithoutExtension(processPath) == "dotnet")
        {
            psi.ArgumentList.Add(typeof(Daemon).Assembly.Location);
        }

        foreach (string a in arguments)
        {
            psi.ArgumentList.Add(a);
        }

        psi.Environment[NotifyVariable] = "stdout";
        using Process child = Process.Start(psi) ?? throw new IOException($"cannot start {processPath} for the background mount");
        Task<string?> line = child.StandardOutput.ReadLineAsync();
        if (!line.Wait(s_readyTimeout))
        {
            child.Kill(entireProcessTree: true);
            throw new IOException($"the background mount process {child.Id} was not ready within {s_readyTimeout.TotalSeconds:0} s; killed it");
        }

        string? status = line.Result;
        if (status == "ready")
        {
            return 0;
        }

        if (status is not null && status.StartsWith("error ", StringComparison.Ordinal))
        {
            child.WaitForExit(TimeSpan.FromSeconds(30));
            Console.Error.WriteLine($"crfs mount: {status["error ".Length..]}");
            return 1;
        }

        child.WaitForExit(TimeSpan.FromSeconds(30));
        string code = child.HasExited ? $"exited with code {child.ExitCode}" : "closed its readiness pipe";
        Console.Error.WriteLine($"crfs mount: the background mount process {code} before the mount was ready"
            + (logFile is null ? " (run with --foreground or --log FILE to see why)" : $" (see {logFile})"));
        return 1;
    }

    /// <summary>In the child: keep the readiness pipe privately, detach from the terminal and its session.</summary>
    public static void Detach(string? logFile)
    {
        // Programs this process starts (fusermount3) must not take themselves for a mount child.
        Environment.SetEnvironmentVariable(NotifyVariable, null);
        s_notifyFd = Fcntl(1, FDupFdCloexec, 3);
        if (s_notifyFd < 0)
        {
            throw new IOException($"cannot keep the readiness pipe: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
        }

        using (FileStream input = File.OpenRead("/dev/null"))
        using (FileStream output = logFile is null
            ? new FileStream("/dev/null", FileMode.Open, FileAccess.Write)
            : new FileStream(logFile, FileMode.Append, FileAccess.Write, FileShare.ReadWrite))
        {
            int inFd = (int)input.SafeFileHandle.DangerousGetHandle();
            int outFd = (int)output.SafeFileHandle.DangerousGetHandle();
            string?[] inherited = [LinkTarget(0), LinkTarget(1), LinkTarget(2)];
            if (Dup2(inFd, 0) < 0 || Dup2(outFd, 1) < 0 || Dup2(outFd, 2) < 0)
            {
                throw new IOException($"cannot redirect standard descriptors: {Marshal.GetPInvokeErrorMessage(Marshal.GetLastPInvokeError())}");
            }

            ReleaseInheritedPipes(inherited, outFd, keep: [inFd, outFd, s_notifyFd]);
        }

        // Fails only for a process-group leader, which a freshly started child is not; even
        // then the mount works, it just stays in the terminal's session.
        _ = SetSid();
    }

    /// <summary>
    /// A daemon must not hold the pipes of whoever started its parent: a caller that reads the
    /// parent's output to the end (a test, a script's <c>$(...)</c>) would wait for the daemon's
    /// lifetime. Two kinds survive the dup2 above: copies of the old standard descriptors that
    /// the runtime made before (it duplicates them when a console stream is first opened), and
    /// pipes inherited without close-on-exec from further up the process tree. Each is pointed
    /// at <paramref name="replacement"/> with dup2 rather than closed, so whatever owns the
    /// descriptor number keeps a valid one and no later open can reuse the number under it.
    /// </summary>
    private static void ReleaseInheritedPipes(string?[] standardTargets, int replacement, int[] keep)
    {
        foreach (string entry in Directory.GetFiles("/proc/self/fd"))
        {
            if (!int.TryParse(Path.GetFileName(entry), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int fd)
                || fd <= 2 || Array.IndexOf(keep, fd) >= 0)
            {
                continue;
            }

            string? target = LinkTarget(fd);
            if (target is null || !(target.StartsWith("pipe:", StringComparison.Ordinal) || target.StartsWith("socket:", StringComparison.Ordinal)))
            {
                continue;
            }

            bool copyOfStandard = Array.IndexOf(standardTargets, target) >= 0;
            bool inheritedOpen = (Fcntl(fd, FGetFd, 0) & FdCloexec) == 0;
            if (copyOfStandard || (inheritedOpen && target.StartsWith("pipe:", StringComparison.Ordinal)))
            {
                _ = Dup2(replacement, fd);
            }
        }
    }

    private static string? LinkTarget(int fd)
    {
        try
        {
            return new FileInfo($"/proc/self/fd/{fd.ToString(System.Globalization.CultureInfo.InvariantCulture)}").LinkTarget;
        }
        catch (IOException)
        {
            return null;
        }
    }

    /// <summary>In the child: tell the parent the mount is ready (null) or why it failed, once.</summary>
    public static void Notify(string? error)
    {
        int fd = Interlocked.Exchange(ref s_notifyFd, -1);
        if (fd < 0)
        {
            return;
        }

        byte[] line = Encoding.UTF8.GetBytes(error is null ? "ready\n" : $"error {error.Replace('\n', ' ')}\n");
        _ = Write(fd, line, line.Length);
        _ = Close(fd);
    }

    [DllImport("libc", EntryPoint = "fcntl", SetLastError = true)]
    private static extern int Fcntl(int fd, int command, int argument);

    [DllImport("libc", EntryPoint = "dup2", SetLastError = true)]
    private static extern int Dup2(int oldFd, int newFd);

    [DllImport("libc", EntryPoint = "setsid", SetLastError = true)]
    private static extern int SetSid();

    [DllImport("libc", EntryPoint = "write", SetLastError = true)]
    private static extern nint Write(int fd, byte[] buffer, nint count);

    [DllImport("libc", EntryPoint = "close", SetLastError = true)]
    private static extern int Close(int fd);
}
