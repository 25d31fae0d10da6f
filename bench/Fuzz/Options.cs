using System.Globalization;

namespace SiteWatch.Fuzz;

internal sealed class Options
{
    public double Seconds { get; private set; } = 60;

    /// <summary>Wall-clock deadline (Unix ms) handed from the supervisor to its workers.</summary>
    public long UntilUnixMs { get; private set; }

    public string Work { get; private set; } = "bench/results/fuzz";

    public string Crashers { get; private set; } = "tests/SiteWatch.Video.Tests/Fuzz/crashers";

    public string? Shared { get; private set; }

    /// <summary>One input running longer than this is a hang (generous: the machine is shared and loaded).</summary>
    public int TimeoutMs { get; private set; } = 5000;

    public int Seed { get; private set; } = Environment.TickCount;

    public int MaxLength { get; private set; } = 64 * 1024;

    public string CorpusDir(string target) => Path.Combine(Work, "corpus", target);

    public string StateFile(string target) => Path.Combine(Work, $"{target}.state");

    public string CrasherDir(string target) => Path.Combine(Crashers, target);

    public static Options Parse(string[] args)
    {
        var o = new Options();
        for (var i = 0; i < args.Length; i++)
        {
            var value = i + 1 < args.Length ? args[i + 1] : throw new ArgumentException($"{args[i]} needs a value");
            switch (args[i])
            {
                case "--seconds": o.Seconds = double.Parse(value, CultureInfo.InvariantCulture); break;
                case "--until": o.UntilUnixMs = long.Parse(value, CultureInfo.InvariantCulture); break;
                case "--work": o.Work = value; break;
                case "--crashers": o.Crashers = value; break;
                case "--shared": o.Shared = Directory.Exists(value) ? value : null; break;
                case "--timeout-ms": o.TimeoutMs = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--seed": o.Seed = int.Parse(value, CultureInfo.InvariantCulture); break;
                case "--max-len": o.MaxLength = int.Parse(value, CultureInfo.InvariantCulture); break;
                default: throw new ArgumentException($"unknown option {args[i]}");
            }

            i++;
        }

        return o;
    }

    public string[] ToWorkerArgs(long untilUnixMs, int seed)
    {
        var list = new List<string>
        {
            "--until", untilUnixMs.ToString(CultureInfo.InvariantCulture), "--work", Work, "--crashers", Crashers,
            "--timeout-ms", TimeoutMs.ToString(CultureInfo.InvariantCulture), "--seed", seed.ToString(CultureInfo.InvariantCulture),
            "--max-len", MaxLength.ToString(CultureInfo.InvariantCulture),
        };
        if (Shared is not null)
        {
            list.AddRange(["--shared", Shared]);
        }

        return [.. list];
    }
}
