using NetTopologySuite.Algorithm.Locate;
using NetTopologySuite.Geometries;
using NetTopologySuite.Geometries.Utilities;
using NetTopologySuite.Operation.Buffer;

namespace SiteWatch.Demo.Plant;

/// <summary>
/// Builds the demo case: an assembly plant near Hamhung where, between March and October 2024, a new
/// assembly building (64% of the old hall's footprint) and workers' housing go up, a bridge crane in
/// front of a tunnel entrance is removed, and material piles, road vehicles and open-top freight cars
/// accumulate. Everything is laid out in local metres around the plant centre and translated to UTM 52N.
/// </summary>
public static class PlantScenario
{
    /// <summary>Plant centre, about 39.930N 127.500E (UTM 52N, rounded to 10 m).</summary>
    public const double CentreEasting = 371830;

    public const double CentreNorthing = 4421060;

    public const double GroundSampleDistance = 0.9;

    public const int SceneSize = 1400;

    /// <summary>The one partly clouded acquisition (mid-August, rainy season).</summary>
    public const int CloudyAcquisitionIndex = 5;

    /// <summary>Old assembly hall: 180 x 90 m.</summary>
    public const double HallLength = 180;

    public const double HallWidth = 90;

    /// <summary>New building: 144 x 72 m, i.e. 0.8 x 0.8 of the hall, 64% of its footprint.</summary>
    public const double NewBuildingLength = 144;

    public const double NewBuildingWidth = 72;

    private static readonly DateOnly[] _dates =
    [
        new(2024, 3, 14), new(2024, 4, 12), new(2024, 5, 10), new(2024, 6, 14),
        new(2024, 7, 16), new(2024, 8, 13), new(2024, 9, 12), new(2024, 10, 15),
    ];

    // Summer scenes are hazier; the series starts and ends crisp.
    private static readonly double[] _hazeTemplate = [0.08, 0.14, 0.20, 0.30, 0.42, 0.36, 0.22, 0.10];

    // Misregistration magnitudes (px): first scene is the reference, others sub-pixel to ~3 px.
    private static readonly double[] _shiftTemplate = [0, 0.55, 1.6, 0.3, 2.4, 1.1, 2.9, 0.8];

    private static readonly int[] _vehicleCounts = [5, 7, 9, 12, 16, 19, 23, 28];
    private static readonly int[] _freightCarCounts = [2, 2, 4, 7, 9, 12, 15, 18];
    private static readonly int[] _pileCounts = [3, 5, 8, 11, 14, 18, 21, 25];

    private static readonly PileMaterial[] _pileMaterials =
    [
        new("sand", new(0.170f, 0.220f, 0.280f, 0.330f), false, 4, 8, 2.5, 4.0),
        new("gravel", new(0.150f, 0.160f, 0.172f, 0.192f), false, 4, 8, 2.0, 3.5),
        new("soil", new(0.070f, 0.090f, 0.120f, 0.170f), false, 5, 9, 2.0, 3.5),
        new("steel", new(0.070f, 0.075f, 0.095f, 0.115f), true, 4, 7, 1.0, 1.6),
        new("timber", new(0.120f, 0.150f, 0.210f, 0.300f), true, 3, 5, 1.2, 2.0),
        new("cement_bags", new(0.300f, 0.320f, 0.330f, 0.350f), true, 3, 4.5, 1.2, 1.6),
        new("bricks", new(0.070f, 0.085f, 0.170f, 0.240f), true, 3, 5, 1.2, 1.8),
        new("precast", new(0.250f, 0.270f, 0.280f, 0.300f), true, 4, 7, 1.0, 1.5),
    ];

    /// <summary>Builds the plan; the same seed always gives the same plan and the same scenes.</summary>
    public static DemoPlan Build(int seed = 42) => new Builder(seed).Build();

    /// <summary>WGS84 longitude/latitude of a UTM 52N point, through GDAL/PROJ.</summary>
    public static (double Lon, double Lat) Utm52ToWgs84(double easting, double northing)
    {
        using var utm = SiteWatch.Gdal.SpatialReference.FromEpsg(DemoPlan.Epsg);
        using var wgs84 = SiteWatch.Gdal.SpatialReference.Wgs84();
        using var transform = new SiteWatch.Gdal.CoordinateTransform(utm, wgs84);
        return transform.Transform(easting, northing);
    }

