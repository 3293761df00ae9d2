// SPDX-License-Identifier: MIT
using Crfs.Protocol.Messages;

namespace Crfs.Protocol.Tests;

public sealed class InUseCheckTests
{
    [Fact]
    public void IsInUse_ReadsTheInodesBitWithinItsGroup_LeastSignificantBitFirst()
    {
        byte[] bitmap = new byte[128];
        bitmap[0] = 0b0000_0100; // objectid group·1024 + 2
        bitmap[127] = 0b1000_0000; // group·1024 + 1023
        var reply = new InUseCheckReply(bitmap);

        Assert.True(reply.IsInUse((5 * 1024) + 2));
        Assert.True(reply.IsInUse((5 * 1024) + 1023));
        Assert.False(reply.IsInUse((5 * 1024) + 3));
        Assert.False(reply.IsInUse(5 * 1024));
    }

    [Fact]
    public void IsInUse_OfAnInodeBeyondAShortBitmap_IsTrue_SoDoubtKeepsTheOrphan()
    {
        var reply = new InUseCheckReply(new byte[1]);

        Assert.True(reply.IsInUse(1024 + 8));
        Assert.False(reply.IsInUse(1024 + 7));
    }
}
