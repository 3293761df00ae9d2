// SPDX-License-Identifier: MIT
using Crfs.Format.Btrfs;
using Crfs.Volume.Chunks;

namespace Crfs.Volume.Trees;

/// <summary>
/// Tree blocks from the devices: tries each copy in turn, validates it, caches the first good
/// one, and reports the bad ones it passed over. Thread-safe.
/// </summary>
/// <remarks>
/// A cached block has passed the intrinsic checks; each fetch still checks what the caller
/// expects (level, generation, owner, first key). If a cached block fails that, the copies are
/// read again, because another copy may be the one the parent points at (a lost write on one
/// mirror leaves a stale but intact block behind).
/// </remarks>
public sealed class VolumeBlockSource : ITreeBlockSource
{
    private readonly LogicalReader _reader;
    private readonly TreeBlockChecker _checker;
    private readonly BlockCache _cache;
    private readonly Action<BadCopyEventArgs> _reportBadCopy;

    public VolumeBlockSource(LogicalReader reader, TreeBlockChecker checker, BlockCache cache, Action<BadCopyEventArgs> reportBadCopy)
    {
        _reader = reader;
        _checker = checker;
        _cache = cache;
        _reportBadCopy = reportBadCopy;
    }

    public BlockCache Cache => _cache;

    public TreeBlock Read(ulong logical, in TreeBlockExpectation expected)
    {
        if (_cache.TryGet(logical, out TreeBlock cached))
        {
            if (_checker.ValidateExpectation(cached.Bytes, expected) is null)
            {
                return cached;
            }

            _cache.Remove(logical);
        }

        int copies = _reader.CopyCount(logical);
        if (copies == 0)
        {
            throw new CorruptBlockException(logical, 0, "no chunk maps this address");
        }

        string?[] faults = new string?[copies];
        bool[] missing = new bool[copies];
        for (int mirror = 1; mirror <= copies; mirror++)
        {
            byte[] bytes = new byte[_checker.NodeSize];
            string? fault;
            try
            {
                _reader.Read(logical, bytes, mirror);
                fault = _checker.Validate(bytes, logical) ?? _checker.ValidateExpectation(bytes, expected);
            }
            catch (IOException e)
            {
                fault = e.Message;
                missing[mirror - 1] = e is MissingDeviceException;
            }

            if (fault is null)
            {
                for (int bad = 1; bad < mirror; bad++)
                {
                    if (!missing[bad - 1])
                    {
                        _reportBadCopy(new BadCopyEventArgs("tree block", logical, bad, faults[bad - 1]!));
                    }
                }

                var block = new TreeBlock(logical, bytes);
                _cache.Add(block);
                return block;
            }

            faults[mirror - 1] = fault;
        }

        if (copies == 1)
        {
            throw new CorruptBlockException(logical, 1, faults[0]!);
        }

        var all = new System.Text.StringBuilder($"all {copies} copies are bad:");
        for (int i = 0; i < copies; i++)
        {
            all.Append(i == 0 ? " " : "; ").Append("mirror ").Append(i + 1).Append(": ").Append(faults[i]);
        }

        throw new CorruptBlockException(logical, 0, all.ToString());
    }
}
