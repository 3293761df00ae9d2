// SPDX-License-Identifier: MIT
namespace Crfs.Coherence.Tests.Infrastructure;

/// <summary>
/// Results of tasks the harness has already settled. Nothing here waits: a task that is not
/// complete is a test failure, not a reason to block.
/// </summary>
internal static class Settled
{
    public static T Of<T>(Task<T> task)
    {
        Assert.True(task.IsCompletedSuccessfully, $"expected a completed task, found {task.Status}");
        return task.GetAwaiter().GetResult();
    }
}
