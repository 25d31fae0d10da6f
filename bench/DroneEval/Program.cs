using System.Diagnostics;
using System.Globalization;
using SiteWatch.Core.Detection;
using SiteWatch.Demo.Flight;
using SiteWatch.Video.Frames;
using SiteWatch.Video.Geo;
using SiteWatch.Video.Tracking;
using SiteWatch.Video.Watch;

// Drone detector accuracy on simulated border flights never used for training (the drone model was trained on
// flight seeds 101-124): each flight is simulated once (with VMTI targets in the stream, for the peer run), then
// watched twice with the simulator's zones and DEM: with the ONNX drone detector and no VMTI, and with the stream's
// VMTI boxes placed by our own ray casting (the peer: what the same tracker and rules do with perfect boxes).
// Detection waits for the detector on every Nth frame, so the figures do not depend on the machine's speed
// (bench/watch-latency.sh measures the live run). Prints, per flight and in total: the truth events that must be
// seen and how many raised their alert, false alerts (alerts answering no event), false alerts per 10 minutes, and the
// detector's per-class precision and recall on its detection frames (a detection matches a truth object of its class
// whose box centre lies within max(4 px, half the box's diagonal) of its own). Alerts are also scored one to one
// (OneToOne: an alert may answer any object its track was on, not only the one it followed most often), printed
// where a flight's counts differ and in the totals.
//   dotnet run --project bench/DroneEval -c Release -- [--seeds 1,2,3] [--seconds 20] [--fps 15] [--size 1280x720]
//       [--every 3] [--model M.onnx] [--out DIR] [--dump-frames 96,102] [--track-high 0.5 --track-new 0.6]
// --dump-frames prints, for the listed frames, the truth boxes and the model's detections scoring 0.3 or more.
// --track-high and --track-new set the tracker's high-score and new-track thresholds for the model's run (both
// together; default: the tracker's own, as `watch` runs).
// --cache-detections 1 keeps the model's detections per flight (detections-MODEL-everyN.tsv) and replays them in
// later runs, so tracker and rule changes are measured in seconds on the same detections (--kinds model skips VMTI).
// --shadow-filter 1 drops person detections lying on another person's shadow before tracking (watch --shadow-filter).
// --no-camera-motion 1 leaves tracks at their pixel positions between frames (the watch's behaviour before it moved them with the camera).
// --trace-frames A-B prints, for frames A to B, the truth people, the person (and shadow, S) detections (score >= 0.2) and the person tracks.
// --keep-shadows 1 keeps the drone model's shadow class (its side-car drops it) in the detections, the trace and a cache
// of its own (detections-MODEL-everyN-shadows.tsv): to see where shadows are boxed, not how `watch` runs.
// --trace-people 1 prints each person track of the model's run: the truth object nearest it, in runs of frames, and its alerts
// (--trace-people vehicle: each vehicle track).
var opts = Args(args);
int[] seeds = opts.GetValueOrDefault("seeds", "1,2,3").Split(',').Select(int.Parse).ToArray();
double seconds = double.Parse(opts.GetValueOrDefault("seconds", "20"), CultureInfo.InvariantCulture);
double fps = double.Parse(opts.GetValueOrDefault("fps", "15"), CultureInfo.InvariantCulture);
var size = opts.GetValueOrDefault("size", "1280x720").Split('x').Select(int.Parse).ToArray();
int every = int.Parse(opts.GetValueOrDefault("every", "3"), CultureInfo.InvariantCulture);
string outDir = Path.GetFullPath(opts.GetValueOrDefault("out", "bench/results/drone-eval"));
string modelPath = opts.GetValueOrDefault("model") ?? DetectorModel.DroneModelPath
    ?? throw new InvalidOperationException($"no drone model: build SiteWatch.Core (models/{DetectorModel.DroneModelFileName}) or pass --model");