    private sealed record PileMaterial(string Name, Spectrum Colour, bool Stacked,
        double RadiusMin, double RadiusMax, double HeightMin, double HeightMax);

    private sealed class Draft(string id, string objectClass, SceneFeature look, Geometry footprintLocal)
    {
        public string Id { get; } = id;

        public string Class { get; } = objectClass;

        public SceneFeature Look { get; } = look;

        public Geometry FootprintLocal { get; } = footprintLocal;

        public DateOnly? Appeared { get; set; }

        public DateOnly? Removed { get; set; }

        public List<TruthStage> Stages { get; } = [];

        public bool PresentOn(DateOnly d) => (Appeared is null || Appeared <= d) && (Removed is null || Removed > d);

        /// <summary>True when the two objects could stand at the same time (this one from <paramref name="from"/> on).</summary>
        public bool CoexistsFrom(DateOnly? from) => Removed is null || from is null || Removed > from;
    }

    private sealed class Builder(int seed)
    {
        private const double HalfExtent = SceneSize * GroundSampleDistance / 2;

        private readonly int _seed = seed;
        private readonly GeometryFactory _local = new(new PrecisionModel(), 0);
        private readonly List<Draft> _drafts = [];
        private readonly AffineTransformation _toUtm = AffineTransformation.TranslationInstance(CentreEasting, CentreNorthing);
        private Polygon _sceneRect = null!;

        public DemoPlan Build()
        {
            _sceneRect = (Polygon)_local.ToGeometry(new Envelope(-HalfExtent, HalfExtent, -HalfExtent, HalfExtent));
            var (lon, lat) = Utm52ToWgs84(CentreEasting, CentreNorthing);
            var roads = AddRoads();
            AddRailSpur();
            AddTunnelAndCrane();
            AddHall();
            AddNewBuilding();
            AddHousing();
            AddPiles();
            AddVehicles();
            AddFreightCars();
            var layout = BuildLayout(roads);

            var utmFactory = new GeometryFactory(new PrecisionModel(), DemoPlan.Epsg);
            var placed = new List<PlacedFeature>(_drafts.Count);
            foreach (var d in _drafts)
            {
                var truth = new TruthObject(d.Id, d.Class, ToUtm(d.FootprintLocal, utmFactory), d.Appeared, d.Removed, d.Stages.ToArray())
                {
                    HeightMetres = d.Look.Height,
                };
                placed.Add(new PlacedFeature(truth, d.Look));
            }

            var objects = placed.Select(p => p.Truth).ToArray();
            var (acquisitions, conditions) = BuildAcquisitions(lat, lon, layout);
            var changes = DeriveChanges(objects);
            var aoiUtm = (Polygon)ToUtm(layout.AoiLocal, utmFactory);
            double originX = CentreEasting - HalfExtent, originY = CentreNorthing + HalfExtent;
            return new DemoPlan(_seed, GroundSampleDistance, originX, originY, SceneSize, SceneSize,
                CentreEasting, CentreNorthing, aoiUtm, acquisitions, objects, changes, layout, placed, conditions);
        }

        private Geometry ToUtm(Geometry local, GeometryFactory utmFactory)
        {
            var moved = _toUtm.Transform(local.Copy());
            var result = utmFactory.CreateGeometry(moved);
            result.SRID = DemoPlan.Epsg;
            return result;
        }

        private static DateOnly DateBetween(int interval, Random rng)
        {
            // Strictly after acquisition interval-1 and strictly before acquisition interval.
            int gap = _dates[interval].DayNumber - _dates[interval - 1].DayNumber;
            return _dates[interval - 1].AddDays(rng.Next(1, gap));
        }

        private Polygon Box(double cx, double cy, double length, double width, double angle = 0) =>
            RingPolygon(Shape.BoxRing(cx, cy, length, width, angle));

        private Polygon RingPolygon(double[] ring)
        {
            var coords = new Coordinate[ring.Length / 2 + 1];
            for (int i = 0; i < ring.Length / 2; i++)
            {
                coords[i] = new Coordinate(ring[2 * i], ring[2 * i + 1]);
            }

            coords[^1] = coords[0].Copy();
            return _local.CreatePolygon(coords);
        }

        private Draft Add(string id, string objectClass, SceneFeature look, Geometry footprintLocal)
        {
            var draft = new Draft(id, objectClass, look, footprintLocal);
            _drafts.Add(draft);
            return draft;
        }

