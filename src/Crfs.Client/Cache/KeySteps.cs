// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;

namespace Crfs.Client.Cache;

/// <summary>
/// The neighbours of a key in btrfs key order (objectid, then type, then offset), used to split
/// and join closed key ranges without gaps or overlaps.
/// </summary>
public static class KeySteps
{
    /// <summary>The next key, or false when <paramref name="key"/> is <see cref="BtrfsKey.Max"/>.</summary>
    public static bool TryNext(BtrfsKey key, out BtrfsKey next)
    {
        if (key.Offset != ulong.MaxValue)
        {
            next = key with { Offset = key.Offset + 1 };
            return true;
        }

        if ((byte)key.Type != byte.MaxValue)
        {
            next = new BtrfsKey(key.ObjectId, (ItemType)((byte)key.Type + 1), 0);
            return true;
        }

        if (key.ObjectId != ulong.MaxValue)
        {
            next = new BtrfsKey(key.ObjectId + 1, 0, 0);
            return true;
        }

        next = default;
        return false;
    }

    /// <summary>The previous key, or false when <paramref name="key"/> is <see cref="BtrfsKey.Min"/>.</summary>
    public static bool TryPrevious(BtrfsKey key, out BtrfsKey previous)
    {
        if (key.Offset != 0)
        {
            previous = key with { Offset = key.Offset - 1 };
            return true;
        }

        if (key.Type != 0)
        {
            previous = new BtrfsKey(key.ObjectId, (ItemType)((byte)key.Type - 1), ulong.MaxValue);
            return true;
        }

        if (key.ObjectId != 0)
        {
            previous = new BtrfsKey(key.ObjectId - 1, (ItemType)byte.MaxValue, ulong.MaxValue);
            return true;
        }

        previous = default;
        return false;
    }

    /// <summary>The first key of objectid <paramref name="objectId"/>.</summary>
    public static BtrfsKey First(ulong objectId) => new(objectId, 0, 0);

    /// <summary>The last key of objectid <paramref name="objectId"/>.</summary>
    public static BtrfsKey Last(ulong objectId) => new(objectId, (ItemType)byte.MaxValue, ulong.MaxValue);
}
