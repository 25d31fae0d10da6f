using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using SiteWatch.Core.Catalog;

namespace SiteWatch.Server.Tests;

/// <summary>A server that wants a petabyte free and receives one upload at a time.</summary>
public sealed class TightDiskFixture : ServerFixture
{
    public override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Server:UploadMinFreeBytes"] = (1L << 50).ToString(System.Globalization.CultureInfo.InvariantCulture),
        ["Logging:LogLevel:Default"] = "Warning",
    };
}

public sealed class OneUploadAtATimeFixture : ServerFixture
{
    public override IReadOnlyDictionary<string, string?> Settings => new Dictionary<string, string?>
    {
        ["Server:MaxConcurrentUploads"] = "1",
        ["Logging:LogLevel:Default"] = "Warning",
    };
}

internal static class Store
{
    public static int Files(ServerFixture server) =>
        Directory.EnumerateFiles(Path.Combine(server.WorkspaceDirectory, "imagery"), "*", SearchOption.AllDirectories).Count() +
        Directory.EnumerateFiles(Path.Combine(server.WorkspaceDirectory, ".staging"), "*", SearchOption.AllDirectories).Count();

    public static int StagedFiles(ServerFixture server) =>
        Directory.EnumerateFiles(Path.Combine(server.WorkspaceDirectory, ".staging"), "*", SearchOption.AllDirectories).Count();

    public static int Scenes(ServerFixture server)
    {
        using var workspace = Workspace.Open(server.WorkspaceDirectory);
        return workspace.Catalog.ListScenes(server.SiteId).Count;
    }
}

public sealed class UploadDiskTests(TightDiskFixture server) : IClassFixture<TightDiskFixture>
{
    [Fact]
    public async Task An_upload_that_would_leave_too_little_disk_free_answers_507_and_stores_nothing()
    {
        using var client = await server.SignedIn("ana");
        var files = Store.Files(server);
        var scenes = Store.Scenes(server);
        var file = Scenes.Write(Path.Combine(server.Root, "fits.tif"), after: true);
        var declared = await client.PostAsync($"/api/sites/{server.SiteId}/scenes?filename=fits.tif&date=2024-07-01", new ByteArrayContent(File.ReadAllBytes(file)));
        Assert.Equal(HttpStatusCode.InsufficientStorage, declared.StatusCode);
        var detail = (await declared.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
        Assert.Contains("UploadMinFreeBytes", detail);
        Assert.DoesNotContain(server.WorkspaceDirectory, detail);
        // Without a declared length too.
        var chunked = await client.PostAsync($"/api/sites/{server.SiteId}/scenes?filename=fits.tif&date=2024-07-01", new StreamContent(new Unsized(File.ReadAllBytes(file))));
        Assert.Equal(HttpStatusCode.InsufficientStorage, chunked.StatusCode);
        Assert.Equal(files, Store.Files(server));
        Assert.Equal(scenes, Store.Scenes(server));
    }
}

public sealed class UploadConcurrencyTests(OneUploadAtATimeFixture server) : IClassFixture<OneUploadAtATimeFixture>
{
    [Fact]
    public async Task An_upload_beyond_the_concurrency_limit_answers_503_and_the_slot_frees_afterwards()
    {
        using var first = await server.SignedIn("ana");
        using var second = await server.SignedIn("ana");
        var rest = new TaskCompletionSource();
        var slow = first.PostAsync($"/api/sites/{server.SiteId}/scenes?filename=slow.tif", new HeldContent("II*\0"u8.ToArray(), rest.Task, "not really a TIFF"u8.ToArray()));
        // The first upload holds the only slot once its staged file exists.
        var waited = DateTime.UtcNow;
        while (Store.StagedFiles(server) == 0)
        {
            Assert.True(DateTime.UtcNow - waited < TimeSpan.FromSeconds(10), "the first upload never started");
            await Task.Delay(50);
        }

        var refused = await second.PostAsync($"/api/sites/{server.SiteId}/scenes?filename=b.tif", new ByteArrayContent("II*\0"u8.ToArray()));
        Assert.Equal(HttpStatusCode.ServiceUnavailable, refused.StatusCode);
        Assert.True(refused.Headers.Contains("Retry-After"));

        rest.SetResult();
        Assert.Equal(HttpStatusCode.BadRequest, (await slow).StatusCode);
        // The slot is free again: the next upload gets as far as GDAL.
        var next = await second.PostAsync($"/api/sites/{server.SiteId}/scenes?filename=c.tif", new ByteArrayContent("II*\0 still not a TIFF"u8.ToArray()));
        Assert.Equal(HttpStatusCode.BadRequest, next.StatusCode);
        Assert.Equal(0, Store.StagedFiles(server));
    }
}

/// <summary>A body without a known length: sent chunked, as a streaming client would.</summary>
internal sealed class Unsized(byte[] data) : MemoryStream(data)
{
    public override bool CanSeek => false;
    public override long Length => throw new NotSupportedException();
    public override long Position { get => base.Position; set => throw new NotSupportedException(); }
}

/// <summary>A chunked body whose first bytes are sent (flushed) at once and the rest only when <c>release</c> completes.</summary>
internal sealed class HeldContent(byte[] first, Task release, byte[] rest) : HttpContent
{
    protected override async Task SerializeToStreamAsync(Stream stream, System.Net.TransportContext? context)
    {
        await stream.WriteAsync(first);
        await stream.FlushAsync();
        await release;
        await stream.WriteAsync(rest);
    }

    protected override bool TryComputeLength(out long length)
    {
        length = 0;
        return false;
    }
}