        private Geometry Buffer(IReadOnlyList<(double X, double Y)> line, double halfWidth)
        {
            var coords = line.Select(p => new Coordinate(p.X, p.Y)).ToArray();
            var parameters = new BufferParameters { EndCapStyle = EndCapStyle.Flat, JoinStyle = JoinStyle.Round, QuadrantSegments = 6 };
            return BufferOp.Buffer(_local.CreateLineString(coords), halfWidth, parameters);
        }

        private List<Geometry> AddRoads()
        {
            var publicRoad = Shape.Chaikin([(-700, -430), (-300, -420), (45, -410), (300, -440), (700, -470)], 3);
            (string Id, IReadOnlyList<(double X, double Y)> Line, double Width, int Variant)[] roads =
            [
                ("road-public", publicRoad, 8, 0),
                ("road-main", [(45, -412), (45, 118)], 7, 1),
                ("road-internal", [(-400, -20), (350, -20)], 7, 1),
                ("road-north", [(-250, 115), (300, 115)], 6, 1),
                ("road-tunnel", [(-120, 112), (-120, 214)], 6, 1),
                ("road-housing", [(-210, -17), (-210, -185)], 5, 2),
            ];
            var footprints = new List<Geometry>();
            foreach (var (id, line, width, variant) in roads)
            {
                var footprint = Buffer(line, width / 2).Intersection(_sceneRect);
                footprints.Add(footprint);
                var colour = variant switch
                {
                    0 => Materials.Asphalt,
                    1 => Materials.ConcreteOld,
                    _ => Materials.Gravel,
                };
                Add(id, TruthClasses.Road, new SceneFeature
                {
                    Kind = FeatureKind.Road,
                    Footprint = Shape.FromGeometry(footprint),
                    Primary = colour,
                    Variant = variant,
                    Width = width,
                }, footprint);
            }

            return footprints;
        }

        private void AddRailSpur()
        {
            var track = Shape.Chaikin([(-112, -150), (150, -150), (195, -150), (262, -168), (330, -215), (420, -300), (540, -420), (700, -590)], 3);
            var siding = Shape.Chaikin([(-95, -155.5), (125, -155.5), (160, -153.5), (188, -150.2)], 2);
            var ballast = Buffer(track, 2.1).Union(Buffer(siding, 2.1)).Intersection(_sceneRect);
            const double halfGauge = 0.7175;
            var rails = new List<Shape>();
            foreach (var line in new[] { track, siding })
            {
                rails.Add(Shape.Strip(line, halfGauge, 0.22));
                rails.Add(Shape.Strip(line, -halfGauge, 0.22));
            }

            Add("rail-1", TruthClasses.RailSpur, new SceneFeature
            {
                Kind = FeatureKind.RailSpur,
                Footprint = Shape.FromGeometry(ballast),
                Primary = Materials.Ballast,
                Secondary = Materials.RailSteel,
                Parts = rails,
            }, ballast);
        }

        private void AddTunnelAndCrane()
        {
            const double x = SiteLayout.TunnelX;
            var footprint = Box(x, 261, 16, 10);
            Add("tunnel-1", TruthClasses.TunnelEntrance, new SceneFeature
            {
                Kind = FeatureKind.TunnelEntrance,
                Footprint = Shape.FromGeometry(footprint),
                Cx = x,
                Cy = 261,
                Length = 16,
                Width = 10,
                Height = 9,
                Primary = Materials.ConcreteOld,
                Secondary = Materials.TunnelVoid,
                // Parts[0] is the dark mouth; then the concrete headwall cut into the hillside and its wing walls.
                Parts =
                [
                    Shape.Box(x, 259.5, 9.5, 7),
                    Shape.Box(x, 264.5, 16, 3),
                    Shape.Box(x - 7.4, 259.5, 1.2, 7),
                    Shape.Box(x + 7.4, 259.5, 1.2, 7),
                ],
            }, footprint);

            var rng = Noise.SubRandom(_seed, 10);
            var crane = Add("crane-1", TruthClasses.BridgeCrane, new SceneFeature
            {
                Kind = FeatureKind.BridgeCrane,
                Footprint = Shape.Box(x, 248.75, 44, 6.5),
                Cx = x,
                Cy = 248.75,
                Length = 44,
                Width = 6.5,
                Height = 16,
                Primary = Materials.CraneYellow,
                Secondary = Materials.RustSteel,
            }, Box(x, 248.75, 44, 6.5));
            crane.Removed = DateBetween(4, rng);
        }

