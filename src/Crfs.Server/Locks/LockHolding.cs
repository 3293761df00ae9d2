// SPDX-License-Identifier: MIT
using Crfs.Protocol.Messages;

namespace Crfs.Server.Locks;

/// <summary>One session's grant on one lock, as the server sees it.</summary>
/// <param name="RevokeTarget">The mode an outstanding revoke asks for, or null when none is outstanding.</param>
public readonly record struct LockHolding(ulong Session, KeyRange Range, LockMode Mode, ulong GrantGen, LockMode? RevokeTarget);
