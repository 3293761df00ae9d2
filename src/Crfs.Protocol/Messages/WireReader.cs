// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using Crfs.Format.Btrfs;
using Crfs.Protocol.Framing;

namespace Crfs.Protocol.Messages;

/// <summary>
/// A forward-only reader over one message body that never throws. The first field that does not
/// fit, or the first value reported invalid, records a <see cref="ProtocolViolation"/>; from then
/// on every read returns zero and loops stop, so a codec reads its fields straight through and
/// checks <see cref="Violation"/> once at the end. Byte fields are slices of the body's memory,
/// not copies.
/// </summary>
internal ref struct WireReader
{
    private readonly ReadOnlyMemory<byte> _memory;
    private readonly ReadOnlySpan<byte> _span;
    private readonly Command _command;
    private readonly bool _isResponse;
    private int _position;

    public WireReader(ReadOnlyMemory<byte> body, Command command, bool isResponse)
    {
        _memory = body;
        _span = body.Span;
        _command = command;
        _isResponse = isResponse;
        _position = 0;
        Violation = null;
    }

    public ProtocolViolation? Violation { get; private set; }

    public readonly bool Failed => Violation is not null;

    public readonly int Remaining => _span.Length - _position;

    public byte U8(string field) => Take(1, field, out int at) ? _span[at] : (byte)0;

    public ushort U16(string field) => Take(2, field, out int at) ? BinaryPrimitives.ReadUInt16LittleEndian(_span[at..]) : (ushort)0;

    public uint U32(string field) => Take(4, field, out int at) ? BinaryPrimitives.ReadUInt32LittleEndian(_span[at..]) : 0;

    public ulong U64(string field) => Take(8, field, out int at) ? BinaryPrimitives.ReadUInt64LittleEndian(_span[at..]) : 0;

    public BtrfsKey Key(string field) =>
        Take(DiskKeyLayout.Size, field, out int at) ? DiskKeyLayout.Read(_span.Slice(at, DiskKeyLayout.Size)) : default;

    /// <summary>16 bytes in RFC 4122 order, as btrfs stores a UUID and as <c>uuidgen</c> prints it.</summary>
    public Guid Uuid(string field) =>
        Take(WireSizes.Uuid, field, out int at) ? new Guid(_span.Slice(at, WireSizes.Uuid), bigEndian: true) : Guid.Empty;

    public KeyRange Range(string field)
    {
        ulong tree = U64(field);
        BtrfsKey start = Key(field);
        BtrfsKey end = Key(field);
        if (!Failed && start > end)
        {
            Invalid($"{field} {new KeyRange(tree, start, end)} starts after it ends");
        }

        return new KeyRange(tree, start, end);
    }

    public LockMode Mode(string field)
    {
        byte value = U8(field);
        if (!Failed && value > (byte)LockMode.WriteOnly)
        {
            Invalid($"{field} {value} is not a lock mode");
        }

        return (LockMode)value;
    }

    public bool Bool(string field)
    {
        byte value = U8(field);
        if (value > 1)
        {
            Invalid($"{field} {value} is neither 0 nor 1");
        }

        return value == 1;
    }

    public ReadOnlyMemory<byte> Bytes(int length, string field) =>
        Take(length, field, out int at) ? _memory.Slice(at, length) : ReadOnlyMemory<byte>.Empty;

    /// <summary>A u32 length followed by that many bytes.</summary>
    public ReadOnlyMemory<byte> SizedBytes(string field)
    {
        uint length = U32(field);
        if (Failed)
        {
            return ReadOnlyMemory<byte>.Empty;
        }

        if (length > (uint)Remaining)
        {
            TooShort(field, (long)length);
            return ReadOnlyMemory<byte>.Empty;
        }

        return Bytes((int)length, field);
    }

    /// <summary>
    /// A u32 element count, refused when even elements of <paramref name="minElementSize"/> bytes
    /// could not fit in what is left, so a hostile count never drives an allocation or a long loop.
    /// </summary>
    public int Count(string field, int minElementSize)
    {
        uint count = U32(field);
        if (Failed)
        {
            return 0;
        }

        if (count > (uint)(Remaining / minElementSize))
        {
            Violation = new ProtocolViolation(
                ViolationKind.BodyTooShort,
                $"{Context()}: {field} count {count} needs at least {(long)count * minElementSize} bytes at offset {_position} but {Remaining} remain");
            return 0;
        }

        return (int)count;
    }

    /// <summary>Records that a field's value is out of its domain (first violation wins).</summary>
    public void Invalid(string detail)
    {
        Violation ??= new ProtocolViolation(ViolationKind.InvalidField, $"{Context()}: {detail}");
    }

    /// <summary>The recorded violation, or one for bytes left over after the last field.</summary>
    public readonly ProtocolViolation? Finish()
    {
        if (Violation is not null)
        {
            return Violation;
        }

        return Remaining == 0
            ? null
            : new ProtocolViolation(ViolationKind.TrailingBytes, $"{Context()}: {Remaining} bytes left over after the last field (body has {_span.Length})");
    }

    private bool Take(int size, string field, out int at)
    {
        at = _position;
        if (Violation is not null)
        {
            return false;
        }

        if (size > Remaining)
        {
            TooShort(field, size);
            return false;
        }

        _position += size;
        return true;
    }

    private void TooShort(string field, long size)
    {
        Violation = new ProtocolViolation(
            ViolationKind.BodyTooShort,
            $"{Context()}: field '{field}' needs {size} bytes at offset {_position} but the body has {_span.Length}");
    }

    private readonly string Context() => $"{CommandInfo.Name(_command)} {(_isResponse ? "response" : "request")} body";
}