        private void AddHall()
        {
            var footprint = Box(-60, 40, HallLength, HallWidth);
            Add("hall-1", TruthClasses.AssemblyHall, new SceneFeature
            {
                Kind = FeatureKind.AssemblyHall,
                Footprint = Shape.FromGeometry(footprint),
                Cx = -60,
                Cy = 40,
                Length = HallLength,
                Width = HallWidth,
                Height = 22,
                Primary = Materials.RoofWeathered,
                Secondary = Materials.Skylight,
            }, footprint);
        }

        private void AddNewBuilding()
        {
            var rng = Noise.SubRandom(_seed, 11);
            var footprint = Box(142, 41, NewBuildingLength, NewBuildingWidth);
            var draft = Add("newbldg-1", TruthClasses.NewAssemblyBuilding, new SceneFeature
            {
                Kind = FeatureKind.NewAssemblyBuilding,
                Footprint = Shape.FromGeometry(footprint),
                Cx = 142,
                Cy = 41,
                Length = NewBuildingLength,
                Width = NewBuildingWidth,
                Height = 18,
                Primary = Materials.RoofNew,
                Secondary = Materials.PrimerSteel,
            }, footprint);
            string[] stages = ["cleared", "foundation", "frame", "roofing", "roof"];
            for (int s = 0; s < stages.Length; s++)
            {
                draft.Stages.Add(new TruthStage(DateBetween(s + 1, rng), stages[s]));
            }

            draft.Appeared = draft.Stages[0].From;
        }

        private void AddHousing()
        {
            var rng = Noise.SubRandom(_seed, 12);
            string[] stages = ["foundation", "walls", "roof"];
            for (int row = 0; row < 4; row++)
            {
                var roof = Materials.HousingRoofs[rng.Next(Materials.HousingRoofs.Length)];
                for (int k = 0; k < 4; k++)
                {
                    double cx = -355 + 38 * k, cy = -70 - 30 * row;
                    var footprint = Box(cx, cy, 30, 12);
                    var draft = Add($"housing-{(char)('a' + row)}{k + 1}", TruthClasses.WorkerHousing, new SceneFeature
                    {
                        Kind = FeatureKind.WorkerHousing,
                        Footprint = Shape.FromGeometry(footprint),
                        Cx = cx,
                        Cy = cy,
                        Length = 30,
                        Width = 12,
                        Height = 7.5,
                        Primary = roof * (0.94f + 0.12f * (float)rng.NextDouble()),
                        Secondary = Materials.ConcreteOld,
                    }, footprint);
                    // Row r: foundations before scene r+2, walls before r+3, roofs before r+4.
                    for (int s = 0; s < stages.Length; s++)
                    {
                        draft.Stages.Add(new TruthStage(DateBetween(row + 2 + s, rng), stages[s]));
                    }

                    draft.Appeared = draft.Stages[0].From;
                }
            }
        }

        private void AddPiles()
        {
            var rng = Noise.SubRandom(_seed, 13);
            var piles = new List<Draft>();
            int serial = 0;
            for (int i = 0; i < _dates.Length; i++)
            {
                if (i is 3 or 6)
                {
                    // Some material gets used up.
                    var present = piles.Where(p => p.PresentOn(_dates[i - 1])).ToList();
                    present[rng.Next(present.Count)].Removed = DateBetween(i, rng);
                }

                // Everything placed so far appeared before this date, so only removals thin it out.
                int standing = piles.Count(p => p.PresentOn(_dates[i]));
                for (int n = standing; n < _pileCounts[i]; n++)
                {
                    DateOnly? appeared = i == 0 ? null : DateBetween(i, rng);
                    piles.Add(PlacePile(++serial, appeared, piles, rng));
                }
            }
        }

