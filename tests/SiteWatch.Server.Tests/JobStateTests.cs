using Microsoft.Extensions.DependencyInjection;
using SiteWatch.Core;
using SiteWatch.Server.Jobs;

namespace SiteWatch.Server.Tests;

/// <summary>
/// A job's final state is what clients poll for, so it is published last: while the job's clean-up still runs, the
/// job still reads "running" with no error, and once it reads "failed" its error and finish time are there too.
/// </summary>
public sealed class JobStateTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    [Fact]
    public async Task A_failed_job_reads_failed_only_with_its_error_and_after_its_clean_up()
    {
        var queue = server.Services.GetRequiredService<JobQueue>();
        using var cleanupStarted = new ManualResetEventSlim();
        using var releaseCleanup = new ManualResetEventSlim();
        var job = queue.Enqueue("test", server.SiteId, "ana",
            (_, _, _) => throw new SiteWatchException("the work failed"),
            cleanup: () =>
            {
                cleanupStarted.Set();
                releaseCleanup.Wait(TimeSpan.FromSeconds(30));
            });

        Assert.True(cleanupStarted.Wait(TimeSpan.FromSeconds(30)), "the job never reached its clean-up");
        Assert.Equal(JobStates.Running, job.State);
        Assert.Null(job.Error);
        Assert.Null(job.FinishedUtc);

        releaseCleanup.Set();
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (job.State == JobStates.Running && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        Assert.Equal(JobStates.Failed, job.State);
        Assert.Contains("the work failed", job.Error);
        Assert.NotNull(job.FinishedUtc);
    }

    [Fact]
    public async Task A_progress_report_that_arrives_after_the_work_returned_leaves_a_succeeded_job_at_one()
    {
        var queue = server.Services.GetRequiredService<JobQueue>();
        IProgress<double>? late = null;
        var job = queue.Enqueue("test", server.SiteId, "ana", (_, progress, _) =>
        {
            progress.Report(0.5);
            late = progress;
            return null;
        });
        var deadline = DateTime.UtcNow.AddSeconds(30);
        while (job.State != JobStates.Succeeded && DateTime.UtcNow < deadline)
        {
            await Task.Delay(20);
        }
        Assert.Equal(JobStates.Succeeded, job.State);
        // What System.Progress does: the work's helper delivers a report on the thread pool after the work returned.
        late!.Report(0.9);
        Assert.Equal(1.0, job.Progress);
    }
}
