using System.Diagnostics;
using System.IO.MemoryMappedFiles;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Security.Cryptography;
using SiteWatch.Video.Tests.Fuzz;

namespace SiteWatch.Fuzz;

/// <summary>
/// The fuzzing loop of one target, in a child process. Feedback is the afl-style edge map filled by the
/// SharpFuzz-instrumented parsers: an input that lights a new (edge, hit-count bucket) pair joins the corpus.
/// Each input is copied to a shared state file before it runs, so the supervisor can keep it when this
/// process dies (stack overflow) or the watchdog ends it (hang).
/// </summary>
internal sealed unsafe class Worker
{
    public const int MapSize = 1 << 16;
    public const int HangExitCode = 99;
    private const int StateHeader = 64;
    public const int StateSize = StateHeader + 1024 * 1024 + 64 * 1024;

    private static readonly byte[] s_bucket = BuildBuckets();

    private readonly FuzzTarget _target;
    private readonly Options _options;
    private readonly Random _rng;
    private readonly byte* _map;
    private readonly byte[] _virgin = new byte[MapSize];
    private readonly List<byte[]> _corpus = [];
    private readonly HashSet<string> _known = [];
    private readonly HashSet<string> _crashSignatures = [];
    private readonly Mutator _mutator;
    private readonly byte* _state;
    private long _execs;
    private long _runStartTicks;
    private int _features;
    private int _newCrashers;

    public Worker(FuzzTarget target, Options options)
    {
        _target = target;
        _options = options;
        _rng = new Random(options.Seed);
        _map = (byte*)NativeMemory.AlignedAlloc(MapSize, 64);
        new Span<byte>(_map, MapSize).Clear();
        SharpFuzz.Common.Trace.SharedMem = _map;
        _mutator = new Mutator(_rng, target.Dictionary, options.MaxLength);
        var mmf = MemoryMappedFile.CreateFromFile(options.StateFile(target.Name), FileMode.OpenOrCreate, null, StateSize);
        var view = mmf.CreateViewAccessor(0, StateSize);
        byte* p = null;
        view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        _state = p;
    }

    public int Run()
    {
        Directory.CreateDirectory(_options.CorpusDir(_target.Name));
        Directory.CreateDirectory(_options.CrasherDir(_target.Name));
        foreach (var file in Directory.EnumerateFiles(_options.CrasherDir(_target.Name)))
        {
            _crashSignatures.Add(SignatureOfFile(file));
        }

        var watchdog = new Thread(Watchdog) { IsBackground = true, Name = "fuzz watchdog" };
        watchdog.Start();

        // Seeds first (built-in, then the shared clips), then what earlier runs kept.
        var seeds = _target.Seeds(_options.Shared).ToList();
        foreach (var file in Directory.EnumerateFiles(_options.CorpusDir(_target.Name)).Order(StringComparer.Ordinal))
        {
            seeds.Add(File.ReadAllBytes(file));
        }

        foreach (var seed in seeds)
        {
            Execute(seed, fromCorpusDir: true);
        }

        if (_corpus.Count == 0)
        {
            _corpus.Add([]);
        }

        var deadline = _options.UntilUnixMs;
        var lastState = Environment.TickCount64;
        while (DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() < deadline)
        {
            for (var i = 0; i < 64; i++)
            {
                var parent = _corpus[_rng.Next(_corpus.Count)];
                var other = _corpus[_rng.Next(_corpus.Count)];
                Execute(_mutator.Mutate(parent, other), fromCorpusDir: false);
            }

            if (Environment.TickCount64 - lastState > 500)
            {
                WriteStats();
                lastState = Environment.TickCount64;
            }
        }

        WriteStats();
        return 0;
    }

    private void Execute(byte[] input, bool fromCorpusDir)
    {
        // The input goes to the state file before it runs: if this process dies on it, the supervisor keeps it.
        var length = Math.Min(input.Length, StateSize - StateHeader);
        fixed (byte* src = input)
        {
            Buffer.MemoryCopy(src, _state + StateHeader, length, length);
        }

        *(int*)(_state + 24) = length;

        new Span<byte>(_map, MapSize).Clear();
        SharpFuzz.Common.Trace.PrevLocation = 0;
        Volatile.Write(ref _runStartTicks, Stopwatch.GetTimestamp());
        var failure = _target.Run(input);
        Volatile.Write(ref _runStartTicks, 0);
        _execs++;

        if (failure is not null)
        {
            Crash(input, failure);
            return;
        }

        var isNew = UpdateCoverage();
        if (isNew && !fromCorpusDir)
        {
            var name = Convert.ToHexString(SHA1.HashData(input))[..16].ToLowerInvariant();
            File.WriteAllBytes(Path.Combine(_options.CorpusDir(_target.Name), name), input);
        }

        if (isNew)
        {
            var key = Convert.ToHexString(SHA1.HashData(input));
            if (_known.Add(key))
            {
                _corpus.Add(input);
            }
        }
    }

