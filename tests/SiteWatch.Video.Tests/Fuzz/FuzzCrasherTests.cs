using SiteWatch.Video.Tests.Fuzz;

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
            foreach (var file in Directory.EnumerateFiles(CrasherDirectory, "*", SearchOption.AllDirectories).Order(StringComparer.Ordinal))
            {
                var target = Path.GetFileName(Path.GetDirectoryName(file)!);
                data.Add(target, Path.GetFileName(file));
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Crashers))]
    public void CrasherNowEndsInSuccessOrTheDocumentedError(string target, string file)
    {
        var input = File.ReadAllBytes(Path.Combine(CrasherDirectory, target, file));
        var failure = FuzzTargets.Get(target).Run(input);
        Assert.True(failure is null, $"{target}/{file}: {failure}");
    }

    [Fact]
    public void EveryCrasherFolderNamesATarget()
    {
        var known = FuzzTargets.All.Select(t => t.Name).ToHashSet();
        Assert.True(Directory.Exists(CrasherDirectory), $"{CrasherDirectory} is missing (the crashers are copied next to the tests)");
        Assert.All(Directory.EnumerateDirectories(CrasherDirectory), d => Assert.Contains(Path.GetFileName(d), known));
    }

    [Fact]
    public void EveryTargetRunsItsOwnSeedsCleanly()
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
