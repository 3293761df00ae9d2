// SPDX-License-Identifier: MIT
namespace Crfs.Posix;

/// <summary>
/// The file type held in the <c>S_IFMT</c> bits of a mode. The values are the mode bits
/// themselves, so <c>(FileType)(mode &amp; ModeBits.TypeMask)</c> converts a mode and a type can be
/// or-ed into permission bits. Directory entries (<c>d_type</c>, <c>DT_*</c>) use the same numbers
/// shifted right by 12; see <see cref="FileTypes.ToDirentType"/>.
/// </summary>
public enum FileType : uint
{
    Unknown = 0,
    Fifo = 0x1000,
    CharacterDevice = 0x2000,
    Directory = 0x4000,
    BlockDevice = 0x6000,
    RegularFile = 0x8000,
    SymbolicLink = 0xA000,
    Socket = 0xC000,
}

/// <summary>Conversions between <see cref="FileType"/>, modes and <c>d_type</c> values.</summary>
public static class FileTypes
{
    public static FileType FromMode(uint mode) => (FileType)(mode & ModeBits.TypeMask);

    /// <summary>The <c>DT_*</c> value of a type (DT_REG = 8, DT_DIR = 4, ...).</summary>
    public static uint ToDirentType(this FileType type) => (uint)type >> 12;

    public static FileType FromDirentType(uint direntType) => (FileType)((direntType & 0xF) << 12);
}