        private Draft PlacePile(int serial, DateOnly? appeared, List<Draft> piles, Random rng)
        {
            var material = _pileMaterials[rng.Next(_pileMaterials.Length)];
            for (int attempt = 0; attempt < 500; attempt++)
            {
                double r = material.RadiusMin + rng.NextDouble() * (material.RadiusMax - material.RadiusMin);
                double cx = 94 + r + rng.NextDouble() * (222 - 2 * r);
                double cy = -121 + r + rng.NextDouble() * (82 - 2 * r);
                bool clash = piles.Any(p => p.CoexistsFrom(appeared) &&
                    Math.Sqrt(Sq(p.Look.Cx - cx) + Sq(p.Look.Cy - cy)) < p.Look.Radius + r + 2.5);
                if (clash)
                {
                    continue;
                }

                double angle = rng.NextDouble() * Math.PI;
                double[] ring = material.Stacked ? StackRing(cx, cy, r, angle, rng) : MoundRing(cx, cy, r, angle, rng);
                var footprint = RingPolygon(ring);
                var draft = Add($"pile-{serial:D3}", TruthClasses.MaterialPile, new SceneFeature
                {
                    Kind = FeatureKind.MaterialPile,
                    Footprint = Shape.FromGeometry(footprint),
                    Cx = cx,
                    Cy = cy,
                    Radius = r,
                    Angle = angle,
                    Height = material.HeightMin + rng.NextDouble() * (material.HeightMax - material.HeightMin),
                    Primary = material.Colour * (0.9f + 0.2f * (float)rng.NextDouble()),
                    Variant = material.Stacked ? 1 : 0,
                }, footprint);
                draft.Appeared = appeared;
                return draft;
            }

            throw new InvalidOperationException("Could not place a material pile in the laydown yard.");
        }

        private static double[] MoundRing(double cx, double cy, double r, double angle, Random rng)
        {
            // Star-shaped around the centre (hence simple), stretched a little along a random axis.
            const int n = 11;
            double aspect = 1 + 0.45 * rng.NextDouble();
            double c = Math.Cos(angle), s = Math.Sin(angle);
            var ring = new double[2 * n];
            for (int k = 0; k < n; k++)
            {
                double t = 2 * Math.PI * (k + 0.3 * (rng.NextDouble() - 0.5)) / n;
                double rr = r * (0.78 + 0.34 * rng.NextDouble());
                double u = rr * Math.Cos(t) * Math.Sqrt(aspect), v = rr * Math.Sin(t) / Math.Sqrt(aspect);
                ring[2 * k] = cx + u * c - v * s;
                ring[2 * k + 1] = cy + u * s + v * c;
            }

            return ring;
        }

        private static double[] StackRing(double cx, double cy, double r, double angle, Random rng)
        {
            // Roughly rectangular stack with ragged corners.
            double hl = r, hw = r * (0.35 + 0.3 * rng.NextDouble());
            (double U, double V)[] corners =
            [
                (-hl, -hw), (0, -hw - 0.3 * (rng.NextDouble() - 0.5)), (hl, -hw),
                (hl + 0.4 * (rng.NextDouble() - 0.5), 0), (hl, hw), (0, hw + 0.3 * (rng.NextDouble() - 0.5)),
                (-hl, hw), (-hl - 0.4 * (rng.NextDouble() - 0.5), 0),
            ];
            double c = Math.Cos(angle), s = Math.Sin(angle);
            var ring = new double[corners.Length * 2];
            for (int k = 0; k < corners.Length; k++)
            {
                double u = corners[k].U + 0.35 * (rng.NextDouble() - 0.5), v = corners[k].V + 0.25 * (rng.NextDouble() - 0.5);
                ring[2 * k] = cx + u * c - v * s;
                ring[2 * k + 1] = cy + u * s + v * c;
            }

            return ring;
        }

        private void AddVehicles()
        {
            var rng = Noise.SubRandom(_seed, 14);
            var vehicles = new List<Draft>();
            int serial = 0;
            for (int i = 0; i < _dates.Length; i++)
            {
                if (i >= 2)
                {
                    int departures = rng.Next(0, 3);
                    var present = vehicles.Where(v => v.PresentOn(_dates[i - 1]) && v.Removed is null).ToList();
                    for (int k = 0; k < departures && present.Count > 0; k++)
                    {
                        int pick = rng.Next(present.Count);
                        present[pick].Removed = DateBetween(i, rng);
                        present.RemoveAt(pick);
                    }
                }

                int standing = vehicles.Count(v => v.PresentOn(_dates[i]));
                for (int n = standing; n < _vehicleCounts[i]; n++)
                {
                    DateOnly? appeared = i == 0 ? null : DateBetween(i, rng);
                    vehicles.Add(PlaceVehicle(++serial, appeared, vehicles, rng));
                }
            }
        }

