// SPDX-License-Identifier: MIT
using System.Runtime.InteropServices;
using Crfs.Fuse.Abi;
using Crfs.Posix;

namespace Crfs.Fuse;

/// <summary>
/// Fills a READDIR reply in place: <c>fuse_dirent</c> records (24 bytes + name, padded to 8) in
/// the reply buffer, never more than the kernel asked for.
/// </summary>
/// <remarks>
/// The directory stream is a sequence of entries each with a cookie. READDIR(offset) asks for
/// the entries after the one whose cookie is offset (0 = from the start); every entry carries
/// the cookie of the entry that follows it (<c>nextOffset</c>), so the kernel can resume there.
/// Cookies are the file system's to choose (indexes, hashes, DIR_INDEX keys); they only have to be
/// stable while the directory is open.
/// </remarks>
public ref struct FuseDirectoryWriter
{
    private readonly Span<byte> _buffer;
    private int _length;

    public FuseDirectoryWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _length = 0;
    }

    /// <summary>Bytes written so far.</summary>
    public readonly int Length => _length;

    /// <summary>Entries written so far.</summary>
    public int Count { get; private set; }

    /// <summary>Appends one entry, or returns false (writing nothing) if it does not fit.</summary>
    public bool TryAdd(ReadOnlySpan<byte> name, ulong ino, FileType type, ulong nextOffset)
    {
        int recordLength = Align8(Dirent.SizeOf + name.Length);
        if (recordLength > _buffer.Length - _length)
        {
            return false;
        }

        Span<byte> record = _buffer.Slice(_length, recordLength);
        MemoryMarshal.Write(record, new Dirent { Ino = ino, Off = nextOffset, NameLen = (uint)name.Length, Type = type.ToDirentType() });
        name.CopyTo(record[Dirent.SizeOf..]);
        record[(Dirent.SizeOf + name.Length)..].Clear();
        _length += recordLength;
        Count++;
        return true;
    }

    internal static int Align8(int length) => (length + 7) & ~7;
}

/// <summary>
/// Fills a READDIRPLUS reply in place: each record is an <c>fuse_entry_out</c> followed by a
/// <c>fuse_dirent</c>, so one request also answers the LOOKUP of every name it lists.
/// </summary>
/// <remarks>
/// Lookup-count contract: every entry that <see cref="TryAdd"/> accepts with a non-zero
/// <see cref="FuseEntry.NodeId"/> — except "." and ".." — adds one to that node's lookup count,
/// exactly as a LOOKUP reply would; the kernel returns what it cannot use through FORGET. Count
/// only after <see cref="TryAdd"/> returned true. An entry with NodeId 0 lists the name without
/// attributes (the kernel will LOOKUP it when needed) and counts nothing.
/// </remarks>
public ref struct FuseDirectoryPlusWriter
{
    private readonly Span<byte> _buffer;
    private int _length;

    public FuseDirectoryPlusWriter(Span<byte> buffer)
    {
        _buffer = buffer;
        _length = 0;
    }

    public readonly int Length => _length;

    public int Count { get; private set; }

    /// <summary>Appends one entry, or returns false (writing nothing) if it does not fit.</summary>
    public bool TryAdd(ReadOnlySpan<byte> name, in FuseEntry entry, ulong nextOffset)
    {
        int recordLength = FuseDirectoryWriter.Align8(EntryOut.SizeOf + Dirent.SizeOf + name.Length);
        if (recordLength > _buffer.Length - _length)
        {
            return false;
        }

        Span<byte> record = _buffer.Slice(_length, recordLength);
        MemoryMarshal.Write(record, FuseReplyEncoding.ToEntryOut(entry));
        var dirent = new Dirent
        {
            Ino = entry.Attributes.Ino,
            Off = nextOffset,
            NameLen = (uint)name.Length,
            Type = entry.Attributes.Type.ToDirentType(),
        };
        MemoryMarshal.Write(record[EntryOut.SizeOf..], dirent);
        name.CopyTo(record[(EntryOut.SizeOf + Dirent.SizeOf)..]);
        record[(EntryOut.SizeOf + Dirent.SizeOf + name.Length)..].Clear();
        _length += recordLength;
        Count++;
        return true;
    }
}
