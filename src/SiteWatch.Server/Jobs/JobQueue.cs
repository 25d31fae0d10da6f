using System.Collections.Concurrent;
using System.Threading.Channels;
using SiteWatch.Core;
using SiteWatch.Core.Catalog;
using SiteWatch.Gdal;

namespace SiteWatch.Server.Jobs;

public static class JobStates
{
    public const string Queued = "queued";
    public const string Running = "running";
    public const string Succeeded = "succeeded";
    public const string Failed = "failed";
    public const string Cancelled = "cancelled";
}

/// <summary>The folder a job writes its downloads in, and their addresses.</summary>
public sealed record JobFiles(string Folder, string JobId)
{
    public static string Url(string jobId, string name) => $"/api/jobs/{jobId}/files/{Uri.EscapeDataString(name)}";

    public string Url(string name) => Url(JobId, name);
}

/// <summary>One background job: its state and progress are read by GET /api/jobs/{id} while it runs.</summary>
public sealed class Job
{
    private double _progress;
    private string _state = JobStates.Queued;

    internal Job(string kind, long siteId, string user, Func<Workspace, IProgress<double>, CancellationToken, object?> work, Action? cleanup, string? filesDirectory = null, string? id = null)
    {
        Id = id ?? Guid.NewGuid().ToString("N");
        FilesDirectory = filesDirectory;
        Kind = kind;
        SiteId = siteId;
        User = user;
        Work = work;
        Cleanup = cleanup;
    }

    public string Id { get; }
    public string Kind { get; }
    public long SiteId { get; }
    public string User { get; }
    /// <summary>
    /// Written last when the job ends (after its error, finish time and clean-up), and read with acquire semantics, so a
    /// reader that sees a final state sees all of those too.
    /// </summary>
    public string State
    {
        get => Volatile.Read(ref _state);
        internal set => Volatile.Write(ref _state, value);
    }
    public double Progress => Volatile.Read(ref _progress);
    public string? Error { get; internal set; }
    public object? Result { get; internal set; }
    public DateTime CreatedUtc { get; } = DateTime.UtcNow;
    public DateTime? StartedUtc { get; internal set; }
    public DateTime? FinishedUtc { get; internal set; }
    internal Func<Workspace, IProgress<double>, CancellationToken, object?> Work { get; }
    /// <summary>Runs after the job whatever its outcome (e.g. deletes an uploaded file from staging).</summary>
    internal Action? Cleanup { get; }
    /// <summary>
    /// A folder of its own for the files the job makes for download (a report, an export, a timelapse), served at
    /// /api/jobs/{id}/files/{name} after it succeeds and deleted when the job is forgotten.
    /// </summary>
    internal string? FilesDirectory { get; }

    internal void DeleteFiles()
    {
        if (FilesDirectory is not null && Directory.Exists(FilesDirectory))
        {
            Directory.Delete(FilesDirectory, recursive: true);
        }
    }

    /// <summary>
    /// Progress from the work; ignored once the work has succeeded (<see cref="Succeed"/>), so a report the work's
    /// own helpers deliver late never shows a finished job as less than done. Under a lock: a late report must not
    /// pass the check and then write after <see cref="Succeed"/>.
    /// </summary>
    internal void Report(double fraction)
    {
        lock (_progressGate)
        {
            if (!_succeeded)
            {
                Volatile.Write(ref _progress, Math.Clamp(fraction, 0, 1));
            }
        }
    }

    /// <summary>The work returned: progress is 1 from now on.</summary>
    internal void Succeed()
    {
        lock (_progressGate)
        {
            _succeeded = true;
            Volatile.Write(ref _progress, 1);
        }
    }

    private readonly Lock _progressGate = new();
    private bool _succeeded;

    public object View() => new
    {
        id = Id,
        kind = Kind,
        site_id = SiteId,
        user = User,
        state = State,
        progress = Math.Round(Progress, 3),
        error = Error,
        result = Result,
        created_utc = CreatedUtc,
        started_utc = StartedUtc,
        finished_utc = FinishedUtc,
    };
}

/// <summary>
/// The background job queue: a bounded channel (a full queue answers 503, never blocks a request) drained by one
/// hosted worker, so long GDAL/ONNX work never runs on a request thread and never runs many at once.
/// Jobs live in memory: a restart forgets them (their results are in the catalog). Finished jobs are kept for
/// <see cref="ServerSettings.JobRetentionMinutes"/> and at most <see cref="ServerSettings.MaxFinishedJobs"/> of them,
/// so a long-running server's job list does not grow without bound.
/// </summary>
public sealed class JobQueue
{
    private readonly Channel<Job> _channel;
    private readonly ConcurrentDictionary<string, Job> _jobs = new();
    private readonly TimeSpan _retention;
    private readonly int _maxFinished;
    private readonly TimeProvider _clock;

    public JobQueue(int capacity, TimeSpan retention, int maxFinished, TimeProvider? clock = null)
    {
        _channel = Channel.CreateBounded<Job>(new BoundedChannelOptions(capacity) { FullMode = BoundedChannelFullMode.Wait, SingleReader = true });
        _retention = retention;
        _maxFinished = Math.Max(0, maxFinished);
        _clock = clock ?? TimeProvider.System;
    }

    internal ChannelReader<Job> Reader => _channel.Reader;

