using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using Amazon.Runtime;
using Amazon.S3;
using Amazon.S3.Model;
using SiteWatch.Gdal;

namespace SiteWatch.Core.Catalog;

/// <summary>
/// Where a workspace keeps its scenes' COGs (stored paths under imagery/): the workspace folder (the default), or an
/// S3-compatible bucket, written with an S3 client and read by GDAL through /vsis3/. Results (change runs,
/// detections, alerts' chips, recordings) stay in the workspace folder.
/// </summary>
public abstract class ImageryStore : IDisposable
{
    /// <summary>Where stored imagery lives, as messages name it.</summary>
    public abstract string Location { get; }

    /// <summary>
    /// True when publishing is a rename (done inside the catalog's commit, so row and file appear together); false
    /// when it is an upload (done before the commit: the row is written only once the object is there).
    /// </summary>
    public abstract bool PublishesInsideCommit { get; }

    /// <summary>The path GDAL opens for a stored path.</summary>
    public abstract string ReadPath(string stored);

    /// <summary>Puts a staged local file at its stored path.</summary>
    public abstract void Publish(string stagedFile, string stored, CancellationToken cancel = default);

    /// <summary>Removes a stored file (best effort: an unreferenced file is harmless).</summary>
    public abstract void Remove(string stored);

    public abstract bool Exists(string stored);

    /// <summary>The stored file's bytes, from the start (hash checks).</summary>
    public abstract Stream OpenRead(string stored);

    /// <summary>A time-limited URL a client can download the file from directly; null when the server serves it itself.</summary>
    public virtual Uri? DownloadUrl(string stored, TimeSpan validFor) => null;

    public virtual void Dispose()
    {
    }

    /// <summary>The store a workspace names in its storage.json, or its own folder.</summary>
    internal static ImageryStore For(string workspaceRoot)
    {
        var file = Path.Combine(workspaceRoot, StorageSettings.FileName);
        return File.Exists(file) ? S3ImageryStore.From(StorageSettings.Read(file)) : new LocalImageryStore(workspaceRoot);
    }
}

/// <summary>Imagery in the workspace folder: publishing is a rename on the same file system.</summary>
public sealed class LocalImageryStore(string root) : ImageryStore
{
    public override string Location => Path.Combine(root, "imagery");
    public override bool PublishesInsideCommit => true;
    public override string ReadPath(string stored) => Path.Combine(root, stored);

    public override void Publish(string stagedFile, string stored, CancellationToken cancel = default)
    {
        var final = Path.Combine(root, stored);
        Directory.CreateDirectory(Path.GetDirectoryName(final)!);
        File.Move(stagedFile, final, overwrite: false);
    }

    public override void Remove(string stored) => File.Delete(Path.Combine(root, stored));

    public override bool Exists(string stored) => File.Exists(Path.Combine(root, stored));

    public override Stream OpenRead(string stored) => new FileStream(Path.Combine(root, stored), FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
}

/// <summary>
/// storage.json: the bucket (s3://BUCKET/PREFIX) and endpoint of a workspace's imagery. Credentials are not in it:
/// the S3 client and GDAL both read AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY or ~/.aws/credentials.
/// </summary>
public sealed record StorageSettings(
    [property: JsonPropertyName("imagery")] string Imagery,
    [property: JsonPropertyName("endpoint")] string? Endpoint,
    [property: JsonPropertyName("region")] string Region)
{
    public const string FileName = "storage.json";

    /// <summary>Upload attempts before giving up, and the first wait between two (doubling each time).</summary>
    [JsonPropertyName("attempts")]
    public int Attempts { get; init; } = 6;

    [JsonPropertyName("first_backoff_s")]
    public double FirstBackoffSeconds { get; init; } = 1;

    public static StorageSettings Read(string file)
    {
        try
        {
            return JsonSerializer.Deserialize<StorageSettings>(File.ReadAllText(file)) ?? throw new JsonException("null");
        }
        catch (Exception e) when (e is JsonException or IOException or UnauthorizedAccessException)
        {
            throw new SiteWatchException($"{file}: cannot read the imagery store settings ({e.Message}); expected {{\"imagery\": \"s3://BUCKET/PREFIX\", \"endpoint\": null, \"region\": \"us-east-1\"}}");
        }
    }

    public void Write(string file)
    {
        File.WriteAllText(file + ".tmp", JsonSerializer.Serialize(this, new JsonSerializerOptions { WriteIndented = true }));
        File.Move(file + ".tmp", file, overwrite: true);
    }
}

/// <summary>
/// Imagery in an S3-compatible bucket. An upload is retried with exponential backoff (1, 2, 4, 8, 16 s by default,
/// <see cref="StorageSettings.Attempts"/>) when the store cannot be reached or answers 5xx; the catalog row is written
/// only after it succeeded.
/// </summary>
public sealed class S3ImageryStore : ImageryStore
{
    private readonly AmazonS3Client _client;
    private readonly string _bucket;
    private readonly string _prefix;

