// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;

namespace Crfs.Volume.Files;

/// <summary>Builds the payloads of fs-tree items through the Format writer views.</summary>
internal static class FsItems
{
    public static byte[] Concat(byte[] a, byte[] b)
    {
        byte[] r = new byte[a.Length + b.Length];
        a.CopyTo(r, 0);
        b.CopyTo(r, a.Length);
        return r;
    }
}
