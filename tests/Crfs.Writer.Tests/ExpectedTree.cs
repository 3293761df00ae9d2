// SPDX-License-Identifier: MIT
using Crfs.Testing;

namespace Crfs.Writer.Tests;

/// <summary>
/// A <see cref="FileModel"/> written out on a scratch btrfs (which, unlike /tmp, holds every
/// xattr the model may have), mounted noatime so capturing its manifest changes nothing.
/// </summary>
internal sealed class ExpectedTree : IDisposable
{
    private readonly ScratchBtrfs _scratch;

    public ExpectedTree(FileModel model)
    {
        _scratch = new ScratchBtrfs(1L << 30);
        Path = _scratch.NewPath("model");
        Directory.CreateDirectory(Path);
        model.Materialize(Path);
        ProcessRunner.Run("mount", ["-o", "remount,noatime", _scratch.Root], TimeSpan.FromMinutes(1)).EnsureSuccess();
        Manifest = TreeManifest.Capture(Path);
    }

    public string Path { get; }

    public TreeManifest Manifest { get; }

    public void Dispose() => _scratch.Dispose();
}
