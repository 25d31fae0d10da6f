using System.Net.Http.Json;
using System.Text.Json;
using System.Threading.Channels;
using Microsoft.AspNetCore.SignalR;
using Microsoft.AspNetCore.SignalR.Client;
using SiteWatch.Core.Catalog;
using SiteWatch.Server.Auth;
using SiteWatch.Server.Live;

namespace SiteWatch.Server.Tests;

/// <summary>The live feed over a real SignalR connection: only for signed-in users; alerts stored by another process and job progress arrive.</summary>
public class LiveTests(ServerFixture server) : IClassFixture<ServerFixture>
{
    private string NewKey(string user)
    {
        using var workspace = Workspace.Open(server.WorkspaceDirectory);
        return UserAccounts.NewApiKey(workspace.Catalog, workspace.Catalog.TryGetUser(user)!);
    }

    private HubConnection Connect(string? key) => new HubConnectionBuilder()
        .WithUrl(new Uri(server.BaseAddress, EventsHub.Path), o =>
        {
            if (key is not null)
            {
                o.Headers["X-Api-Key"] = key;
            }
        })
        .Build();

    [Fact]
    public async Task Without_a_user_the_hub_refuses_the_connection()
    {
        await using var anonymous = Connect(null);
        var error = await Assert.ThrowsAsync<HttpRequestException>(() => anonymous.StartAsync());
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, error.StatusCode);
        await using var wrong = Connect("sw_not-a-key");
        Assert.Equal(System.Net.HttpStatusCode.Unauthorized, (await Assert.ThrowsAsync<HttpRequestException>(() => wrong.StartAsync())).StatusCode);
    }

    [Fact]
    public async Task An_alert_stored_by_another_process_and_a_jobs_progress_reach_a_follower()
    {
        var key = NewKey("vic");
        var alerts = Channel.CreateUnbounded<JsonElement>();
        var jobs = Channel.CreateUnbounded<JsonElement>();
        await using var connection = Connect(key);
        connection.On<JsonElement>("alert", a => alerts.Writer.TryWrite(a));
        connection.On<JsonElement>("job", j => jobs.Writer.TryWrite(j));
        await connection.StartAsync();
        await Assert.ThrowsAsync<HubException>(() => connection.InvokeAsync("FollowSite", 987654L));
        await connection.InvokeAsync("FollowSite", server.SiteId);

        // As `watch --site` would: another connection to the catalog stores an alert.
        using (var other = Workspace.Open(server.WorkspaceDirectory))
        {
            other.Catalog.CommitAlert(new AlertRecord
            {
                Id = 0, SiteId = server.SiteId, Source = "video", RuleName = "border", Kind = "zone_entry",
                RaisedUtc = DateTime.UtcNow, ObservedUtc = DateTime.UtcNow, Severity = "warning",
                Message = "vehicle entered the border zone", Evidence = "{}", Key = $"live-test:{Guid.NewGuid():N}",
            }, []);
        }
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        var alert = await alerts.Reader.ReadAsync(timeout.Token);
        Assert.Equal("vehicle entered the border zone", alert.GetProperty("message").GetString());

        // An analyst starts a change run; the viewer following the site sees it through to the end.
        using var analyst = server.Client();
        analyst.DefaultRequestHeaders.Add("X-Api-Key", NewKey("ana"));
        var started = await analyst.PostAsJsonAsync($"/api/sites/{server.SiteId}/change", new { before = "2024-03-14", after = "2024-10-15", method = "cva" });
        Assert.Equal(System.Net.HttpStatusCode.Accepted, started.StatusCode);
        var id = (await started.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("id").GetString();
        var states = new List<string>();
        while (true)
        {
            var job = await jobs.Reader.ReadAsync(timeout.Token);
            if (job.GetProperty("id").GetString() != id)
            {
                continue;
            }
            states.Add(job.GetProperty("state").GetString()!);
            if (states[^1] is "succeeded" or "failed")
            {
                break;
            }
        }
        Assert.Equal("running", states[0]);
        Assert.Equal("succeeded", states[^1]);
    }
}
