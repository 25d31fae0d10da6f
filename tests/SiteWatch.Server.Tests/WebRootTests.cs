using System.Net;
using System.Net.Sockets;
using System.Text;

namespace SiteWatch.Server.Tests;

/// <summary>A server with a web root: the UI's files without sign-in, and nothing outside the folder, whatever the path.</summary>
public sealed class WebRootFixture : ServerFixture
{
    public string WebRoot => Path.Combine(Root, "web");

    public override IReadOnlyDictionary<string, string?> Settings
    {
        get
        {
            Directory.CreateDirectory(WebRoot);
            File.WriteAllText(Path.Combine(WebRoot, "index.html"), "<!doctype html><title>SiteWatch</title>");
            return new Dictionary<string, string?> { ["Server:WebRoot"] = WebRoot };
        }
    }

    public override bool WithScenes => false;
}

public class WebRootTests(WebRootFixture server) : IClassFixture<WebRootFixture>
{
    [Fact]
    public async Task The_web_roots_files_load_without_sign_in_and_the_api_still_needs_one()
    {
        using var client = server.Client();
        var page = await client.GetAsync("/index.html");
        Assert.Equal(HttpStatusCode.OK, page.StatusCode);
        Assert.Contains("<title>SiteWatch</title>", await page.Content.ReadAsStringAsync());
        Assert.Equal(HttpStatusCode.Unauthorized, (await client.GetAsync("/api/sites")).StatusCode);
    }

    [Theory]
    [InlineData("/..%2Fws%2Fsitewatch.db")]
    [InlineData("/%2e%2e/ws/sitewatch.db")]
    [InlineData("/%252e%252e%252fws%252fsitewatch.db")]
    [InlineData("/../ws/sitewatch.db")]
    [InlineData("/..\\ws\\sitewatch.db")]
    [InlineData("/../../../../etc/passwd")]
    [InlineData("/%2e%2e%2f%2e%2e%2f%2e%2e%2f%2e%2e%2fetc%2fpasswd")]
    public async Task Paths_out_of_the_web_root_serve_nothing(string path)
    {
        using var tcp = new TcpClient();
        await tcp.ConnectAsync(server.BaseAddress.Host, server.BaseAddress.Port);
        var stream = tcp.GetStream();
        await stream.WriteAsync(Encoding.ASCII.GetBytes($"GET {path} HTTP/1.1\r\nHost: {server.BaseAddress.Authority}\r\nConnection: close\r\n\r\n"));
        using var reader = new StreamReader(stream, Encoding.Latin1);
        var answer = await reader.ReadToEndAsync();
        var status = int.Parse(answer.Split(' ')[1], System.Globalization.CultureInfo.InvariantCulture);
        Assert.True(status is 400 or 401 or 404, $"{path}: {status}");
        Assert.DoesNotContain("SQLite format", answer);
        Assert.DoesNotContain("root:", answer);
    }
}
