// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;

namespace Crfs.Volume.Devices;

/// <summary>One device together with the superblock copy chosen for it.</summary>
public sealed class VolumeDevice
{
    internal VolumeDevice(IBlockDevice device, byte[] superblock, int superblockMirror)
    {
        Device = device;
        Superblock = superblock;
        SuperblockMirror = superblockMirror;
        var view = new SuperblockView(superblock);
        DevId = view.DevItem.DevId;
        Generation = view.Generation;
    }

    public IBlockDevice Device { get; }

    public ulong DevId { get; }

    public ulong Generation { get; }

    /// <summary>The 0-based superblock copy that was chosen (0 = primary at 64 KiB).</summary>
    public int SuperblockMirror { get; }

    /// <summary>The chosen, validated 4096-byte superblock copy.</summary>
    public byte[] Superblock { get; }
}

/// <summary>
/// The devices of one volume, matched by the fsid and devid in each device's own superblock, so
/// the order in which they are named does not matter. The set owns the devices and disposes
/// them.
/// </summary>
public sealed class DeviceSet : IDisposable
{
    private readonly Dictionary<ulong, VolumeDevice> _byId;

    private DeviceSet(Dictionary<ulong, VolumeDevice> byId, VolumeDevice newest)
    {
        _byId = byId;
        Newest = newest;
    }

    /// <summary>The device whose superblock has the highest generation; its superblock describes the volume.</summary>
    public VolumeDevice Newest { get; }

    public IReadOnlyCollection<VolumeDevice> Devices => _byId.Values;

    public IBlockDevice? Find(ulong devId) => _byId.TryGetValue(devId, out VolumeDevice? d) ? d.Device : null;

    /// <summary>
    /// Reads every device's superblock and checks that they belong together. Takes ownership of
    /// <paramref name="devices"/> (they are disposed if this throws). Bad superblock copies that
    /// another copy replaced are passed to <paramref name="warn"/>.
    /// </summary>
    public static DeviceSet Open(IReadOnlyList<IBlockDevice> devices, Action<string> warn)
    {
        try
        {
            if (devices.Count == 0)
            {
                throw new ArgumentException("a volume needs at least one device", nameof(devices));
            }

            var byId = new Dictionary<ulong, VolumeDevice>();
            byte[]? fsid = null;
            VolumeDevice? newest = null;
            foreach (IBlockDevice device in devices)
            {
                VolumeDevice vd = ReadBestSuperblock(device, warn);
                var sb = new SuperblockView(vd.Superblock);
                if (fsid is null)
                {
                    fsid = sb.Fsid.ToArray();
                }
                else if (!sb.Fsid.SequenceEqual(fsid))
                {
                    throw new InvalidDataException($"{device.Name} belongs to volume {UuidFormat.ToString(sb.Fsid)}, not {UuidFormat.ToString(fsid)}");
                }

                if (!byId.TryAdd(vd.DevId, vd))
                {
                    throw new InvalidDataException($"{device.Name} and {byId[vd.DevId].Device.Name} are both devid {vd.DevId}");
                }

                if (newest is null || vd.Generation > newest.Generation)
                {
                    newest = vd;
                }
            }

            foreach (VolumeDevice vd in byId.Values)
            {
                if (vd.Generation < newest!.Generation)
                {
                    warn($"{vd.Device.Name} (devid {vd.DevId}) is stale: generation {vd.Generation}, the volume is at {newest.Generation}");
                }
            }

            return new DeviceSet(byId, newest!);
        }
        catch
        {
            foreach (IBlockDevice d in devices)
            {
                d.Dispose();
            }

            throw;
        }
    }

    /// <summary>
    /// Reads every superblock copy that fits on the device and keeps the valid one with the highest
    /// generation. Throws <see cref="InvalidDataException"/> listing each copy's fault when none is valid.
    /// </summary>
    public static VolumeDevice ReadBestSuperblock(IBlockDevice device, Action<string> warn)
    {
        var faults = new List<string>();
        byte[]? best = null;
        int bestMirror = -1;
        ulong bestGeneration = 0;
        for (int mirror = 0; mirror < SuperblockLayout.MirrorCount; mirror++)
        {
            ulong offset = SuperblockLayout.MirrorOffset(mirror);
            if (offset + SuperblockLayout.Size > (ulong)device.Length)
            {
                break;
            }

            byte[] copy = new byte[SuperblockLayout.Size];
            string? fault;
            try
            {
                device.ReadAt((long)offset, copy);
                fault = SuperblockChecker.Validate(copy, offset);
            }
            catch (IOException e)
            {
                fault = e.Message;
            }

            if (fault is not null)
            {
                faults.Add($"copy {mirror} at {offset}: {fault}");
                continue;
            }

            ulong generation = new SuperblockView(copy).Generation;
            if (best is null || generation > bestGeneration)
            {
                best = copy;
                bestMirror = mirror;
                bestGeneration = generation;
            }
        }

        if (best is null)
        {
            throw new InvalidDataException(faults.Count == 0
                ? $"{device.Name} is too small ({device.Length} bytes) to hold a btrfs superblock"
                : $"no valid btrfs superblock on {device.Name}: {string.Join("; ", faults)}");
        }

        foreach (string fault in faults)
        {
            warn($"bad superblock on {device.Name}, {fault}; using copy {bestMirror} at {SuperblockLayout.MirrorOffset(bestMirror)} (generation {bestGeneration})");
        }

        return new VolumeDevice(device, best, bestMirror);
    }

    public void Dispose()
    {
        foreach (VolumeDevice d in _byId.Values)
        {
            d.Device.Dispose();
        }
    }
}