using var probe = DetectorModel.Load(modelPath);
float scoreCut = probe.ScoreThreshold;
Console.WriteLine($"model {modelPath}: classes {string.Join(", ", probe.ClassNames)}, gsd {probe.GroundSampleDistance?.ToString("0.##", CultureInfo.InvariantCulture) ?? "-"} m, "
    + $"score threshold {scoreCut:0.##}; flights {seeds.Length} x {seconds:0} s at {size[0]}x{size[1]}, {fps:0} fps, detection every {every} frames");
Console.WriteLine();
Console.WriteLine($"{"flight",-8} {"detector",-10} {"must see",8} {"alerted",8} {"missed",7} {"false",6} {"frames",7} {"s/det",6}  detection precision / recall (model only)");

var totals = new Dictionary<string, (int Must, int Alerted, int False, double Video, double DetSeconds, long DetFrames)>();
var oneToOneTotals = new Dictionary<string, (int Alerted, int False)>();
var secondAlerts = new Dictionary<string, int>(); // false alerts that are a second alert for a crossing already alerted
var matches = new Dictionary<string, (int Tp, int Fp, int Fn)>();
var allScores = new Dictionary<string, List<(double Score, bool True)>>();
var inView = new Dictionary<string, int>();
foreach (var seed in seeds)
{
    var dir = Path.Combine(outDir, $"flight-{seed}-{size[0]}x{size[1]}-{seconds:0}s-{fps:0}fps");
    var ts = Path.Combine(dir, "flight.ts");
    var zonesPath = Path.Combine(dir, "zones.geojson");
    var truthPath = Path.Combine(dir, "truth.json");
    if (!File.Exists(truthPath))
    {
        var clock = Stopwatch.StartNew();
        using var simulator = FlightSimulator.Create(new FlightSimulationOptions
        {
            Seconds = seconds, Fps = fps, Width = size[0], Height = size[1], Seed = seed, Vmti = true,
        }, dir);
        await using (var file = File.Create(ts))
        {
            var simulated = await simulator.WriteTsAsync(file);
            simulated.Save(truthPath);
        }
        simulator.WriteZones(zonesPath);
        Console.Error.WriteLine($"simulated flight {seed} in {clock.Elapsed.TotalSeconds:F0} s ({simulator.GroundSampleDistance:0.00} m per pixel across the centre)");
    }
    var truth = FlightTruth.Load(truthPath);
    var zones = WatchZoneFile.Load(zonesPath);
    foreach (var kind in opts.GetValueOrDefault("kinds", "model,vmti").Split(','))
    {
        // The flight's own folder first: truth.json names the DEM by the path it was written to.
        var demPath = Path.Combine(dir, "dem.tif");
        using var dem = DemTerrain.Open(File.Exists(demPath) ? demPath : truth.Dem);
        var keepShadows = opts.ContainsKey("keep-shadows");
        var cachePath = Path.Combine(dir, $"detections-{Path.GetFileNameWithoutExtension(modelPath)}-every{every}{(keepShadows ? "-shadows" : "")}.tsv");
        var replay = kind == "model" && opts.ContainsKey("cache-detections") && ReplayDetector.IsFor(cachePath, modelPath);
        IFrameDetector inner = kind != "model" ? new VmtiFrameDetector(useReportedLocations: false)
            : replay ? new ReplayDetector(new OnnxFrameDetector(DetectorModel.Load(modelPath)), cachePath)
            : new OnnxFrameDetector(DetectorModel.Load(modelPath), new DetectorOptions { ScoreThreshold = 0.1f,
                ClassMap = keepShadows ? new Dictionary<string, string> { ["shadow"] = "shadow" } : null });
        var recording = new Recording(inner);
        var watchDir = Path.Combine(dir, $"watch-{kind}");
        if (Directory.Exists(watchDir))
        {
            Directory.Delete(watchDir, true);
        }
        var tracker = opts.GetValueOrDefault("track-high") is { } high
            ? new TrackerOptions { HighScore = double.Parse(high, CultureInfo.InvariantCulture), NewTrackScore = double.Parse(opts.GetValueOrDefault("track-new") ?? throw new ArgumentException("--track-high needs --track-new"), CultureInfo.InvariantCulture), MaxAge = Math.Max(30, 5 * every) }
            : null;
        var traceFrames = opts.GetValueOrDefault("trace-frames")?.Split('-').Select(long.Parse).ToArray();
        Action<FrameReport>? onFrame = null;
        var traceClass = opts.GetValueOrDefault("trace-people") is { } tc && tc != "1" ? tc : "person";
        if (kind == "model" && traceFrames is not null)
        {
            onFrame = report =>
            {
                var f = report.Frame.Index;
                if (f < traceFrames[0] || f > traceFrames[1] || f >= truth.Frames.Count)
                {
                    return;
                }
                var people = truth.Frames[(int)f].Objects.Where(o => o.Class == traceClass && o.Box is not null)
                    .Select(o => $"{o.Id}({(o.Box![0] + o.Box[2]) / 2:0.0},{(o.Box[1] + o.Box[3]) / 2:0.0})");
                var found = recording.Frames.TryGetValue(f, out var ds) ? ds.Where(d => (d.ClassName == traceClass || (traceClass == "person" && d.ClassName == "shadow")) && d.Score >= 0.2)
                    .Select(d => $"{(d.ClassName == "shadow" ? "S" : "")}{d.Score:0.00}({d.Box.CentreX:0.0},{d.Box.CentreY:0.0} {d.Box.Width:0.0}x{d.Box.Height:0.0})") : ["-"];
                var tracks = report.Tracks.Where(t => t.ClassName == traceClass).Select(t => $"{t.Id}{(t.Confirmed ? "" : "?")}({t.Box.CentreX:0.0},{t.Box.CentreY:0.0})");
                Console.WriteLine($"  f{f}: truth {string.Join(" ", people)} | det {string.Join(" ", found)} | tracks {string.Join(" ", tracks)}");
            };
        }
        var pipeline = new WatchPipeline(zones, recording,
            new WatchOptions { OutputDirectory = watchDir, DetectEvery = every, Dem = dem, WaitForDetections = true, Tracker = kind == "model" ? tracker : null,
                CompensateCameraMotion = !opts.ContainsKey("no-camera-motion"), ShadowFilter = opts.ContainsKey("shadow-filter") }) { OnFrame = onFrame };
        WatchSummary summary;
        await using (pipeline)
        {
            await using var source = VideoSource.Open(ts);
            summary = await pipeline.RunAsync(source.ReadFramesAsync());
        }
        var result = TruthComparison.Compare(truth, pipeline.Record, zones);
        var oneToOne = OneToOne(truth, pipeline.Record, zones, result);
        if (kind == "model" && opts.ContainsKey("cache-detections") && !replay)
        {
            ReplayDetector.Save(cachePath, modelPath, recording.Frames);
        }
        if (kind == "model" && opts.GetValueOrDefault("dump-frames") is { } dumpFrames)
        {
            foreach (var f in dumpFrames.Split(',').Select(long.Parse))
            {
                if (!recording.Frames.TryGetValue(f, out var ds) || f >= truth.Frames.Count)
                {
                    Console.WriteLine($"frame {f}: not a detection frame");
                    continue;
                }
                Console.WriteLine($"frame {f}: truth " + string.Join(" ", truth.Frames[(int)f].Objects.Where(o => o.Box is not null).Select(o => $"{o.Class}[{string.Join(",", o.Box!.Select(v => v.ToString("0")))}]")));
                foreach (var d in ds.Where(d => d.Score >= (opts.ContainsKey("dump-all") ? 0.05 : 0.3)))
                {
                    Console.WriteLine($"   {d.ClassName} {d.Score:0.00} c=({d.Box.CentreX:0.0},{d.Box.CentreY:0.0}) {d.Box.Width:0.0}x{d.Box.Height:0.0}");
                }
            }
        }
        if (kind == "model" && opts.ContainsKey("trace-people"))
        {
            // Each track's life: which truth object is nearest, in runs of frames, and where it alerted.
            foreach (var t in pipeline.Record.Tracks.Where(t => t.ClassName == traceClass && t.Path.Count > 0))
            {
                var runs = new List<string>();
                int last = -2, from = 0, count = 0;
                foreach (var p in t.Path.Where(p => p.FrameIndex < truth.Frames.Count))
                {
                    // People's shadows count as places too (negative ids, printed "s7"): the simulator draws them
                    // 1.4 m east and 1.4 m south of the body.
                    var objects = truth.Frames[(int)p.FrameIndex].Objects;
                    var places = objects.Select(o => (Id: o.Id, o.Latitude, o.Longitude)).Concat(objects.Where(o => o.Class == "person")
                        .Select(o => Wgs84.FromEnu(new GeoPoint(o.Latitude, o.Longitude, o.HeightAboveEllipsoid), new Vec3(1.4, -1.4, 0)))
                        .Zip(objects.Where(o => o.Class == "person"), (g, o) => (Id: -o.Id, g.Latitude, g.Longitude))).ToList();
                    var (id, d) = places.Count == 0 ? (-1, double.NaN)
                        : places.Select(o => (o.Id, D: Wgs84.Distance(o.Latitude, o.Longitude, p.Position.Latitude, p.Position.Longitude))).MinBy(o => o.D);
                    if (id != last)
                    {
                        if (count > 0) runs.Add($"{(last < -1 ? $"s{-last}" : last)}x{count}@{from / fps:0.0}s");
                        (last, from, count) = (id, (int)p.FrameIndex, 0);
                    }
                    count++;
                }
                runs.Add($"{(last < -1 ? $"s{-last}" : last)}x{count}@{from / fps:0.0}s");
                var alerts = pipeline.Record.Alerts.Where(a => a.Track?.TrackId == t.Id).Select(a => $"{a.Kind} {a.Track!.Zone} {a.Track.VideoSeconds:0.0}s");
                Console.WriteLine($"{"",8}   {t.ClassName} track {t.Id}: {string.Join(" ", runs)}  {string.Join(", ", alerts)}");
            }
        }
        int must = result.Events.Count(e => e.MustBeSeen), alerted = result.Events.Count(e => e.MustBeSeen && e.Alert is not null);
        int falseAlerts = result.UnansweredAlerts.Count;
        secondAlerts[kind] = secondAlerts.GetValueOrDefault(kind) + result.UnansweredAlerts.Count(a => result.Events.Any(e => IsTwin(e, a)));
        string pr = "";
        if (kind == "model")
        {
            var perClass = Score(recording.Frames, truth, scoreCut);
            foreach (var (cls, m) in Score(recording.Frames, truth, 0.1f, allScores))
            {
                inView[cls] = inView.GetValueOrDefault(cls) + m.Tp + m.Fn;
            }
            foreach (var (cls, m) in perClass)
            {
                var t = matches.GetValueOrDefault(cls);
                matches[cls] = (t.Tp + m.Tp, t.Fp + m.Fp, t.Fn + m.Fn);
            }
            pr = string.Join("; ", perClass.Select(kv => $"{kv.Key} {Ratio(kv.Value.Tp, kv.Value.Tp + kv.Value.Fp)} / {Ratio(kv.Value.Tp, kv.Value.Tp + kv.Value.Fn)}"));
        }
        double perDetection = summary.DetectionFrames == 0 ? 0 : summary.DetectionSecondsPerVideoSecond * summary.VideoSeconds / summary.DetectionFrames;
        Console.WriteLine($"{seed,-8} {kind,-10} {must,8} {alerted,8} {must - alerted,7} {falseAlerts,6} {summary.DetectionFrames,7} {perDetection,6:0.000}  {pr}");
        if (oneToOne != (alerted, falseAlerts))
        {
            Console.WriteLine($"{"",8}   one-to-one: {oneToOne.Alerted} alerted, {oneToOne.False} false (an alert may answer any object of its class its track was on)");
        }
        foreach (var e in result.Events.Where(e => e.MustBeSeen && e.Alert is null))
        {
            Console.WriteLine($"{"",8}   missed: {e.ObjectClass} {e.ObjectId} {e.Zone} at {e.TruthSeconds:0.0} s");
        }
        foreach (var a in result.UnansweredAlerts)
        {
            // Who the track was on when it alerted: in a group, the object a track follows most often may be a neighbour.
            var near = "";
            if (pipeline.Record.Tracks.FirstOrDefault(t => t.Id == a.Track?.TrackId) is { Path.Count: > 0 } alertTrack)
            {
                var at = alertTrack.Path.MinBy(p => Math.Abs(p.Time.TotalSeconds - a.Track!.VideoSeconds));
                if (at.FrameIndex < truth.Frames.Count)
                {
                    near = "; at the alert: " + string.Join(", ", truth.Frames[(int)at.FrameIndex].Objects
                        .Select(o => (o, d: Wgs84.Distance(o.Latitude, o.Longitude, at.Position.Latitude, at.Position.Longitude)))
                        .OrderBy(x => x.d).Take(3).Select(x => $"{x.o.Class} {x.o.Id} {x.d:0.0} m"));
                }
            }
            var follows = result.TrackFollows.TryGetValue(a.Track?.TrackId ?? -1, out var id) ? $"follows {id}" : "follows nothing";
            // A second alert in the same zone close to an answered event (a group member or its shadow tracked twice)
            // is told apart from an alert where nothing crossed.
            var twin = result.Events.Where(e => IsTwin(e, a)).MinBy(e => Math.Abs(e.TruthSeconds - a.Track!.VideoSeconds));
            if (twin is not null)
            {
                follows += $"; {twin.ObjectClass} {twin.ObjectId} crossed {Math.Abs(twin.TruthSeconds - a.Track!.VideoSeconds):0.0} s from it and was alerted: a second alert for a crossing";
            }
            Console.WriteLine($"{"",8}   false alert: {a.Kind} {a.Track?.Zone} at {a.Track?.VideoSeconds:0.0} s (track {a.Track?.TrackId}, {a.Track?.ClassName}, {follows}{near})");
        }
        var one = oneToOneTotals.GetValueOrDefault(kind);
        oneToOneTotals[kind] = (one.Alerted + oneToOne.Alerted, one.False + oneToOne.False);
        var tot = totals.GetValueOrDefault(kind);
        totals[kind] = (tot.Must + must, tot.Alerted + alerted, tot.False + falseAlerts, tot.Video + summary.VideoSeconds,
            tot.DetSeconds + summary.DetectionSecondsPerVideoSecond * summary.VideoSeconds, tot.DetFrames + summary.DetectionFrames);
    }
}

