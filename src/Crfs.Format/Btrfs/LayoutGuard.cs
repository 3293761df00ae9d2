// SPDX-License-Identifier: MIT
namespace Crfs.Format.Btrfs;

/// <summary>
/// The one bounds check a variable-size view makes when it is created. Views are built over bytes
/// that <see cref="TreeBlockChecker"/> already accepted, so this failing means a caller bug, not
/// corruption; it keeps a misuse from reading past the item into its neighbour.
/// </summary>
internal static class LayoutGuard
{
    public static void RequireLength(ReadOnlySpan<byte> bytes, int minimum, string what)
    {
        if (bytes.Length < minimum)
        {
            Throw(bytes.Length, minimum, what);
        }
    }

    private static void Throw(int length, int minimum, string what) =>
        throw new ArgumentException($"{what} needs at least {minimum} bytes, got {length}");
}
