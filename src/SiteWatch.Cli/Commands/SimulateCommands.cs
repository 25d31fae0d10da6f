using System.Net;
using SiteWatch.Demo.Flight;

namespace SiteWatch.Cli.Commands;

public sealed class SimulateFlightCommand : Command<SimulateFlightCommand.Settings>
{
    public sealed class Settings : CommandSettings
    {
        [CommandOption("--out <DIR>")]
        [Description("Output folder: flight.ts, truth.json, dem.tif (when generated), zones.geojson. Default ./flight.")]
        public string Out { get; init; } = "flight";

        [CommandOption("--seconds <S>")]
        [Description("Length of the flight in seconds (default 20).")]
        public double Seconds { get; init; } = 20;

        [CommandOption("--fps <FPS>")]
        [Description("Frame rate (default 30); one ST 0601 KLV packet per frame.")]
        public double Fps { get; init; } = 30;

        [CommandOption("--size <WxH>")]
        [Description("Frame size, e.g. 1280x720 (default).")]
        public string Size { get; init; } = "1280x720";

        [CommandOption("--dem <DEM>")]
        [Description("Any GDAL-readable DEM (heights above MSL); the flight circles its centre. Default: a generated mountain DEM.")]
        public string? Dem { get; init; }

        [CommandOption("--seed <N>")]
        [Description("Seed of the terrain, road, border and objects (default 1).")]
        public int Seed { get; init; } = 1;

        [CommandOption("--vmti")]
        [Description("Add an ST 0903 VMTI set with the true targets in view (boxes, centroids, locations) to each KLV packet.")]
        public bool Vmti { get; init; }

        [CommandOption("--udp <ADDRESS:PORT>")]
        [Description("Stream the MPEG-TS over UDP in real time (7 TS packets per datagram) instead of writing flight.ts, e.g. 127.0.0.1:5600.")]
        public string? Udp { get; init; }

        [CommandOption("--json")]
        [Description("Print a JSON summary (files, frames, objects and their border crossings).")]
        public bool Json { get; init; }

        public (int Width, int Height)? ParsedSize =>
            Size.Split('x', 'X') is [var w, var h] && int.TryParse(w, NumberStyles.None, CultureInfo.InvariantCulture, out var width)
                && int.TryParse(h, NumberStyles.None, CultureInfo.InvariantCulture, out var height) ? (width, height) : null;

        public IPEndPoint? ParsedUdp => Udp is null ? null : IPEndPoint.TryParse(Udp.Replace("udp://", "", StringComparison.OrdinalIgnoreCase), out var e) && e.Port > 0 ? e : null;

        public override ValidationResult Validate()
        {
            if (ParsedSize is null)
            {
                return ValidationResult.Error($"--size {Size}: expected WIDTHxHEIGHT, e.g. 1280x720");
            }

            if (Udp is not null && ParsedUdp is null)
            {
                return ValidationResult.Error($"--udp {Udp}: expected ADDRESS:PORT, e.g. 127.0.0.1:5600");
            }

            return ValidationResult.Success();
        }
    }

    public override int Execute(CommandContext context, Settings settings, CancellationToken cancellationToken)
    {
        var (width, height) = settings.ParsedSize!.Value;
        var options = new FlightSimulationOptions
        {
            Seconds = settings.Seconds,
            Fps = settings.Fps,
            Width = width,
            Height = height,
            Seed = settings.Seed,
            DemPath = settings.Dem,
            Vmti = settings.Vmti,
        };
        var outDir = Path.GetFullPath(settings.Out);
        using var simulator = FlightSimulator.Create(options, outDir);
        var target = settings.ParsedUdp;
        var tsPath = Path.Combine(outDir, "flight.ts");
        var frames = simulator.FrameCount;
        var title = target is null ? $"Rendering {frames} frames to flight.ts" : $"Rendering {frames} frames, then streaming to udp://{target}";
        var truth = Output.WithProgress(settings.Json, title, progress =>
        {
            if (target is null)
            {
                // Written beside the final name and moved into place only when complete.
                var partial = tsPath + ".partial";
                FlightTruth result;
                using (var file = File.Create(partial))
                {
                    result = simulator.WriteTsAsync(file, new Core.SyncProgress<int>(i => progress.Report(i / (double)frames)), ct: cancellationToken).GetAwaiter().GetResult();
                }

                File.Move(partial, tsPath, overwrite: true);
                return result;
            }

            return simulator.StreamUdpAsync(target, new Core.SyncProgress<int>(i => progress.Report(0.5 * i / frames)),
                new Core.SyncProgress<int>(i => progress.Report(0.5 + 0.5 * i / frames)), cancellationToken).GetAwaiter().GetResult();
        });

        var truthPath = Path.Combine(outDir, "truth.json");
        var zonesPath = Path.Combine(outDir, "zones.geojson");
        truth.Save(truthPath);
        simulator.WriteZones(zonesPath);
        var crossings = truth.Objects.SelectMany(o => o.BorderCrossings.Select(c => new { id = o.Id, @class = o.Class, time_s = c.Time, to_side = c.ToSide, latitude = c.Latitude, longitude = c.Longitude }))
            .OrderBy(c => c.time_s).ToList();
        if (settings.Json)
        {
            Output.WriteJson(new
            {
                ts = target is null ? tsPath : null,
                udp = target?.ToString(),
                truth = truthPath,
                dem = simulator.DemPath,
                zones = zonesPath,
                frames,
                fps = settings.Fps,
                width,
                height,
                gsd_m = Math.Round(simulator.GroundSampleDistance, 3),
                objects = truth.Objects.Count,
                border_crossings = crossings,
            });
            return 0;
        }

        AnsiConsole.MarkupLine(target is null ? $"Wrote [bold]{Markup.Escape(tsPath)}[/]" : $"Streamed to [bold]udp://{target}[/]");
        AnsiConsole.MarkupLine($"{frames} frames {width}x{height} at {settings.Fps.ToString(CultureInfo.InvariantCulture)} fps, about {simulator.GroundSampleDistance:0.00} m per pixel at the frame centre");
        AnsiConsole.MarkupLine($"Truth {Markup.Escape(truthPath)}, DEM {Markup.Escape(simulator.DemPath)}, zones {Markup.Escape(zonesPath)}");
        var table = new Table().AddColumns("time (s)", "object", "crosses the border to");
        foreach (var c in crossings)
        {
            table.AddRow(c.time_s.ToString("0.00", CultureInfo.InvariantCulture), $"{c.@class} {c.id}", c.to_side);
        }

        AnsiConsole.Write(table);
        return 0;
    }
}