Console.WriteLine();
foreach (var (kind, t) in totals)
{
    Console.WriteLine($"{kind}: {t.Alerted} of {t.Must} events that must be seen alerted; {t.False} false alerts in {t.Video:0} s of video "
        + $"({t.False * 600 / Math.Max(1, t.Video):0.0} per 10 min; {secondAlerts.GetValueOrDefault(kind)} of them a second alert for a crossing already alerted); detector {t.DetSeconds / Math.Max(1, t.DetFrames):0.000} s per detection frame");
    var one = oneToOneTotals[kind];
    Console.WriteLine($"{kind}, scored one to one: {one.Alerted} of {t.Must} alerted, {one.False} false ({one.False * 600 / Math.Max(1, t.Video):0.0} per 10 min)");
}
Console.WriteLine("model detections at score >= " + scoreCut.ToString("0.##", CultureInfo.InvariantCulture) + ": "
    + string.Join("; ", matches.Select(kv => $"{kv.Key} precision {Ratio(kv.Value.Tp, kv.Value.Tp + kv.Value.Fp)}, recall {Ratio(kv.Value.Tp, kv.Value.Tp + kv.Value.Fn)} ({kv.Value.Tp + kv.Value.Fn} in view)")));
// Scores of the detections the tracker sees (>= 0.1), true and false, against its thresholds (new track 0.6, high 0.5).
foreach (var (cls, list) in allScores.OrderBy(kv => kv.Key))
{
    static string Quantiles(List<double> v) => v.Count == 0 ? "-" : string.Join(" / ", new[] { 0.1, 0.5, 0.9 }.Select(q => v.Order().ElementAt((int)(q * (v.Count - 1))).ToString("0.00", CultureInfo.InvariantCulture)));
    var right = list.Where(x => x.True).Select(x => x.Score).ToList();
    var wrong = list.Where(x => !x.True).Select(x => x.Score).ToList();
    // The threshold of best F1 on these flights (pick the model's operating point on flights kept out of the test).
    var best = Enumerable.Range(3, 15).Select(k => k * 0.05).Select(t =>
    {
        int tp = right.Count(x => x >= t), fp = wrong.Count(x => x >= t), all = inView.GetValueOrDefault(cls);
        return (T: t, F1: tp == 0 ? 0 : 2.0 * tp / (2 * tp + fp + (all - tp)));
    }).MaxBy(x => x.F1);
    Console.WriteLine($"{cls} scores (p10 / median / p90): true {Quantiles(right)} ({right.Count}), false {Quantiles(wrong)} ({wrong.Count}); "
        + $"best F1 {best.F1:0.00} at score {best.T:0.00}");
}
return 0;