    /// <summary>Forgets finished jobs past their retention, and the oldest finished ones beyond the cap.</summary>
    internal void Evict()
    {
        var now = _clock.GetUtcNow().UtcDateTime;
        var finished = _jobs.Values.Where(j => j.FinishedUtc is not null).OrderByDescending(j => j.FinishedUtc).ToList();
        for (var i = 0; i < finished.Count; i++)
        {
            if ((i >= _maxFinished || now - finished[i].FinishedUtc!.Value > _retention) && _jobs.TryRemove(finished[i].Id, out var gone))
            {
                try
                {
                    gone.DeleteFiles();
                }
                catch (IOException)
                {
                    // Still being downloaded: the folder goes with the server's files folder at shutdown.
                }
            }
        }
    }

    /// <summary>Where jobs' download folders live: a folder of this server process under the system's temporary folder.</summary>
    public string FilesRoot { get; } = Path.Combine(Path.GetTempPath(), "sitewatch-server", $"{Environment.ProcessId}-{Guid.NewGuid():N}");

    /// <summary>A job that makes files for download: <paramref name="work"/> gets the folder to write them in and their addresses.</summary>
    public Job EnqueueWithFiles(string kind, long siteId, string user, Func<Workspace, JobFiles, IProgress<double>, CancellationToken, object?> work)
    {
        var id = Guid.NewGuid().ToString("N");
        var files = new JobFiles(Path.Combine(FilesRoot, id), id);
        Directory.CreateDirectory(files.Folder);
        return Enqueue(kind, siteId, user, (w, p, c) => work(w, files, p, c), cleanup: null, filesDirectory: files.Folder, id: id);
    }

    /// <summary>Removes every job's files (server shutdown).</summary>
    internal void DeleteAllFiles()
    {
        if (Directory.Exists(FilesRoot))
        {
            Directory.Delete(FilesRoot, recursive: true);
        }
    }

    public Job Enqueue(string kind, long siteId, string user, Func<Workspace, IProgress<double>, CancellationToken, object?> work, Action? cleanup = null,
        string? filesDirectory = null, string? id = null)
    {
        Evict();
        var job = new Job(kind, siteId, user, work, cleanup, filesDirectory, id);
        _jobs[job.Id] = job;
        if (!_channel.Writer.TryWrite(job))
        {
            _jobs.TryRemove(job.Id, out _);
            cleanup?.Invoke();
            job.DeleteFiles();
            throw new HttpProblem(StatusCodes.Status503ServiceUnavailable, "the job queue is full; try again later");
        }
        return job;
    }

    public Job? Find(string id)
    {
        Evict();
        return _jobs.GetValueOrDefault(id);
    }

    public IReadOnlyList<Job> All()
    {
        Evict();
        return _jobs.Values.OrderByDescending(j => j.CreatedUtc).ToList();
    }
}

internal sealed class JobWorker(JobQueue queue, WorkspaceHost host, Live.JobEvents events, ILogger<JobWorker> logger) : BackgroundService
{
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        try
        {
            await foreach (var job in queue.Reader.ReadAllAsync(stoppingToken))
            {
                // GDAL and ONNX work is synchronous: a thread-pool thread of its own, cancelled on shutdown.
                await Task.Run(() => RunJob(job, stoppingToken), CancellationToken.None);
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private void RunJob(Job job, CancellationToken stop)
    {
        job.StartedUtc = DateTime.UtcNow;
        job.State = JobStates.Running;
        logger.LogInformation("job {JobId} ({Kind}, site {SiteId}) started by {User}", job.Id, job.Kind, job.SiteId, job.User);
        events.Changed(job);
        // The outcome is published only after the clean-up: a client polling the job never sees it failed without
        // its error, or succeeded before its files are in place.
        string state;
        string? error = null;
        try
        {
            using var workspace = host.OpenSeparate();
            job.Result = job.Work(workspace, new Core.SyncProgress<double>(p =>
            {
                job.Report(p);
                events.Changed(job, progressOnly: true);
            }), stop);
            job.Succeed();
            state = JobStates.Succeeded;
        }
        catch (OperationCanceledException)
        {
            state = JobStates.Cancelled;
            error = "the server stopped before the job finished";
        }
        catch (Exception e) when (e is SiteWatchException or GdalException or IOException or UnauthorizedAccessException or HttpProblem)
        {
            state = JobStates.Failed;
            // Any signed-in user may read a job: the server's paths stay in its log.
            error = ErrorMapping.Redact(e is SiteWatchException s ? ErrorMapping.Text(s) : e.Message, host.Root);
            logger.LogWarning("job {JobId} failed: {Message}", job.Id, e.Message);
        }
        catch (Exception e)
        {
            state = JobStates.Failed;
            error = "internal error; see the server log";
            logger.LogError(e, "job {JobId} failed", job.Id);
        }
        try
        {
            job.Cleanup?.Invoke();
            if (state != JobStates.Succeeded)
            {
                // A half-made report or export is never offered for download.
                job.DeleteFiles();
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            logger.LogWarning("job {JobId}: cleanup failed: {Message}", job.Id, e.Message);
        }
        job.Error = error;
        job.FinishedUtc = DateTime.UtcNow;
        job.State = state;
        logger.LogInformation("job {JobId} {State}", job.Id, job.State);
        events.Changed(job);
    }
}
