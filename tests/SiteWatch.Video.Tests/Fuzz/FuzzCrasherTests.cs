using SiteWatch.Video.Tests.Fuzz;
using Xunit.Abstractions;

namespace SiteWatch.Video.Tests;

/// <summary>
/// Every input the fuzzer (bench/fuzz.sh) ever found crashing or hanging a parser is kept under Fuzz/crashers/TARGET/ and
/// replayed here through the same target code: it must now end in success or the parser's documented error.
/// Hangs are replayed too: a regression hangs the run instead of passing (no wall-clock assertion, as elsewhere).
/// </summary>
public class FuzzCrasherTests
{
    private static string CrasherDirectory => Path.Combine(AppContext.BaseDirectory, "Fuzz", "crashers");

    public static TheoryData<string, string> Crashers()
    {
        var data = new TheoryData<string, string>();
        if (Directory.Exists(CrasherDirectory))
        {
            foreach (var file in Directory.EnumerateFiles(CrasherDirectory, "*.bin", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                var target = Path.GetFileName(Path.GetDirectoryName(file)!);
                data.Add(target, Path.GetFileName(file));
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Crashers))]
    public void Crasher_now_ends_in_success_or_the_documented_error(string target, string file)
    {
        var input = File.ReadAllBytes(Path.Combine(CrasherDirectory, target, file));
        var failure = FuzzTargets.Get(target).Run(input);
        Assert.True(failure is null, $"{target}/{file}: {failure}");
    }

    [Fact]
    public void Every_crasher_folder_names_a_target()
    {
        var known = FuzzTargets.All.Select(t => t.Name).ToHashSet();
        Assert.True(Directory.Exists(CrasherDirectory), $"{CrasherDirectory} is missing (the crashers are copied next to the tests)");
        Assert.All(Directory.EnumerateDirectories(CrasherDirectory), d => Assert.Contains(Path.GetFileName(d), known));
    }

    [Fact]
    public void Every_target_runs_its_own_seeds_cleanly()
    {
        foreach (var target in FuzzTargets.All)
        {
            foreach (var seed in target.Seeds(TestData.KlvDirectory))
            {
                var failure = target.Run(seed);
                Assert.True(failure is null, $"{target.Name} seed: {failure}");
            }
        }
    }
}

/// <summary>
/// Replays a fuzz corpus (bench/fuzz.sh with FUZZ_COVERAGE=1 sets SITEWATCH_FUZZ_CORPUS) so coverlet can measure the
/// parsers' line coverage it reaches; SITEWATCH_FUZZ_REPLAY=seeds replays the built-in seeds alone, the baseline.
/// Skipped in a normal test run.
/// </summary>
public class FuzzCorpusReplay(ITestOutputHelper output)
{
    [SkippableFact]
    public void Replay_corpus()
    {
        var corpus = Environment.GetEnvironmentVariable("SITEWATCH_FUZZ_CORPUS");
        Skip.If(corpus is null, "only for bench/fuzz.sh FUZZ_COVERAGE=1 (SITEWATCH_FUZZ_CORPUS names the corpus folder)");
        var seedsOnly = Environment.GetEnvironmentVariable("SITEWATCH_FUZZ_REPLAY") == "seeds";
        foreach (var target in FuzzTargets.All)
        {
            var inputs = target.Seeds(TestData.KlvDirectory).ToList();
            var dir = Path.Combine(corpus, target.Name);
            if (!seedsOnly && Directory.Exists(dir))
            {
                inputs.AddRange(Directory.EnumerateFiles(dir).Select(File.ReadAllBytes));
            }

            var failures = inputs.Count(input => target.Run(input) is not null);
            output.WriteLine($"{target.Name}: {inputs.Count} inputs, {failures} crash");
        }
    }
}