// An alerted crossing of the same class and zone within 3 s of an unanswered alert: that alert is a second one for it.
// Scoring beside TruthComparison's, printed with it: an alert may answer an event of any truth object of its track's
// class (any class for a class the truth lacks, VMTI's "target") that the track lay within the position slack (plus half a vehicle) of at the alert (TruthComparison takes only the object the track
// followed most often), in the event's zone and time window, each alert and event used once (a maximum bipartite
// matching; events that must be seen are matched first, so as many of them as possible are answered). In a file of
// people 1.6 m apart two tracks can follow the same person: TruthComparison then counts a miss and two false alerts
// where three people raised four alerts, this counts one false alert.
static (int Alerted, int False) OneToOne(FlightTruth truth, FlightRecord record, IReadOnlyList<WatchZone> zones, TruthComparisonResult result)
{
    // A track is placed at its box's bottom centre, the object's near edge: up to half a vehicle (4.5 m long) from the
    // truth's centre, beyond the position slack (the VMTI peer's vehicles on the 600 s hillside flight lay 5-7 m off).
    const double HalfVehicle = 2.25;
    var hysteresis = zones.FirstOrDefault(z => z.Name == "border")?.Settings.HysteresisMetres ?? 0;
    var alerts = record.Alerts.Where(a => a.Track is not null).ToList();
    var events = result.Events.OrderBy(e => e.MustBeSeen ? 0 : 1).ToList();
    var speeds = truth.Objects.ToDictionary(o => o.Id, o => o.SpeedMps);
    var classes = truth.Objects.Select(o => o.Class).ToHashSet(); // VMTI tracks are "target": any class
    // Which objects of the alert's class its track was within the slack of when it alerted.
    var near = alerts.Select(a =>
    {
        var track = record.Tracks.FirstOrDefault(t => t.Id == a.Track!.TrackId);
        if (track is not { Path.Count: > 0 })
        {
            return new HashSet<int>();
        }

        var at = track.Path.MinBy(p => Math.Abs(p.Time.TotalSeconds - a.Track!.VideoSeconds));
        return at.FrameIndex < truth.Frames.Count
            ? truth.Frames[(int)at.FrameIndex].Objects.Where(o => (o.Class == a.Track!.ClassName || !classes.Contains(a.Track.ClassName))
                && Wgs84.Distance(o.Latitude, o.Longitude, at.Position.Latitude, at.Position.Longitude) <= TruthComparison.PositionSlackMetres + HalfVehicle)
                .Select(o => o.Id).ToHashSet()
            : [];
    }).ToList();
    var edges = events.Select(e =>
    {
        var speed = Math.Max(0.5, speeds.GetValueOrDefault(e.ObjectId, 0.5));
        var window = (hysteresis + TruthComparison.PositionSlackMetres) / speed + 0.5; // TruthComparison's window
        var early = TruthComparison.PositionSlackMetres / speed;
        return Enumerable.Range(0, alerts.Count).Where(i => alerts[i].Track!.Zone == e.Zone && near[i].Contains(e.ObjectId)
            && alerts[i].Track!.VideoSeconds >= e.TruthSeconds - early && alerts[i].Track!.VideoSeconds <= e.TruthSeconds + window).ToList();
    }).ToList();
    var alertOf = new int[events.Count];
    var eventOf = Enumerable.Repeat(-1, alerts.Count).ToArray();
    Array.Fill(alertOf, -1);
    bool Augment(int e, bool[] seen)
    {
        foreach (var i in edges[e])
        {
            if (seen[i])
            {
                continue;
            }

            seen[i] = true;
            if (eventOf[i] < 0 || Augment(eventOf[i], seen))
            {
                eventOf[i] = e;
                alertOf[e] = i;
                return true;
            }
        }

        return false;
    }

    for (var e = 0; e < events.Count; e++)
    {
        Augment(e, new bool[alerts.Count]);
    }

    return (Enumerable.Range(0, events.Count).Count(e => events[e].MustBeSeen && alertOf[e] >= 0), eventOf.Count(e => e < 0));
}

