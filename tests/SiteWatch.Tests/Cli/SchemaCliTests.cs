using System.Text.Json;

namespace SiteWatch.Tests.Cli;

public sealed class SchemaCliTests
{
    [Fact]
    public void Schema_zones_prints_the_zone_files_json_schema_and_writes_it_to_a_file()
    {
        var (code, output, err) = CliTests.Run(null, "schema", "zones");
        Assert.True(code == 0, err);
        using var schema = JsonDocument.Parse(output);
        Assert.Equal("https://json-schema.org/draft/2020-12/schema", schema.RootElement.GetProperty("$schema").GetString());
        Assert.Contains("the zone's name", output, StringComparison.OrdinalIgnoreCase);

        using var dir = new TempDir();
        Assert.Equal(0, CliTests.Run(null, "schema", "zones", "--out", dir.File("zones.schema.json")).Code);
        Assert.Equal(output.Trim(), File.ReadAllText(dir.File("zones.schema.json")).Trim());

        var rules = CliTests.Run(null, "schema", "rules");
        Assert.True(rules.Code == 0, rules.Err);
        Assert.Equal("SiteWatch alert rules", JsonDocument.Parse(rules.Out).RootElement.GetProperty("title").GetString());

        var unknown = CliTests.Run(null, "schema", "roads");
        Assert.Equal(2, unknown.Code);
        Assert.Contains("the schemas are: zones, rules", unknown.Err);
    }
}
