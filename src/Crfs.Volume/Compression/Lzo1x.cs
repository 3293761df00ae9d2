// SPDX-License-Identifier: MIT
using System.Buffers.Binary;
using System.Diagnostics.CodeAnalysis;
using System.Runtime.CompilerServices;

namespace Crfs.Volume.Compression;

/// <summary>
/// The raw LZO1X bitstream (version 0, as the kernel's <c>lzo1x_1_compress</c> writes it and
/// <c>lzo1x_decompress_safe</c> reads it), without any btrfs framing; <see cref="BtrfsLzo"/> adds
/// that.
/// </summary>
/// <remarks>
/// <para>
/// The stream is a sequence of instructions. Literal runs copy bytes from the input; matches copy
/// 2 or more bytes from up to 48 KiB back in the output. The low two bits of every match ("S")
/// carry how many literals (0..3) follow it, and that count ("state") changes how the next
/// instruction byte below 16 is read: after 0 literals it starts a literal run of 4 or more,
/// after 1..3 it is a 2-byte match within 1 KiB, after 4 or more a 3-byte match 2..3 KiB back.
/// The first byte is special (above 17 it is a literal run with no preceding match), lengths
/// that do not fit their opcode bits continue in zero bytes worth 255 each, and the stream ends
/// with the bytes <c>11 00 00</c>, a 48 KiB-class match of distance zero.
/// </para>
/// <para>
/// The decoder trusts nothing: every read of input, write of output and back-reference is
/// bounds-checked, every length is computed in 64 bits, and each loop consumes input, so
/// malformed data ends in an <see cref="InvalidDataException"/> naming the input offset and
/// never in an out-of-range exception or a hang. Like the kernel it rejects data after the end
/// marker. The encoder is a greedy single-probe hash matcher in the spirit of LZO1X-1; it emits
/// only literal runs and the 3..8-byte/2 KiB, 16 KiB and 48 KiB match forms, which every LZO1X
/// decoder reads, and its output never exceeds <see cref="MaxCompressedLength"/>.
/// </para>
/// </remarks>
public static class Lzo1x
{
    private const int M2MaxOffset = 0x0800;
    private const int M3MaxOffset = 0x4000;
    private const int M4MaxOffset = 0xBFFF;
    private const int M2MaxLength = 8;
    private const int M3Marker = 32;
    private const int M4Marker = 16;
    private const int MinMatch = 4;
    private const int HashBits = 13;

    /// <summary>The largest output <see cref="Compress"/> can produce for <paramref name="length"/> input bytes.</summary>
    public static int MaxCompressedLength(int length) => length + (length / 16) + 64 + 3;

    /// <summary>
    /// Decodes one LZO1X stream that must occupy all of <paramref name="source"/> into the start
    /// of <paramref name="destination"/> and returns the number of bytes produced.
    /// </summary>
    /// <exception cref="InvalidDataException">The stream is malformed, truncated, followed by
    /// other bytes, refers before the start of the output, or decodes to more than
    /// <c>destination.Length</c> bytes.</exception>
    public static int Decompress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        if (source.Length < 3)
        {
            throw new InvalidDataException($"LZO1X stream of {source.Length} bytes is shorter than the 3-byte end marker");
        }

        int ip = 0;
        int op = 0;
        int state = 0; // literals copied by the previous instruction: 0, 1..3, or 4 meaning "4 or more"

        if (source[0] > 17)
        {
            // First byte: a literal run with nothing before it.
            int count = source[0] - 17;
            ip = 1;
            CopyLiterals(source, ref ip, destination, ref op, count);
            state = count < 4 ? count : 4;
        }
        else if (source[0] == 17 && source.Length >= 5)
        {
            // 17 then a version byte marks a versioned bitstream (the kernel's LZO-RLE); btrfs
            // only ever writes version 0, which carries no marker.
            throw new InvalidDataException($"LZO1X bitstream version {source[1]} at offset 1 is not the plain LZO1X btrfs writes");
        }