        private Draft PlaceVehicle(int serial, DateOnly? appeared, List<Draft> vehicles, Random rng)
        {
            double length = 4.8 + 0.6 * rng.NextDouble(), width = 2.1 + 0.3 * rng.NextDouble();
            var paint = Materials.VehiclePaints[rng.Next(Materials.VehiclePaints.Length)];
            var bed = rng.Next(3) switch
            {
                0 => paint * 0.78f,
                1 => Materials.VehiclePaints[2],
                _ => Materials.RustSteel,
            };
            for (int attempt = 0; attempt < 1000; attempt++)
            {
                double cx, cy, angle, minGap;
                if (rng.NextDouble() < 0.6)
                {
                    // Parking apron: three rows of slots 3.2 m apart, filled from the hall end.
                    int row = rng.Next(3);
                    int slot = Math.Min(46, (int)(Math.Abs(rng.NextDouble() + rng.NextDouble() - 1) * 30 + rng.Next(4)));
                    cx = -134 + 3.2 * slot;
                    cy = -50 - 30 * row;
                    angle = rng.Next(2) == 0 ? Math.PI / 2 : -Math.PI / 2;
                    angle += 0.04 * (rng.NextDouble() - 0.5);
                    minGap = 0.4;
                }
                else
                {
                    // Construction site east of the new building: parked any which way.
                    cx = 232 + rng.NextDouble() * 82;
                    cy = 4 + rng.NextDouble() * 87;
                    angle = rng.NextDouble() * Math.PI * 2;
                    minGap = 1.5;
                }

                var footprint = Box(cx, cy, length, width, angle);
                bool clash = vehicles.Any(v => v.CoexistsFrom(appeared) && v.FootprintLocal.IsWithinDistance(footprint, minGap));
                if (clash)
                {
                    continue;
                }

                var draft = Add($"veh-{serial:D3}", TruthClasses.Vehicle, new SceneFeature
                {
                    Kind = FeatureKind.Vehicle,
                    Footprint = Shape.FromGeometry(footprint),
                    Cx = cx,
                    Cy = cy,
                    Length = length,
                    Width = width,
                    Angle = angle,
                    Height = 2.5 + 0.8 * rng.NextDouble(),
                    Primary = paint,
                    Secondary = bed,
                }, footprint);
                draft.Appeared = appeared;
                return draft;
            }

            throw new InvalidOperationException("Could not place a vehicle.");
        }

        private void AddFreightCars()
        {
            var rng = Noise.SubRandom(_seed, 15);
            // Usable straight stretches of the two tracks (x ranges), leaving the level crossing at x = 45 clear.
            (double Y, double From, double To)[] stretches = [(-150, -110, 37), (-150, 53, 150), (-155.5, -92, 37), (-155.5, 53, 124)];
            int stretch = 0;
            double cursor = stretches[0].From;
            int serial = 0;
            for (int i = 0; i < _dates.Length; i++)
            {
                int arrivals = _freightCarCounts[i] - serial;
                if (arrivals <= 0)
                {
                    continue;
                }

                // A train delivers its cars coupled together, leaving a gap to the previous ones.
                DateOnly? appeared = i == 0 ? null : DateBetween(i, rng);
                cursor += serial == 0 ? 0 : 1.5 + 5 * rng.NextDouble();
                for (int k = 0; k < arrivals; k++)
                {
                    while (cursor + 14 > stretches[stretch].To)
                    {
                        stretch++;
                        if (stretch == stretches.Length)
                        {
                            throw new InvalidOperationException("The rail spur is full.");
                        }

                        cursor = stretches[stretch].From;
                    }

                    double cx = cursor + 7, cy = stretches[stretch].Y;
                    cursor += 15.2;
                    var footprint = Box(cx, cy, 14, 3);
                    var load = rng.Next(4) switch
                    {
                        0 => Materials.Coal,
                        1 => Materials.Gravel * 0.8f,
                        _ => Materials.CarInteriorDark,
                    };
                    var draft = Add($"car-{++serial:D3}", TruthClasses.FreightCar, new SceneFeature
                    {
                        Kind = FeatureKind.FreightCar,
                        Footprint = Shape.FromGeometry(footprint),
                        Cx = cx,
                        Cy = cy,
                        Length = 14,
                        Width = 3,
                        Height = 3.1,
                        Primary = Materials.RustSteel * (0.85f + 0.3f * (float)rng.NextDouble()),
                        Secondary = load,
                    }, footprint);
                    draft.Appeared = appeared;
                }
            }
        }