    private S3ImageryStore(StorageSettings settings, string bucket, string prefix)
    {
        Settings = settings;
        _bucket = bucket;
        _prefix = prefix;
        var config = new AmazonS3Config
        {
            RegionEndpoint = Amazon.RegionEndpoint.GetBySystemName(settings.Region),
            MaxErrorRetry = 0, // ours below, with a message naming the store
            Timeout = TimeSpan.FromMinutes(5),
            // Plain bodies with a Content-MD5-free single PUT: S3-compatible servers that do not speak the SDK's
            // default aws-chunked trailing checksums would otherwise store the chunk framing as the object.
            RequestChecksumCalculation = RequestChecksumCalculation.WHEN_REQUIRED,
            ResponseChecksumValidation = ResponseChecksumValidation.WHEN_REQUIRED,
        };
        if (settings.Endpoint is { } endpoint)
        {
            // MinIO, s3rver and other S3-compatible servers: path-style addressing on their own endpoint.
            config.ServiceURL = endpoint;
            config.ForcePathStyle = true;
            config.AuthenticationRegion = settings.Region;
        }
        _client = new AmazonS3Client(config);
        ConfigureGdal(settings);
    }

    public StorageSettings Settings { get; }

    public override string Location => Settings.Imagery;
    public override bool PublishesInsideCommit => false;

    public static S3ImageryStore From(StorageSettings settings)
    {
        if (!Uri.TryCreate(settings.Imagery, UriKind.Absolute, out var uri) || uri.Scheme != "s3" || uri.Host.Length == 0)
        {
            throw new SiteWatchException($"imagery store '{settings.Imagery}' is not an s3://BUCKET/PREFIX address");
        }
        if (settings.Endpoint is { } endpoint && !(Uri.TryCreate(endpoint, UriKind.Absolute, out var e) && e.Scheme is "http" or "https"))
        {
            throw new SiteWatchException($"S3 endpoint '{endpoint}' is not an http(s) URL");
        }
        return new S3ImageryStore(settings, uri.Host, uri.AbsolutePath.Trim('/'));
    }

    /// <summary>GDAL's /vsis3/ reads the same bucket: the endpoint and addressing from the settings, keys from the environment.</summary>
    private static void ConfigureGdal(StorageSettings settings)
    {
        GdalEnvironment.SetConfigOption("AWS_REGION", settings.Region);
        // GDAL reads the process's native environment, which .NET does not update: the keys as .NET sees them (the
        // environment at start, or set since) are handed to GDAL's configuration, in memory only.
        foreach (var key in new[] { "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN" })
        {
            if (Environment.GetEnvironmentVariable(key) is { Length: > 0 } value)
            {
                GdalEnvironment.SetConfigOption(key, value);
            }
        }
        if (settings.Endpoint is { } endpoint)
        {
            var uri = new Uri(endpoint);
            GdalEnvironment.SetConfigOption("AWS_S3_ENDPOINT", uri.IsDefaultPort ? uri.Host : $"{uri.Host}:{uri.Port}");
            GdalEnvironment.SetConfigOption("AWS_HTTPS", uri.Scheme == "https" ? "YES" : "NO");
            GdalEnvironment.SetConfigOption("AWS_VIRTUAL_HOSTING", "FALSE");
        }
    }


