// SPDX-License-Identifier: MIT
using System.Globalization;

namespace Crfs.Cli.Commands;

/// <summary>Waits for a process that is not our child (so no waitpid) to exit.</summary>
internal static class ProcessWatch
{
    /// <summary>
    /// True once <paramref name="pid"/> has exited. A zombie counts as exited: a daemon's parent
    /// is gone, and where no init reaps orphans (containers) its entry lingers in /proc.
    /// </summary>
    public static bool WaitForExit(int pid, TimeSpan timeout)
    {
        DateTime deadline = DateTime.UtcNow + timeout;
        while (IsAlive(pid))
        {
            if (DateTime.UtcNow >= deadline)
            {
                return false;
            }

            Thread.Sleep(20);
        }

        return true;
    }

    private static bool IsAlive(int pid)
    {
        string text;
        try
        {
            text = File.ReadAllText($"/proc/{pid.ToString(CultureInfo.InvariantCulture)}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return false;
        }

        // pid (comm) STATE ...; comm may contain spaces and parentheses, so read after the last ')'.
        int close = text.LastIndexOf(')');
        return close < 0 || close + 2 >= text.Length || text[close + 2] is not ('Z' or 'X');
    }
}