        private SiteLayout BuildLayout(List<Geometry> roads)
        {
            (double X, double Y)[] fence =
            [
                (-410, -230), (-20, -300), (350, -300), (370, 20), (330, 200), (-70, 235), (-75, 290),
                (-165, 290), (-170, 235), (-330, 220), (-420, 100), (-410, -230),
            ];
            var aoi = _local.CreatePolygon(fence.Select(p => new Coordinate(p.X, p.Y)).ToArray());

            var footLine = new List<Coordinate>();
            for (double x = -HalfExtent - 20; x <= HalfExtent + 20; x += 5)
            {
                footLine.Add(new Coordinate(x, SiteLayout.HillFootY(x)));
            }

            footLine.Add(new Coordinate(HalfExtent + 20, HalfExtent + 20));
            footLine.Add(new Coordinate(-HalfExtent - 20, HalfExtent + 20));
            footLine.Add(footLine[0].Copy());
            var hill = _local.CreatePolygon(footLine.ToArray());

            var yard = aoi.Difference(hill);
            var around = (Polygon)_local.ToGeometry(new Envelope(-HalfExtent - 10, HalfExtent + 10, -HalfExtent - 10, HalfExtent + 10));
            var farmland = around.Difference(aoi.Buffer(45)).Difference(hill.Buffer(20)).Difference(roads[0].Buffer(6));

            return new SiteLayout
            {
                AoiLocal = aoi,
                Yard = Shape.FromGeometry(yard),
                Farmland = Shape.FromGeometry(farmland),
                ParkingApron = Shape.Rect(-140, -125, 20, -35),
                LaydownYard = Shape.Rect(90, -125, 320, -35),
                TunnelApron = Shape.FromPoints([(-152, 212), (-88, 212), (-88, 258), (-152, 258)]),
                TunnelCut = Shape.FromPoints([(-142, 253), (-98, 253), (-92, 283), (-148, 283)]),
                CraneRunwayRails = [Shape.Rect(-141.15, 222, -140.85, 258), Shape.Rect(-99.15, 222, -98.85, 258)],
                VegetationProbeLocal = (Polygon)_local.ToGeometry(new Envelope(-545, -495, -565, -515)),
            };
        }

        private (DemoAcquisition[] Acquisitions, SceneConditions[] Conditions) BuildAcquisitions(double lat, double lon, SiteLayout layout)
        {
            var rng = Noise.SubRandom(_seed, 1);
            var acquisitions = new DemoAcquisition[_dates.Length];
            var conditions = new SceneConditions[_dates.Length];
            for (int i = 0; i < _dates.Length; i++)
            {
                // Sun-synchronous morning pass: ~10:30 local mean solar time is ~02:00 UTC at 127.5E.
                var utc = _dates[i].ToDateTime(new TimeOnly(1, 45), DateTimeKind.Utc).AddSeconds(rng.Next(0, 1800));
                var (elevation, azimuth) = SolarPosition.Compute(utc, lat, lon);
                double haze = Math.Clamp(_hazeTemplate[i] + 0.06 * (rng.NextDouble() - 0.5), 0.02, 0.7);
                double shiftX = 0, shiftY = 0;
                if (i > 0)
                {
                    double magnitude = _shiftTemplate[i] * (0.85 + 0.3 * rng.NextDouble());
                    double direction = rng.NextDouble() * 2 * Math.PI;
                    shiftX = Math.Round(magnitude * Math.Cos(direction), 3);
                    shiftY = Math.Round(magnitude * Math.Sin(direction), 3);
                }

                bool second = i is 2 or 4 or 7;
                string sensor = second ? "SynSat-2" : "SynSat-1";
                Spectrum baseGain = second ? new(1.035f, 0.985f, 1.02f, 0.955f) : new(1f, 1f, 1f, 1f);
                Spectrum baseOffset = second ? new(0.004f, 0.002f, -0.002f, 0.003f) : new(0f, 0f, 0f, 0f);
                var gain = baseGain.Times(new(Jitter(rng, 0.015f), Jitter(rng, 0.015f), Jitter(rng, 0.015f), Jitter(rng, 0.015f)));
                var offset = baseOffset + new Spectrum(Signed(rng, 0.002f), Signed(rng, 0.002f), Signed(rng, 0.002f), Signed(rng, 0.002f));
                var sigma = new Spectrum(0.0042f, 0.0038f, 0.0035f, 0.0048f) * (second ? 1.2f : 1f);

                CloudField? clouds = null;
                double? cover = null;
                if (i == CloudyAcquisitionIndex)
                {
                    clouds = BuildClouds(rng, elevation, azimuth);
                    cover = Math.Round(CloudCoverPercent(clouds, layout.AoiLocal), 2);
                }

                conditions[i] = new SceneConditions(gain, offset, sigma, clouds, Noise.Hash(_seed, i, 0x6E6F6973u) | ((ulong)Noise.Hash(i, _seed, 0x73656E73u) << 32));
                acquisitions[i] = new DemoAcquisition(i, utc, sensor, Math.Round(elevation, 3), Math.Round(azimuth, 3),
                    Math.Round(haze, 3), shiftX, shiftY, cover);
            }

            return (acquisitions, conditions);
        }