static bool IsTwin(TruthEvent e, SiteWatch.Core.Catalog.AlertRecord a) =>
    e.Alert is not null && e.Zone == a.Track?.Zone && e.ObjectClass == a.Track.ClassName && Math.Abs(e.TruthSeconds - a.Track.VideoSeconds) <= 3;

static string Ratio(int a, int b) => b == 0 ? "-" : (a / (double)b).ToString("0.00", CultureInfo.InvariantCulture);

// Greedy matching per frame and class, best score first.
static SortedDictionary<string, (int Tp, int Fp, int Fn)> Score(IReadOnlyDictionary<long, IReadOnlyList<BoxDetection>> frames, FlightTruth truth, float scoreCut,
    Dictionary<string, List<(double Score, bool True)>>? scores = null)
{
    var result = new SortedDictionary<string, (int Tp, int Fp, int Fn)>();
    foreach (var (index, detections) in frames)
    {
        if (index >= truth.Frames.Count)
        {
            continue;
        }
        var objects = truth.Frames[(int)index].Objects.Where(o => o.Box is not null).ToList();
        foreach (var cls in objects.Select(o => o.Class).Concat(detections.Select(d => d.ClassName)).Distinct())
        {
            var open = objects.Where(o => o.Class == cls).ToList();
            int tp = 0, fp = 0;
            foreach (var d in detections.Where(d => d.ClassName == cls && d.Score >= scoreCut).OrderByDescending(d => d.Score))
            {
                var hit = open.FirstOrDefault(o =>
                {
                    var b = o.Box!;
                    double cx = (b[0] + b[2]) / 2, cy = (b[1] + b[3]) / 2, diag = Math.Sqrt(Math.Pow(b[2] - b[0], 2) + Math.Pow(b[3] - b[1], 2));
                    return Math.Sqrt(Math.Pow(d.Box.CentreX - cx, 2) + Math.Pow(d.Box.CentreY - cy, 2)) <= Math.Max(4, diag / 2);
                });
                if (hit is null)
                {
                    fp++;
                }
                else
                {
                    tp++;
                    open.Remove(hit);
                }
                if (scores is not null)
                {
                    (scores.TryGetValue(cls, out var list) ? list : scores[cls] = []).Add((d.Score, hit is not null));
                }
            }
            var t = result.GetValueOrDefault(cls);
            result[cls] = (t.Tp + tp, t.Fp + fp, t.Fn + open.Count);
        }
    }
    return result;
}

