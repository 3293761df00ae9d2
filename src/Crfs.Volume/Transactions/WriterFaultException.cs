// SPDX-License-Identifier: MIT
namespace Crfs.Volume.Transactions;

/// <summary>
/// A broken invariant on the write path: a bug, or on-disk state the writer cannot continue
/// from. The writer turns the volume read-only when one escapes a change or a commit; every
/// later write fails with <see cref="VolumeReadOnlyException"/> naming this fault.
/// </summary>
public sealed class WriterFaultException : Exception
{
    public WriterFaultException(string message)
        : base(message)
    {
    }

    public WriterFaultException(string message, Exception inner)
        : base(message, inner)
    {
    }
}

/// <summary>
/// Thrown by every write after the writer has gone read-only (the EROFS of this layer); the
/// message and <see cref="Exception.InnerException"/> name the fault that caused it.
/// </summary>
public sealed class VolumeReadOnlyException : Exception
{
    public VolumeReadOnlyException(string message, Exception? cause)
        : base(message, cause)
    {
    }
}