        private CloudField BuildClouds(Random rng, double elevationDeg, double azimuthDeg)
        {
            // Fair-weather cumulus over the western half of the plant; the shadows land to the north-west.
            (double X, double Y, double Sigma, double Weight)[] cells =
            [
                (-215 + 30 * (rng.NextDouble() - 0.5), -170 + 30 * (rng.NextDouble() - 0.5), 95, 1.0),
                (-95 + 30 * (rng.NextDouble() - 0.5), -275 + 30 * (rng.NextDouble() - 0.5), 60, 0.85),
                (-335 + 30 * (rng.NextDouble() - 0.5), -55 + 30 * (rng.NextDouble() - 0.5), 70, 0.8),
            ];
            const double cloudBase = 600;
            double tanEl = Math.Tan(elevationDeg * Math.PI / 180), az = azimuthDeg * Math.PI / 180;
            double length = cloudBase / tanEl;
            return new CloudField(cells, Noise.SubSeed(_seed, 77), -Math.Sin(az) * length, -Math.Cos(az) * length);
        }

        private static double CloudCoverPercent(CloudField clouds, Polygon aoi)
        {
            var locator = new IndexedPointInAreaLocator(aoi);
            var env = aoi.EnvelopeInternal;
            const double step = 2.0;
            long inside = 0, cloudy = 0;
            for (double y = env.MinY + step / 2; y < env.MaxY; y += step)
            {
                for (double x = env.MinX + step / 2; x < env.MaxX; x += step)
                {
                    if (locator.Locate(new Coordinate(x, y)) == Location.Exterior)
                    {
                        continue;
                    }

                    inside++;
                    if (clouds.Opacity(x, y) > CloudField.MaskThreshold)
                    {
                        cloudy++;
                    }
                }
            }

            return 100.0 * cloudy / inside;
        }

        private static TruthChange[] DeriveChanges(IReadOnlyList<TruthObject> objects)
        {
            var changes = new List<TruthChange>();
            for (int i = 1; i < _dates.Length; i++)
            {
                var before = _dates[i - 1];
                var after = _dates[i];
                foreach (var o in objects)
                {
                    bool was = o.IsPresentOn(before), @is = o.IsPresentOn(after);
                    string? kind = (was, @is) switch
                    {
                        (false, true) => ChangeKinds.Appeared,
                        (true, false) => ChangeKinds.Removed,
                        (true, true) when o.StageOn(before) != o.StageOn(after) => ChangeKinds.Altered,
                        _ => null,
                    };
                    if (kind is not null)
                    {
                        changes.Add(new TruthChange(before, after, o.Id, o.Class, kind, o.FootprintUtm, o.FootprintUtm.Area));
                    }
                }
            }

            return [.. changes];
        }

        private static float Jitter(Random rng, float amplitude) => 1f + amplitude * (2f * (float)rng.NextDouble() - 1f);

        private static float Signed(Random rng, float amplitude) => amplitude * (2f * (float)rng.NextDouble() - 1f);

        private static double Sq(double v) => v * v;
    }
}
