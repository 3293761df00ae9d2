// SPDX-License-Identifier: MIT
namespace Crfs.Posix;

/// <summary>
/// A POSIX timestamp: seconds since the Unix epoch and nanoseconds within the second
/// (<c>0 &lt;= Nanoseconds &lt; 1e9</c>). Seconds are signed so that times before 1970 survive a
/// round trip, as in <c>struct timespec</c>.
/// </summary>
public readonly record struct Timespec(long Seconds, uint Nanoseconds) : IComparable<Timespec>
{
    public const uint NanosecondsPerSecond = 1_000_000_000;

    public static Timespec FromDateTimeOffset(DateTimeOffset time)
    {
        long ticks = time.UtcTicks - DateTimeOffset.UnixEpoch.UtcTicks;
        long seconds = Math.DivRem(ticks, TimeSpan.TicksPerSecond, out long remainder);
        if (remainder < 0)
        {
            seconds--;
            remainder += TimeSpan.TicksPerSecond;
        }

        return new Timespec(seconds, (uint)(remainder * 100));
    }

    public static Timespec Now => FromDateTimeOffset(DateTimeOffset.UtcNow);

    public DateTimeOffset ToDateTimeOffset() =>
        DateTimeOffset.UnixEpoch.AddTicks((Seconds * TimeSpan.TicksPerSecond) + (Nanoseconds / 100));

    public int CompareTo(Timespec other)
    {
        int c = Seconds.CompareTo(other.Seconds);
        return c != 0 ? c : Nanoseconds.CompareTo(other.Nanoseconds);
    }

    public static bool operator <(Timespec left, Timespec right) => left.CompareTo(right) < 0;

    public static bool operator >(Timespec left, Timespec right) => left.CompareTo(right) > 0;

    public static bool operator <=(Timespec left, Timespec right) => left.CompareTo(right) <= 0;

    public static bool operator >=(Timespec left, Timespec right) => left.CompareTo(right) >= 0;

    public override string ToString() => $"{Seconds}.{Nanoseconds:D9}";
}
