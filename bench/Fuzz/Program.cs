using System.Diagnostics;
using System.Globalization;
using SiteWatch.Fuzz;
using SiteWatch.Video.Tests.Fuzz;

// SiteWatch's coverage-guided fuzzer. See bench/README.md ("Fuzzing") for the design.
//   SiteWatch.Fuzz list
//   SiteWatch.Fuzz instrument DIR                      SharpFuzz IL instrumentation of the parsers' assemblies in DIR, in place
//   SiteWatch.Fuzz run TARGET --seconds S --work DIR --crashers DIR [--shared DIR] [--timeout-ms T] [--seed N]
//   SiteWatch.Fuzz replay TARGET FILE...               outcome of each input
//   (worker: started by run in a child process, so a stack overflow or a hang ends the child, not the campaign)
// Instrumented code (even a static constructor) writes to the edge map: give it one before any parser type is touched.
unsafe
{
    SharpFuzz.Common.Trace.SharedMem = (byte*)System.Runtime.InteropServices.NativeMemory.AllocZeroed(Worker.MapSize);
}

try
{
    return args.Length == 0 ? Usage() : args[0] switch
    {
        "list" => List(),
        "instrument" when args.Length == 2 => Instrumentation.Instrument(args[1]),
        "run" when args.Length >= 2 => Supervisor.Run(args[1], Options.Parse(args[2..])),
        "worker" when args.Length >= 2 => new Worker(SelfTestTargets.Get(args[1]), Options.Parse(args[2..])).Run(),
        "replay" when args.Length >= 3 => Replay(args[1], args[2..]),
        _ => Usage(),
    };
}
catch (ArgumentException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}

static int Usage()
{
    Console.Error.WriteLine("usage: SiteWatch.Fuzz list | instrument DIR | run TARGET --seconds S --work DIR --crashers DIR [--shared DIR] [--timeout-ms T] [--seed N] | replay TARGET FILE...");
    return 2;
}

static int List()
{
    foreach (var t in FuzzTargets.All)
    {
        Console.WriteLine($"{t.Name,-18} {t.Parser}");
    }

    return 0;
}

static int Replay(string name, string[] files)
{
    var target = FuzzTargets.Get(name);
    var failures = 0;
    foreach (var file in files)
    {
        var clock = Stopwatch.StartNew();
        var failure = target.Run(File.ReadAllBytes(file));
        failures += failure is null ? 0 : 1;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{file}: {(failure is null ? "ok" : "CRASH " + FuzzTarget.Signature(failure) + ": " + failure.Message)} ({clock.Elapsed.TotalMilliseconds:F1} ms)"));
    }

    return failures == 0 ? 0 : 1;
}