static Dictionary<string, string> Args(string[] args)
{
    var map = new Dictionary<string, string>();
    for (int i = 0; i + 1 < args.Length; i += 2)
    {
        map[args[i].TrimStart('-')] = args[i + 1];
    }
    return map;
}

/// <summary>Passes frames to a detector and keeps what it found per frame (for precision and recall).</summary>
internal sealed class Recording(IFrameDetector inner) : IFrameDetector
{
    private readonly Dictionary<long, IReadOnlyList<BoxDetection>> _frames = [];

    public IReadOnlyDictionary<long, IReadOnlyList<BoxDetection>> Frames => _frames;

    public string Name => inner.Name;

    public bool IsCheap => inner.IsCheap;

    public (double High, double NewTrack)? TrackerGates => inner.TrackerGates;

    public IReadOnlyList<BoxDetection> Detect(VideoFrame frame, double? groundSampleDistance)
    {
        var found = inner.Detect(frame, groundSampleDistance);
        lock (_frames)
        {
            _frames[frame.Index] = found;
        }
        return found;
    }

    public void Dispose() => inner.Dispose();
}

/// <summary>
/// Replays detections saved by an earlier run of the same model on the same flight (tracker experiments). The file's
/// first line names the model's SHA-256, so a retrained model under the same name runs afresh instead of replaying.
/// </summary>
internal sealed class ReplayDetector : IFrameDetector
{
    public static bool IsFor(string path, string modelPath) =>
        File.Exists(path) && File.ReadLines(path).FirstOrDefault() == Header(modelPath);

