// SPDX-License-Identifier: MIT
namespace Crfs.Protocol;

/// <summary>Which end of a session a <see cref="CrfsConnection"/> is: the client greets, the server answers.</summary>
public enum ConnectionRole
{
    Client,
    Server,
}

/// <summary>Where a <see cref="CrfsConnection"/> is in its life.</summary>
public enum ConnectionState
{
    /// <summary>No transport. Requests queue; with resumption enabled, the stream state waits for the next transport.</summary>
    Detached,

    /// <summary>A transport is being greeted; nothing but HELLO travels yet.</summary>
    Greeting,

    /// <summary>Greeted; both loops run.</summary>
    Attached,

    /// <summary>Final. Every request in flight failed with <see cref="ConnectionClosedException"/>.</summary>
    Closed,
}