        while (true)
        {
            int instruction = ReadByte(source, ref ip);
            long length;
            long distance;
            int next;
            if (instruction < 16)
            {
                if (state == 0)
                {
                    // 0000LLLL: a literal run of 4 or more.
                    length = instruction != 0 ? instruction : 15 + ReadLengthExtension(source, ref ip);
                    CopyLiterals(source, ref ip, destination, ref op, length + 3);
                    state = 4;
                    continue;
                }

                next = instruction & 3;
                int high = ReadByte(source, ref ip);
                if (state != 4)
                {
                    // 0000DDSS HHHHHHHH after 1..3 literals: 2 bytes from within 1 KiB.
                    distance = 1 + (instruction >> 2) + (high << 2);
                    length = 2;
                }
                else
                {
                    // 0000DDSS HHHHHHHH after 4+ literals: 3 bytes from 2..3 KiB back.
                    distance = 1 + M2MaxOffset + (instruction >> 2) + (high << 2);
                    length = 3;
                }
            }
            else if (instruction >= 64)
            {
                // 1LLDDDSS / 01LDDDSS HHHHHHHH: 3..8 bytes from within 2 KiB.
                next = instruction & 3;
                distance = 1 + ((instruction >> 2) & 7) + (ReadByte(source, ref ip) << 3);
                length = (instruction >> 5) + 1;
            }
            else if (instruction >= 32)
            {
                // 001LLLLL DDDDDDDD DDDDDDSS: a match within 16 KiB.
                length = (instruction & 31) != 0 ? (instruction & 31) + 2 : 2 + 31 + ReadLengthExtension(source, ref ip);
                int word = ReadUInt16(source, ref ip);
                distance = 1 + (word >> 2);
                next = word & 3;
            }
            else
            {
                // 0001HLLL DDDDDDDD DDDDDDSS: a match 16..48 KiB back, or the end marker.
                length = (instruction & 7) != 0 ? (instruction & 7) + 2 : 2 + 7 + ReadLengthExtension(source, ref ip);
                int word = ReadUInt16(source, ref ip);
                distance = ((instruction & 8) << 11) + (word >> 2);
                next = word & 3;
                if (distance == 0)
                {
                    // The end marker. Like the kernel (and unlike liblzo2) insist on its length
                    // field being the 3 that every encoder writes.
                    if (length != 3)
                    {
                        throw new InvalidDataException($"LZO1X end marker before offset {ip} has length {length}, not 3");
                    }

                    if (ip != source.Length)
                    {
                        throw new InvalidDataException($"LZO1X stream ends at offset {ip} but {source.Length - ip} more input bytes follow");
                    }

                    return op;
                }

                distance += M3MaxOffset;
            }

            CopyMatch(destination, ref op, distance, length, ip);
            CopyLiterals(source, ref ip, destination, ref op, next);
            state = next;
        }
    }

    /// <summary>
    /// Encodes <paramref name="source"/> as one LZO1X stream into <paramref name="destination"/>
    /// and returns its length. A destination of <see cref="MaxCompressedLength"/> bytes always
    /// suffices; with less, returns -1 when the stream does not fit.
    /// </summary>
    public static int Compress(ReadOnlySpan<byte> source, Span<byte> destination)
    {
        // Candidate positions + 1 by hash of the next 4 bytes; 0 means empty. A stale or
        // colliding entry is harmless: a candidate is used only if its bytes really match.
        Span<int> table = stackalloc int[1 << HashBits];
        table.Clear();

        var writer = new Writer(destination);
        int literalStart = 0;
        int ip = 0;
        int limit = source.Length - MinMatch;
        while (ip <= limit)
        {
            uint sequence = BinaryPrimitives.ReadUInt32LittleEndian(source[ip..]);
            int slot = (int)((sequence * 2654435761u) >> (32 - HashBits));
            int candidate = table[slot] - 1;
            table[slot] = ip + 1;
            int distance = ip - candidate;
            if (candidate < 0 || distance > M4MaxOffset
                || BinaryPrimitives.ReadUInt32LittleEndian(source[candidate..]) != sequence)
            {
                // Skip faster through data that does not compress.
                ip += 1 + ((ip - literalStart) >> 5);
                continue;
            }

            int length = MinMatch + CommonPrefixLength(source[(candidate + MinMatch)..], source[(ip + MinMatch)..]);
            if (!writer.Literals(source[literalStart..ip]) || !writer.Match(distance, length))
            {
                return -1;
            }

            ip += length;
            literalStart = ip;
            if (ip - 1 <= limit)
            {
                // Index the match's last position so runs of similar data chain into each other.
                uint tail = BinaryPrimitives.ReadUInt32LittleEndian(source[(ip - 1)..]);
                table[(int)((tail * 2654435761u) >> (32 - HashBits))] = ip;
            }
        }

        return writer.Literals(source[literalStart..]) && writer.End() ? writer.Position : -1;
    }

    private static int CommonPrefixLength(ReadOnlySpan<byte> earlier, ReadOnlySpan<byte> current) =>
        earlier[..Math.Min(earlier.Length, current.Length)].CommonPrefixLength(current);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ReadByte(ReadOnlySpan<byte> source, ref int ip)
    {
        if ((uint)ip >= (uint)source.Length)
        {
            ThrowInputOverrun("instruction needs a byte", ip, source.Length);
        }

        return source[ip++];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int ReadUInt16(ReadOnlySpan<byte> source, ref int ip)
    {
        if (source.Length - ip < 2)
        {
            ThrowInputOverrun("match needs 2 bytes", ip, source.Length);
        }

        int value = BinaryPrimitives.ReadUInt16LittleEndian(source[ip..]);
        ip += 2;
        return value;
    }

    // The continuation of a length whose opcode bits were zero: 255 per zero byte, then the
    // first non-zero byte. Bounded by the input, so at most ~255 * source.Length.
    private static long ReadLengthExtension(ReadOnlySpan<byte> source, ref int ip)
    {
        int zeros = source[ip..].IndexOfAnyExcept((byte)0);
        if (zeros < 0)
        {
            ThrowInputOverrun("length extension running to the end of the stream", ip, source.Length);
        }

        ip += zeros;
        return (255L * zeros) + source[ip++];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyLiterals(ReadOnlySpan<byte> source, ref int ip, Span<byte> destination, ref int op, long count)
    {
        if (count > source.Length - ip)
        {
            ThrowInputOverrun($"{count} literals", ip, source.Length);
        }

        if (count > destination.Length - op)
        {
            ThrowOutputOverrun($"{count} literals at input offset {ip}", op, destination.Length);
        }

        source.Slice(ip, (int)count).CopyTo(destination[op..]);
        ip += (int)count;
        op += (int)count;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void CopyMatch(Span<byte> destination, ref int op, long distance, long length, int ip)
    {
        if (distance > op)
        {
            ThrowLookBehindOverrun(distance, op, ip);
        }

        if (length > destination.Length - op)
        {
            ThrowOutputOverrun($"{length}-byte match before input offset {ip}", op, destination.Length);
        }

        int from = op - (int)distance;
        int n = (int)length;
        if (distance >= length)
        {
            destination.Slice(from, n).CopyTo(destination.Slice(op, n));
        }
        else
        {
            // Overlapping: the match repeats bytes it is producing, so copy forward one by one.
            Span<byte> window = destination.Slice(from, n + (int)distance);
            for (int i = 0; i < n; i++)
            {
                window[i + (int)distance] = window[i];
            }
        }

        op += n;
    }

    [DoesNotReturn]
    private static void ThrowLookBehindOverrun(long distance, int op, int ip) =>
        throw new InvalidDataException($"LZO1X look-behind overrun: match before input offset {ip} reaches {distance} bytes back from output offset {op}");

    [DoesNotReturn]
    private static void ThrowInputOverrun(string what, int offset, int length) =>
        throw new InvalidDataException($"LZO1X input overrun: {what} at offset {offset}, stream is {length} bytes");

    [DoesNotReturn]
    private static void ThrowOutputOverrun(string what, int offset, int length) =>
        throw new InvalidDataException($"LZO1X output overrun: {what} would pass the {length}-byte output at {offset}");

    /// <summary>Emits instructions; tracks where the last match's "S" bits live so a following
    /// run of 1..3 literals can ride in them.</summary>
    private ref struct Writer(Span<byte> destination)
    {
        private readonly Span<byte> _out = destination;
        private int _stateByte = -1; // offset of the previous match's byte holding S, or -1 at the start

        public int Position { get; private set; }

        public bool Literals(ReadOnlySpan<byte> literals)
        {
            int count = literals.Length;
            if (count == 0)
            {
                return true;
            }

            if (_stateByte < 0 && Position == 0 && count <= 238)
            {
                if (!Put((byte)(count + 17)))
                {
                    return false;
                }
            }
            else if (_stateByte >= 0 && count <= 3)
            {
                _out[_stateByte] |= (byte)count;
            }
            else if (count - 3 <= 15)
            {
                if (!Put((byte)(count - 3)))
                {
                    return false;
                }
            }
            else if (!Put(0) || !PutLengthExtension(count - 3 - 15))
            {
                return false;
            }

            if (_out.Length - Position < count)
            {
                return false;
            }

            literals.CopyTo(_out[Position..]);
            Position += count;
            _stateByte = -1;
            return true;
        }

        public bool Match(int distance, int length)
        {
            if (length <= M2MaxLength && distance <= M2MaxOffset)
            {
                int d = distance - 1;
                _stateByte = Position;
                return Put((byte)(((length - 1) << 5) | ((d & 7) << 2))) && Put((byte)(d >> 3));
            }

            bool ok;
            if (distance <= M3MaxOffset)
            {
                ok = length - 2 <= 31
                    ? Put((byte)(M3Marker | (length - 2)))
                    : Put(M3Marker) && PutLengthExtension(length - 2 - 31);
                distance -= 1;
            }
            else
            {
                distance -= M3MaxOffset;
                byte high = (byte)((distance & 0x4000) >> 11);
                ok = length - 2 <= 7
                    ? Put((byte)(M4Marker | high | (length - 2)))
                    : Put((byte)(M4Marker | high)) && PutLengthExtension(length - 2 - 7);
                distance &= 0x3FFF;
            }

            _stateByte = Position;
            return ok && Put((byte)(distance << 2)) && Put((byte)(distance >> 6));
        }

        public bool End() => Put(M4Marker | 1) && Put(0) && Put(0);

        private bool PutLengthExtension(int value)
        {
            while (value > 255)
            {
                if (!Put(0))
                {
                    return false;
                }

                value -= 255;
            }

            return Put((byte)value);
        }

        private bool Put(byte value)
        {
            if (Position >= _out.Length)
            {
                return false;
            }

            _out[Position++] = value;
            return true;
        }
    }
}