    private static string Header(string modelPath)
    {
        using var model = File.OpenRead(modelPath);
        return "# model sha256 " + Convert.ToHexStringLower(System.Security.Cryptography.SHA256.HashData(model));
    }

    private readonly IFrameDetector _model;
    private readonly Dictionary<long, List<BoxDetection>> _frames = [];

    public ReplayDetector(IFrameDetector model, string path)
    {
        _model = model;
        foreach (var line in File.ReadLines(path).Skip(1))
        {
            var f = line.Split('\t');
            var frame = long.Parse(f[0], CultureInfo.InvariantCulture);
            if (!_frames.TryGetValue(frame, out var list))
            {
                _frames[frame] = list = [];
            }
            if (f.Length > 1)
            {
                double V(int i) => double.Parse(f[i], CultureInfo.InvariantCulture);
                list.Add(new BoxDetection(new PixelBox(V(1), V(2), V(3), V(4)), V(5), f[6]));
            }
        }
    }

    public static void Save(string path, string modelPath, IReadOnlyDictionary<long, IReadOnlyList<BoxDetection>> frames)
    {
        // Written aside and moved into place: a run killed half-way leaves no partial cache to replay.
        var partial = path + ".partial";
        using (var writer = new StreamWriter(partial))
        {
            writer.WriteLine(Header(modelPath));
            foreach (var (frame, detections) in frames.OrderBy(kv => kv.Key))
            {
                var at = frame.ToString(CultureInfo.InvariantCulture);
                if (detections.Count == 0)
                {
                    writer.WriteLine(at); // a detection frame that found nothing
                }
                foreach (var d in detections)
                {
                    writer.WriteLine(string.Join('\t', at, R(d.Box.CentreX), R(d.Box.CentreY), R(d.Box.Width), R(d.Box.Height), R(d.Score), d.ClassName));
                }
            }
        }
        File.Move(partial, path, overwrite: true);

        static string R(double v) => v.ToString("R", CultureInfo.InvariantCulture);
    }

    public string Name => _model.Name;

    public bool IsCheap => true;

    public (double High, double NewTrack)? TrackerGates => _model.TrackerGates;

    public IReadOnlyList<BoxDetection> Detect(VideoFrame frame, double? groundSampleDistance) =>
        _frames.TryGetValue(frame.Index, out var list) ? list : throw new InvalidOperationException($"frame {frame.Index} was not a detection frame when the cache was saved");

    public void Dispose() => _model.Dispose();
}
