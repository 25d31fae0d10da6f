namespace SiteWatch.Cluster;

/// <summary>
/// A grain's heartbeat reminder, made sure of on request from any silo. The reminder table lives in PostgreSQL: while
/// the database restarts, the reminder service fails with the driver's exception, which Orleans cannot carry back to
/// the calling silo (it has no codec for it). The caller gets an <see cref="OrleansException"/> with the message
/// instead, which it logs before trying again at its next heartbeat.
/// </summary>
internal static class Reminders
{
    /// <summary>Registers <paramref name="name"/> (first tick in a second, then every <paramref name="period"/>) unless it exists; true when registered now.</summary>
    public static async Task<bool> EnsureAsync(Grain grain, string name, TimeSpan period)
    {
        try
        {
            if (await grain.GetReminder(name) is not null)
            {
                return false;
            }
            await grain.RegisterOrUpdateReminder(name, TimeSpan.FromSeconds(1), period);
            return true;
        }
        catch (Exception e) when (e is not OrleansException and not OperationCanceledException)
        {
            throw new OrleansException($"reminder '{name}' of {grain.GetGrainId()}: the reminder table is unavailable: {e.Message}");
        }
    }
}