    /// <summary>AFL's rule: new when an edge reaches a hit-count bucket never seen before.</summary>
    private bool UpdateCoverage()
    {
        var isNew = false;
        var words = (ulong*)_map;
        for (var w = 0; w < MapSize / 8; w++)
        {
            if (words[w] == 0)
            {
                continue;
            }

            for (var b = w * 8; b < w * 8 + 8; b++)
            {
                var hits = _map[b];
                if (hits == 0)
                {
                    continue;
                }

                var bucket = s_bucket[hits];
                if ((bucket & ~_virgin[b]) != 0)
                {
                    _features += BitOperations.PopCount((uint)(bucket & ~_virgin[b]));
                    _virgin[b] |= bucket;
                    isNew = true;
                }
            }
        }

        return isNew;
    }

    private void Crash(byte[] input, Exception failure)
    {
        var signature = FuzzTarget.Signature(failure);
        if (!_crashSignatures.Add(signature))
        {
            return;
        }

        var minimal = Minimise(input, signature);
        var name = $"{signature}-{Convert.ToHexString(SHA1.HashData(minimal))[..8].ToLowerInvariant()}.bin";
        File.WriteAllBytes(Path.Combine(_options.CrasherDir(_target.Name), name), minimal);
        _newCrashers++;
        var first = failure.ToString().Split('\n').Take(4);
        Console.WriteLine($"[{_target.Name}] CRASHER {name} ({input.Length} -> {minimal.Length} bytes): {string.Join(" | ", first.Select(l => l.Trim()))}");
    }

    /// <summary>Greedy chunk removal (ddmin-like) while the same signature reproduces; bounded in attempts.</summary>
    private byte[] Minimise(byte[] input, string signature)
    {
        var current = input;
        var attempts = 0;
        for (var chunk = Math.Max(1, current.Length / 2); chunk >= 1 && attempts < 4000; chunk /= 2)
        {
            for (var at = 0; at < current.Length && attempts < 4000;)
            {
                var take = Math.Min(chunk, current.Length - at);
                byte[] candidate = [.. current.AsSpan(0, at), .. current.AsSpan(at + take)];
                attempts++;
                Volatile.Write(ref _runStartTicks, Stopwatch.GetTimestamp());
                var failure = _target.Run(candidate);
                Volatile.Write(ref _runStartTicks, 0);
                if (failure is not null && FuzzTarget.Signature(failure) == signature)
                {
                    current = candidate;
                }
                else
                {
                    at += take;
                }
            }

            if (chunk == 1)
            {
                break;
            }
        }

        return current;
    }

    private void Watchdog()
    {
        var limit = (long)(_options.TimeoutMs / 1000.0 * Stopwatch.Frequency);
        while (true)
        {
            Thread.Sleep(100);
            var start = Volatile.Read(ref _runStartTicks);
            if (start != 0 && Stopwatch.GetTimestamp() - start > limit)
            {
                WriteStats();
                Console.WriteLine($"[{_target.Name}] HANG: one input ran over {_options.TimeoutMs} ms; the supervisor keeps it");
                Console.Out.Flush();
                Environment.Exit(HangExitCode);
            }
        }
    }

    private void WriteStats()
    {
        *(long*)_state = _execs;
        *(int*)(_state + 8) = _features;
        *(int*)(_state + 12) = _virgin.Count(v => v != 0);
        *(int*)(_state + 16) = _corpus.Count;
        *(int*)(_state + 20) = _newCrashers;
    }

    public static (long Execs, int Features, int Edges, int Corpus, int Crashers, byte[] LastInput) ReadState(string path)
    {
        var bytes = File.ReadAllBytes(path);
        var length = BitConverter.ToInt32(bytes, 24);
        return (BitConverter.ToInt64(bytes, 0), BitConverter.ToInt32(bytes, 8), BitConverter.ToInt32(bytes, 12), BitConverter.ToInt32(bytes, 16),
            BitConverter.ToInt32(bytes, 20), bytes.AsSpan(StateHeader, Math.Clamp(length, 0, bytes.Length - StateHeader)).ToArray());
    }

    /// <summary>Crasher files are named SIGNATURE-HASH.bin; the fuzzer keeps one per signature.</summary>
    public static string SignatureOfFile(string file)
    {
        var name = Path.GetFileNameWithoutExtension(file);
        var dash = name.LastIndexOf('-');
        return dash > 0 ? name[..dash] : name;
    }

    private static byte[] BuildBuckets()
    {
        var b = new byte[256];
        for (var i = 1; i < 256; i++)
        {
            b[i] = i switch { 1 => 1, 2 => 2, 3 => 4, <= 7 => 8, <= 15 => 16, <= 31 => 32, <= 127 => 64, _ => 128 };
        }

        return b;
    }
}
