using System.Diagnostics;
using System.Globalization;
using System.Security.Cryptography;

namespace SiteWatch.Fuzz;

/// <summary>
/// Runs one target for its time budget in worker processes: when a worker dies (a stack overflow cannot be caught
/// in .NET) or its watchdog ends it (a hang), the input it was running is kept as a crasher and a new worker goes on
/// with the corpus on disk. Prints one summary line.
/// </summary>
internal static class Supervisor
{
    public static int Run(string targetName, Options options)
    {
        var target = SelfTestTargets.Get(targetName);
        Directory.CreateDirectory(options.Work);
        Directory.CreateDirectory(options.CrasherDir(target.Name));
        var until = DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() + (long)(options.Seconds * 1000);
        var clock = Stopwatch.StartNew();
        long execs = 0;
        int features = 0, edges = 0, corpus = 0, crashers = 0, workers = 0, abnormal = 0;
        var seed = options.Seed;
        if (!Instrumentation.IsActive())
        {
            Console.WriteLine($"[{target.Name}] warning: the parsers are not instrumented (run `SiteWatch.Fuzz instrument DIR` first): no coverage feedback");
        }

        while (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() < until - 500)
        {
            var state = options.StateFile(target.Name);
            File.Delete(state);
            var start = new ProcessStartInfo(Environment.ProcessPath!) { UseShellExecute = false };
            foreach (var a in (string[])["worker", target.Name, .. options.ToWorkerArgs(until, seed++)])
            {
                start.ArgumentList.Add(a);
            }

            using var process = Process.Start(start)!;
            process.WaitForExit();
            workers++;
            if (!File.Exists(state))
            {
                Console.WriteLine($"[{target.Name}] worker exited with {process.ExitCode} before it started");
                return 1;
            }

            var s = Worker.ReadState(state);
            execs += s.Execs;
            features = Math.Max(features, s.Features);
            edges = Math.Max(edges, s.Edges);
            corpus = Math.Max(corpus, s.Corpus);
            crashers += s.Crashers;
            if (process.ExitCode != 0)
            {
                abnormal++;
                var kind = process.ExitCode == Worker.HangExitCode ? "Hang" : $"ProcessDied{process.ExitCode}";
                var existing = Directory.EnumerateFiles(options.CrasherDir(target.Name)).Select(Worker.SignatureOfFile).ToHashSet();
                var signature = $"{kind}-{target.Name}";
                if (!existing.Contains(signature))
                {
                    var name = $"{signature}-{Convert.ToHexString(SHA1.HashData(s.LastInput))[..8].ToLowerInvariant()}.bin";
                    File.WriteAllBytes(Path.Combine(options.CrasherDir(target.Name), name), s.LastInput);
                    crashers++;
                    Console.WriteLine($"[{target.Name}] CRASHER {name} ({s.LastInput.Length} bytes): the worker {(kind == "Hang" ? "hung" : "died")} on it");
                }
            }
        }

        File.Delete(options.StateFile(target.Name));
        var seconds = clock.Elapsed.TotalSeconds;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"RESULT {target.Name,-14} execs {execs,10} exec/s {execs / seconds,8:F0} corpus {corpus,5} features {features,6} edges {edges,6} crashers {crashers,3} workers {workers} ({abnormal} died or hung) {seconds:F0} s"));
        return 0;
    }
}