    private string Key(string stored) => (_prefix.Length > 0 ? _prefix + "/" : "") + stored.Replace('\\', '/');

    public override string ReadPath(string stored) => $"/vsis3/{_bucket}/{Key(stored)}";

    public override void Publish(string stagedFile, string stored, CancellationToken cancel = default)
    {
        var wait = TimeSpan.FromSeconds(Settings.FirstBackoffSeconds);
        for (var attempt = 1; ; attempt++)
        {
            try
            {
                _client.PutObjectAsync(new PutObjectRequest { BucketName = _bucket, Key = Key(stored), FilePath = stagedFile, UseChunkEncoding = false }, cancel).GetAwaiter().GetResult();
                return;
            }
            catch (OperationCanceledException) when (cancel.IsCancellationRequested)
            {
                throw;
            }
            catch (Exception e) when (Transient(e) && attempt < Settings.Attempts)
            {
                Thread.Sleep(wait);
                wait *= 2;
            }
            catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException)
            {
                throw new SiteWatchException($"{Location}: cannot store {stored} ({Reason(e)}) after {attempt} attempt(s); the scene was not added", e);
            }
        }
    }

    public override void Remove(string stored)
    {
        try
        {
            _client.DeleteObjectAsync(_bucket, Key(stored)).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException or IOException)
        {
            // An object no row references is harmless.
        }
    }

    public override bool Exists(string stored)
    {
        try
        {
            _client.GetObjectMetadataAsync(_bucket, Key(stored)).GetAwaiter().GetResult();
            return true;
        }
        catch (AmazonS3Exception e) when (e.StatusCode == HttpStatusCode.NotFound)
        {
            return false;
        }
    }

    public override Stream OpenRead(string stored)
    {
        try
        {
            return _client.GetObjectAsync(_bucket, Key(stored)).GetAwaiter().GetResult().ResponseStream;
        }
        catch (Exception e) when (e is AmazonServiceException or AmazonClientException or HttpRequestException)
        {
            throw new SiteWatchException($"{Location}: cannot read {stored} ({Reason(e)})", e);
        }
    }

    public override Uri? DownloadUrl(string stored, TimeSpan validFor) => new(_client.GetPreSignedURL(new GetPreSignedUrlRequest
    {
        BucketName = _bucket,
        Key = Key(stored),
        Verb = HttpVerb.GET,
        Expires = DateTime.UtcNow + validFor,
        Protocol = Settings.Endpoint is { } endpoint && endpoint.StartsWith("http:", StringComparison.Ordinal) ? Protocol.HTTP : Protocol.HTTPS,
    }));

    public override void Dispose() => _client.Dispose();

    /// <summary>The objects under a stored folder (e.g. imagery/), as stored paths.</summary>
    public IReadOnlyList<string> List(string storedFolder)
    {
        var keys = new List<string>();
        var request = new ListObjectsV2Request { BucketName = _bucket, Prefix = Key(storedFolder.TrimEnd('/') + "/") };
        ListObjectsV2Response response;
        do
        {
            response = _client.ListObjectsV2Async(request).GetAwaiter().GetResult();
            keys.AddRange((response.S3Objects ?? []).Select(o => _prefix.Length > 0 ? o.Key[(_prefix.Length + 1)..] : o.Key));
            request.ContinuationToken = response.NextContinuationToken;
        }
        while (response.IsTruncated == true);
        return keys;
    }

    private static bool Transient(Exception e) => e switch
    {
        AmazonServiceException s => (int)s.StatusCode >= 500 || s.StatusCode == HttpStatusCode.TooManyRequests || s.InnerException is HttpRequestException,
        HttpRequestException or IOException or TimeoutException or TaskCanceledException => true,
        AmazonClientException => true,
        _ => false,
    };

    private static string Reason(Exception e)
    {
        for (var inner = e; inner is not null; inner = inner.InnerException)
        {
            if (inner is HttpRequestException { InnerException: System.Net.Sockets.SocketException socket })
            {
                return $"unreachable: {socket.Message}";
            }
        }
        return e.Message;
    }
}
