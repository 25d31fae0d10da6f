using SiteWatch.Gdal;

namespace SiteWatch.Tests.Gdal;

public class RasterIoTests
{
    public static TheoryData<RasterDataType> PixelTypes => [RasterDataType.Byte, RasterDataType.UInt16, RasterDataType.Int16, RasterDataType.Float32];

    [Fact]
    public void A_mask_band_clears_exactly_the_valid_pixels_it_covers_in_the_window_read()
    {
        using var dir = new TempDir();
        var path = dir.File("mask.tif");
        using var mask = RasterDataset.Create(path, new RasterProfile(40, 30, 1, RasterDataType.Byte) { GeoTransform = GeoTransform.NorthUp(500_000, 4_400_000, 1), Crs = "EPSG:32652" });
        var data = new byte[40 * 30];
        data[5 * 40 + 7] = 1;   // row 5, column 7
        data[12 * 40 + 20] = 255; // any non-zero value excludes
        mask.Write<byte>(1, new RasterWindow(0, 0, 40, 30), data);
        var window = new RasterWindow(5, 4, 20, 10); // holds both set pixels
        var valid = Enumerable.Repeat((byte)1, (int)window.PixelCount + 3).ToArray();
        valid[0] = 0; // already invalid stays invalid
        mask.ExcludeMasked(1, window, valid.AsSpan(0, (int)window.PixelCount));
        var cleared = Enumerable.Range(0, (int)window.PixelCount).Where(i => valid[i] == 0).ToArray();
        Assert.Equal([0, (5 - 4) * 20 + (7 - 5), (12 - 4) * 20 + (20 - 5)], cleared);
        Assert.All(valid[^3..], v => Assert.Equal(1, v)); // nothing beyond the window's pixels is touched
    }

    [Theory]
    [InlineData(-9999.0)]
    [InlineData(null)]
    public void A_masked_read_clears_nodata_and_nan_pixels_and_keeps_those_already_invalid(double? noData)
    {
        using var dir = new TempDir();
        // 37 x 5: rows are not a multiple of any vector width, so both the vector and the scalar tail paths run.
        const int width = 37, height = 5;
        using var raster = RasterDataset.Create(dir.File("masked.tif"), new RasterProfile(width, height, 1, RasterDataType.Float32)
        {
            GeoTransform = GeoTransform.NorthUp(500_000, 4_400_000, 1), Crs = "EPSG:32652", NoData = noData,
        });
        var data = Enumerable.Range(0, width * height).Select(i => (float)i).ToArray();
        data[3] = float.NaN;
        data[40] = -9999f;          // nodata only when the band says so
        data[width * height - 1] = float.NaN; // in the scalar tail
        raster.Write<float>(1, new RasterWindow(0, 0, width, height), data);
        var window = new RasterWindow(0, 0, width, height);
        var values = new float[window.PixelCount];
        var valid = Enumerable.Repeat((byte)1, (int)window.PixelCount + 2).ToArray();
        valid[100] = 0; // already invalid (another band, or a cloud mask) stays so
        raster.ReadMasked(1, window, values, valid);
        int[] expected = noData is null ? [3, 100, width * height - 1] : [3, 40, 100, width * height - 1];
        Assert.Equal(expected, Enumerable.Range(0, (int)window.PixelCount).Where(i => valid[i] == 0));
        Assert.All(valid[^2..], v => Assert.Equal(1, v));
        Assert.Equal(-9999f, values[40]);
        Assert.Equal(41f, values[41]);
    }

    [Theory]
    [MemberData(nameof(PixelTypes))]
    public void Windows_written_block_by_block_read_back_exactly(RasterDataType type)
    {
        using var dir = new TempDir();
        var path = dir.File($"rt-{type}.tif");
        const int width = 700, height = 530; // not multiples of the 512 block: edge windows are partial
        var profile = new RasterProfile(width, height, 2, type) { GeoTransform = GeoTransform.NorthUp(500_000, 4_400_000, 2), Crs = "EPSG:32652", NoData = 7 };
        using (var raster = RasterDataset.Create(path, profile))
        {
            foreach (var w in raster.BlockWindows())
            {
                for (var b = 1; b <= 2; b++)
                {
                    raster.Write<double>(b, w, Pattern(w, b, type));
                }
            }
        }
        using var reopened = RasterDataset.Open(path);
        Assert.Equal((width, height, 2, type), (reopened.Width, reopened.Height, reopened.BandCount, reopened.DataType));
        Assert.Equal(7, reopened.NoData);
        Assert.Equal(32652, reopened.OpenCrs()!.Epsg);
        Assert.Equal(GeoTransform.NorthUp(500_000, 4_400_000, 2), reopened.GeoTransform);
        // Read with windows that straddle block edges, in the file's own type.
        var window = new RasterWindow(450, 300, 250, 230);
        for (var b = 1; b <= 2; b++)
        {
            var expected = Pattern(window, b, type);
            var actual = ReadAs(reopened, b, window, type);
            Assert.Equal(expected, actual);
        }
    }

    [Theory]
    [InlineData("COMPRESS=NONE", "INTERLEAVE=PIXEL")]
    [InlineData("COMPRESS=NONE", "INTERLEAVE=BAND")]
    [InlineData("COMPRESS=DEFLATE", "INTERLEAVE=PIXEL")]
    public void Several_bands_read_in_one_call_match_band_by_band_reads_also_when_streamed_past_the_cache(string compress, string interleave)
    {
        using var dir = new TempDir();
        var path = dir.File("multi.tif");
        const int width = 700, height = 530;
        var profile = new RasterProfile(width, height, 3, RasterDataType.UInt16) { GeoTransform = GeoTransform.NorthUp(500_000, 4_400_000, 2), Crs = "EPSG:32652", NoData = 7 };
        using (var raster = RasterDataset.Create(path, profile, creationOptions: ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", compress, interleave]))
        {
            var all = new RasterWindow(0, 0, width, height);
            for (var b = 1; b <= 3; b++)
            {
                var values = Pattern(all, b, RasterDataType.UInt16).Select(v => (ushort)v).ToArray();
                values[b * 1000] = 7; // nodata in a different pixel of each band
                raster.Write<ushort>(b, all, values);
            }
        }
        var window = new RasterWindow(450, 300, 250, 230); // straddles tiles, ends at the edge blocks
        var n = (int)window.PixelCount;
        using var cached = RasterDataset.Open(path);
        using var streamed = RasterDataset.OpenForStreaming(path);
        int[] bands = [3, 1]; // a subset, out of order
        var expected = bands.SelectMany(b => cached.Read<float>(b, window)).ToArray();
        foreach (var raster in new[] { cached, streamed })
        {
            var values = new float[2 * n + 5];
            var valid = Enumerable.Repeat((byte)1, n).ToArray();
            raster.ReadMasked(bands, window, values, valid);
            Assert.Equal(expected, values[..(2 * n)]);
            Assert.Equal(Enumerable.Range(0, n).Where(i => expected[i] == 7 || expected[n + i] == 7), Enumerable.Range(0, n).Where(i => valid[i] == 0));
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => streamed.Read<float>([1, 4], window, new float[2 * n]));
        Assert.Throws<ArgumentException>(() => streamed.Read<float>([1, 2], window, new float[2 * n - 1]));
    }

    [Theory]
    [InlineData("COMPRESS=DEFLATE", "INTERLEAVE=PIXEL", "TILED=YES")]  // decompressed on GDAL's threads
    [InlineData("COMPRESS=ZSTD", "INTERLEAVE=PIXEL", "TILED=NO")]     // strips, on GDAL's threads
    [InlineData("COMPRESS=DEFLATE", "INTERLEAVE=BAND", "TILED=YES")]   // band-separate: read on the calling thread
    [InlineData("COMPRESS=NONE", "INTERLEAVE=PIXEL", "TILED=YES")]
    public void A_window_read_into_memory_holds_the_same_pixels_georeference_and_nodata(string compress, string interleave, string tiled)
    {
        using var dir = new TempDir();
        var path = dir.File("scene.tif");
        const int width = 700, height = 530;
        var profile = new RasterProfile(width, height, 4, RasterDataType.UInt16)
        {
            GeoTransform = GeoTransform.NorthUp(500_000, 4_400_000, 2), Crs = "EPSG:32652", NoData = 7, BandDescriptions = ["blue", "green", "red", "nir"],
        };
        using (var raster = RasterDataset.Create(path, profile, creationOptions: [tiled, "BLOCKXSIZE=256", "BLOCKYSIZE=256", "ROWSPERSTRIP=64", compress, interleave]))
        {
            var all = new RasterWindow(0, 0, width, height);
            for (var b = 1; b <= 4; b++)
            {
                raster.Write<ushort>(b, all, Pattern(all, b, RasterDataType.UInt16).Select(v => (ushort)v).ToArray());
            }
        }
        using var source = RasterDataset.Open(path);
        int[] bands = [3, 1, 4]; // a subset, out of order
        foreach (var window in new[] { new RasterWindow(0, 0, width, height), new RasterWindow(130, 70, 555, 460) })
        {
            using var copy = source.ReadIntoMemory(bands, window);
            Assert.Equal((window.Width, window.Height, 3), (copy.Width, copy.Height, copy.BandCount));
            Assert.Equal("MEM", copy.Driver);
            for (var i = 0; i < bands.Length; i++)
            {
                Assert.Equal(source.Read<ushort>(bands[i], window), copy.Read<ushort>(i + 1, new RasterWindow(0, 0, window.Width, window.Height)));
                Assert.Equal(7, copy.NoDataOf(i + 1));
                Assert.Equal(source.BandDescription(bands[i]), copy.BandDescription(i + 1));
            }
            Assert.Equal(source.GeoTransform!.Value.PixelToMap(window.Column + 3, window.Row + 5), copy.GeoTransform!.Value.PixelToMap(3, 5));
            using var crs = copy.OpenCrs()!;
            Assert.Equal(32652, crs.Epsg);
            // Subsampled reads of the copy pick GDAL's pixels (the copy picks them from its memory itself).
            foreach (var (bw, bh) in new[] { (window.Width / 2, window.Height / 2), (window.Width / 3, 100), (97, 61), (window.Width, window.Height / 4), (1, 1) })
            {
                var inner = new RasterWindow(5, 9, window.Width - 11, window.Height - 12);
                foreach (var (of, at) in new[] { (window with { Column = 0, Row = 0 }, window), (inner, inner with { Column = window.Column + 5, Row = window.Row + 9 }) })
                {
                    var picked = new ushort[bw * bh];
                    var expected = new ushort[bw * bh];
                    copy.ReadDecimated<ushort>(2, of, bw, bh, picked);
                    source.ReadDecimated<ushort>(bands[1], at, bw, bh, expected);
                    Assert.Equal(expected, picked);
                }
            }
        }
        Assert.Throws<ArgumentOutOfRangeException>(() => source.ReadIntoMemory([1, 5], new RasterWindow(0, 0, 10, 10)));
        Assert.Throws<ArgumentOutOfRangeException>(() => source.ReadIntoMemory([1], new RasterWindow(600, 0, 101, 10)));
        Assert.Throws<OperationCanceledException>(() => source.ReadIntoMemory([1], new RasterWindow(0, 0, width, height), new CancellationToken(canceled: true)));
    }

    [Theory]
    [InlineData("INTERLEAVE=PIXEL")] // decompressed on GDAL's threads
    [InlineData("INTERLEAVE=BAND")]  // on the calling thread
    public void A_corrupt_block_fails_the_copy_into_memory_with_gdals_message_and_the_file(string interleave)
    {
        using var dir = new TempDir();
        var path = dir.File("corrupt.tif");
        const int width = 700, height = 530;
        var profile = new RasterProfile(width, height, 3, RasterDataType.UInt16) { GeoTransform = GeoTransform.NorthUp(500_000, 4_400_000, 2), Crs = "EPSG:32652" };
        using (var raster = RasterDataset.Create(path, profile, creationOptions: ["TILED=YES", "BLOCKXSIZE=256", "BLOCKYSIZE=256", "COMPRESS=DEFLATE", interleave]))
        {
            var all = new RasterWindow(0, 0, width, height);
            for (var b = 1; b <= 3; b++)
            {
                raster.Write<ushort>(b, all, Pattern(all, b, RasterDataType.UInt16).Select(v => (ushort)v).ToArray());
            }
        }
        // Tile data, past the header: DEFLATE streams that no longer inflate.
        var bytes = File.ReadAllBytes(path);
        bytes.AsSpan(bytes.Length / 3, bytes.Length / 3).Fill(0xA5);
        File.WriteAllBytes(path, bytes);

        using var source = RasterDataset.Open(path);
        var e = Assert.Throws<GdalException>(() => source.ReadIntoMemory([1, 2, 3], new RasterWindow(0, 0, width, height)));
        Assert.Contains(path, e.Message);
        Assert.False(string.IsNullOrWhiteSpace(e.GdalMessage));
    }

    [Fact]
    public void Bands_of_different_pixel_types_are_not_copied_into_one_in_memory_raster()
    {
        using var dir = new TempDir();
        var path = dir.File("mixed.vrt");
        var tif = Rasters.WriteUtmScene(dir.File("scene.tif"), 40, 30);
        // A VRT whose second band declares Float32 over the same source.
        File.WriteAllText(path, $"""
            <VRTDataset rasterXSize="40" rasterYSize="30">
              <VRTRasterBand dataType="UInt16" band="1"><SimpleSource><SourceFilename>{tif}</SourceFilename><SourceBand>1</SourceBand></SimpleSource></VRTRasterBand>
              <VRTRasterBand dataType="Float32" band="2"><SimpleSource><SourceFilename>{tif}</SourceFilename><SourceBand>2</SourceBand></SimpleSource></VRTRasterBand>
            </VRTDataset>
            """);
        using var raster = RasterDataset.Open(path);
        Assert.Contains("not all of one pixel type", Assert.Throws<ArgumentException>(() => raster.ReadIntoMemory([1, 2], new RasterWindow(0, 0, 40, 30))).Message);
        using var one = raster.ReadIntoMemory([2], new RasterWindow(0, 0, 40, 30));
        Assert.Equal(RasterDataType.Float32, one.DataType);
        Assert.Equal(raster.Read<float>(2, new RasterWindow(0, 0, 40, 30)), one.Read<float>(1, new RasterWindow(0, 0, 40, 30)));
    }

    [Fact]
    public void Whole_blocks_written_past_the_cache_read_back_exactly_and_other_windows_are_refused()
    {
        using var dir = new TempDir();
        var path = dir.File("blocks.tif");
        const int width = 700, height = 530; // edge blocks are partial and get padded
        var profile = new RasterProfile(width, height, 2, RasterDataType.Float32) { GeoTransform = GeoTransform.NorthUp(500_000, 4_400_000, 2), Crs = "EPSG:32652" };
        using (var raster = RasterDataset.Create(path, profile))
        {
            var pad = new float[512 * 512];
            foreach (var w in raster.BlockWindows())
            {
                for (var b = 1; b <= 2; b++)
                {
                    raster.WriteBlock<float>(b, w, Pattern(w, b, RasterDataType.Float32).Select(v => (float)v).ToArray(), pad);
                }
            }
            var data = new float[512 * 512];
            Assert.Throws<ArgumentException>(() => raster.WriteBlock<float>(1, new RasterWindow(1, 0, 511, 512), data, pad));
            Assert.Throws<ArgumentException>(() => raster.WriteBlock<float>(1, new RasterWindow(512, 0, 100, 512), data, pad));
            Assert.Throws<ArgumentException>(() => raster.WriteBlock<double>(1, new RasterWindow(0, 0, 512, 512), new double[512 * 512], new double[512 * 512]));
            // An edge block is padded through the scratch, which must hold a whole block.
            Assert.Throws<ArgumentException>(() => raster.WriteBlock<float>(1, new RasterWindow(512, 512, 188, 18), data, new float[188 * 18]));
        }
        using var reopened = RasterDataset.Open(path);
        var window = new RasterWindow(450, 300, 250, 230);
        for (var b = 1; b <= 2; b++)
        {
            Assert.Equal(Pattern(window, b, RasterDataType.Float32), ReadAs(reopened, b, window, RasterDataType.Float32));
        }
    }

    private static double[] ReadAs(RasterDataset r, int band, RasterWindow w, RasterDataType type) => type switch
    {
        RasterDataType.Byte => r.Read<byte>(band, w).Select(v => (double)v).ToArray(),
        RasterDataType.UInt16 => r.Read<ushort>(band, w).Select(v => (double)v).ToArray(),
        RasterDataType.Int16 => r.Read<short>(band, w).Select(v => (double)v).ToArray(),
        RasterDataType.Float32 => r.Read<float>(band, w).Select(v => (double)v).ToArray(),
        _ => throw new NotSupportedException(),
    };

    /// <summary>Values that use each type's range (negative for signed, fractions for float) and differ per pixel and band.</summary>
    private static double[] Pattern(RasterWindow w, int band, RasterDataType type)
    {
        var values = new double[w.PixelCount];
        for (var r = 0; r < w.Height; r++)
        {
            for (var c = 0; c < w.Width; c++)
            {
                var x = w.Column + c;
                var y = w.Row + r;
                values[r * w.Width + c] = type switch
                {
                    RasterDataType.Byte => (x * 3 + y * 5 + band * 17) % 256,
                    RasterDataType.UInt16 => (x * 97 + y * 31 + band * 1000) % 65536,
                    RasterDataType.Int16 => (x * 97 + y * 31 + band * 1000) % 65536 - 32768,
                    _ => (float)((x - 350) * 0.25 + (y - 260) * 0.125 + band * 0.5),
                };
            }
        }
        return values;
    }

    [Fact]
    public void Cog_is_tiled_compressed_with_overviews_and_keeps_pixels()
    {
        using var dir = new TempDir();
        var path = dir.File("scene.cog.tif");
        var profile = new RasterProfile(1300, 1100, 4, RasterDataType.UInt16) { GeoTransform = GeoTransform.NorthUp(543_000, 4_420_000, 0.5), Crs = "EPSG:32652" };
        var data = new ushort[1300 * 1100];
        for (var i = 0; i < data.Length; i++)
        {
            data[i] = (ushort)(i % 5003);
        }
        using (var writer = new CogWriter(path, profile))
        {
            for (var b = 1; b <= 4; b++)
            {
                writer.Raster.Write<ushort>(b, new RasterWindow(0, 0, 1300, 1100), data);
            }
            writer.Commit();
        }
        using var cog = RasterDataset.Open(path);
        Assert.Equal("COG", cog.GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE"));
        Assert.Equal("DEFLATE", cog.GetMetadataItem("COMPRESSION", "IMAGE_STRUCTURE"));
        Assert.Equal((512, 512), cog.BlockSize);
        Assert.True(cog.OverviewCount >= 1, "a 1300 x 1100 COG should have overviews");
        Assert.Equal(data, cog.Read<ushort>(3, new RasterWindow(0, 0, 1300, 1100)));
        Assert.Single(Directory.GetFiles(dir.Path)); // no staging or partial files left behind
    }

    // Sizes that halve evenly (widths that leave a few outputs past the SIMD steps), odd sizes (fractional edge weights), a strip (levels 1 pixel high) and a column whose
    // width stops shrinking (GDAL then takes the full resolution as the source); with and without nodata, near the top
    // of the type (a mean on nodata moves down), and around a nodata value means land on (moved up).
    [Theory]
    [InlineData(RasterDataType.Byte, 1301, 1099, null)]
    [InlineData(RasterDataType.Byte, 2080, 1024, null)]
    [InlineData(RasterDataType.Byte, 1024, 2048, 0.0)]
    [InlineData(RasterDataType.Byte, 2064, 1024, 254.0)]
    [InlineData(RasterDataType.UInt16, 2056, 1024, null)]
    [InlineData(RasterDataType.UInt16, 2056, 1536, 100.0)]
    [InlineData(RasterDataType.Byte, 1301, 1099, 255.0)]
    [InlineData(RasterDataType.UInt16, 1537, 1031, null)]
    [InlineData(RasterDataType.UInt16, 1301, 1099, 100.0)]
    [InlineData(RasterDataType.UInt16, 3000, 5, 65535.0)]
    [InlineData(RasterDataType.UInt16, 7, 2100, 0.0)]
    public void Overviews_a_staged_cog_computes_itself_are_gdals_to_the_bit(RasterDataType type, int width, int height, double? noData)
    {
        using var dir = new TempDir();
        var profile = new RasterProfile(width, height, 3, type) { GeoTransform = GeoTransform.NorthUp(543_000, 4_420_000, 0.5), Crs = "EPSG:32652", NoData = noData };
        var random = new Random(width * 31 + height);
        var max = type == RasterDataType.Byte ? 255 : 65535;
        var centre = (int)(noData ?? 100);
        var bands = Enumerable.Range(0, 3).Select(b => Enumerable.Range(0, width * height).Select(i =>
        {
            var row = i / width;
            return (row % 97) switch
            {
                < 10 => centre,                                                   // runs of nodata (a plain value without)
                < 40 => Math.Clamp(centre + random.Next(-2, 3), 0, max),          // means that land on nodata
                _ => random.Next(0, max + 1),
            };
        }).ToArray()).ToArray();

        var ours = dir.File("ours.tif");
        using (var writer = new CogWriter(ours, profile, inMemoryLimitBytes: 0)) // staged on disk: overviews computed by SiteWatch
        {
            Fill(writer.Raster);
            Assert.Null(CogOverviewsWhyNot(writer.Raster));
            writer.Commit();
        }
        var staged = dir.File("staged.tif");
        using (var raster = RasterDataset.Create(staged, profile))
        {
            Fill(raster);
        }
        var gdals = dir.File("gdal.tif");
        using (var raster = RasterDataset.Open(staged))
        {
            raster.CopyToCog(gdals); // GDAL's COG driver computes the overviews
        }

        using var expected = RasterDataset.Open(gdals);
        using var actual = RasterDataset.Open(ours);
        Assert.Equal("COG", actual.GetMetadataItem("LAYOUT", "IMAGE_STRUCTURE"));
        Assert.True(expected.OverviewCount > 0);
        Assert.Equal(expected.OverviewCount, actual.OverviewCount);
        Assert.Equal(noData, actual.NoData);
        Assert.Equal(expected.GeoTransform, actual.GeoTransform);
        Assert.Equal(expected.CrsWkt, actual.CrsWkt);
        for (var b = 1; b <= 3; b++)
        {
            Assert.Equal(expected.Read<ushort>(b, new RasterWindow(0, 0, width, height)), actual.Read<ushort>(b, new RasterWindow(0, 0, width, height)));
            for (var level = 0; level < expected.OverviewCount; level++)
            {
                Assert.Equal(expected.OverviewSize(level), actual.OverviewSize(level));
                var want = expected.ReadOverview<ushort>(b, level);
                var got = actual.ReadOverview<ushort>(b, level);
                var differ = Enumerable.Range(0, want.Length).Count(i => want[i] != got[i]);
                Assert.True(differ == 0, $"band {b} overview {level} {expected.OverviewSize(level)}: {differ} of {want.Length} pixels differ from GDAL's");
            }
        }
        Assert.Equal(3, Directory.GetFiles(dir.Path).Length); // ours, GDAL's and the GeoTIFF it copied: no level or staging file left

        void Fill(RasterDataset raster)
        {
            for (var b = 1; b <= 3; b++)
            {
                raster.Write<int>(b, new RasterWindow(0, 0, width, height), bands[b - 1]);
            }
        }
    }

    [Fact]
    public void A_staged_cog_keeps_band_names_and_metadata_when_it_computes_its_own_overviews()
    {
        using var dir = new TempDir();
        var profile = new RasterProfile(1200, 700, 2, RasterDataType.Byte)
        {
            GeoTransform = GeoTransform.NorthUp(543_000, 4_420_000, 0.5), Crs = "EPSG:32652", NoData = 0, BandDescriptions = ["red", "nir"],
        };
        var path = dir.File("named.tif");
        using (var writer = new CogWriter(path, profile, inMemoryLimitBytes: 0))
        {
            writer.Raster.Write<byte>(1, new RasterWindow(0, 0, 1200, 700), Enumerable.Range(0, 1200 * 700).Select(i => (byte)(i % 251)).ToArray());
            writer.Raster.SetMetadataItem("ACQUIRED", "2026-06-01");
            writer.Raster.SetMetadataItem("SENSOR", "test", band: 2);
            var progress = new List<double>();
            writer.Commit(new SyncProgressList(progress));
            Assert.NotEmpty(progress);
            Assert.True(progress.Zip(progress.Skip(1)).All(p => p.Second >= p.First - 1e-9), "progress never goes back");
            Assert.InRange(progress[^1], 0.99, 1.0);
        }
        using var cog = RasterDataset.Open(path);
        Assert.Equal("red", cog.BandDescription(1));
        Assert.Equal("nir", cog.BandDescription(2));
        Assert.Equal("2026-06-01", cog.GetMetadataItem("ACQUIRED"));
        Assert.Equal("test", cog.GetMetadataItem("SENSOR", band: 2));
        Assert.Equal(0, cog.NoData);
        Assert.Equal(2, cog.OverviewCount); // halved until a level fits one 512 block
        Assert.Equal((600, 350), cog.OverviewSize(0));
        Assert.Equal((300, 175), cog.OverviewSize(1));
        Assert.Single(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void A_commit_cancelled_while_it_computes_overviews_leaves_no_target_and_no_level_files()
    {
        using var dir = new TempDir();
        var path = dir.File("cancelled.tif");
        var profile = new RasterProfile(2048, 2048, 2, RasterDataType.UInt16) { GeoTransform = GeoTransform.NorthUp(543_000, 4_420_000, 0.5), Crs = "EPSG:32652", NoData = 0 };
        using var cancel = new CancellationTokenSource();
        var reported = new List<double>();
        using (var writer = new CogWriter(path, profile, inMemoryLimitBytes: 0))
        {
            writer.Raster.Write<ushort>(1, new RasterWindow(0, 0, 2048, 2048), Enumerable.Range(0, 2048 * 2048).Select(i => (ushort)(i % 4001)).ToArray());
            // The overviews are the first 15 % of the commit: cancel inside them.
            var progress = new SyncProgressList(reported, value => { if (value > 0.01) cancel.Cancel(); });
            Assert.ThrowsAny<OperationCanceledException>(() => writer.Commit(progress, cancel.Token));
            Assert.InRange(reported.Max(), 0.01, 0.15);
            Assert.False(File.Exists(path));
            Assert.Single(Directory.GetFiles(dir.Path)); // only the staging raster, which the writer still holds
        }
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    private sealed class SyncProgressList(List<double> values, Action<double>? then = null) : IProgress<double>
    {
        public void Report(double value)
        {
            values.Add(value);
            then?.Invoke(value);
        }
    }

    private static string? CogOverviewsWhyNot(RasterDataset raster) => CogOverviews.WhyNot(raster, new CogOptions());

    [Fact]
    public void Geotiff_gets_internal_overviews_at_the_requested_factors()
    {
        using var dir = new TempDir();
        var path = Rasters.WriteUtmScene(dir.File("ovr.tif"), 256, 256);
        using (var raster = RasterDataset.Open(path, update: true))
        {
            raster.BuildOverviews([2, 4]);
        }
        using var reopened = RasterDataset.Open(path);
        Assert.Equal(2, reopened.OverviewCount);
        Assert.Empty(Directory.GetFiles(dir.Path, "*.ovr")); // internal to the GeoTIFF
    }

    [Fact]
    public void Uncommitted_cog_writer_leaves_nothing()
    {
        using var dir = new TempDir();
        var profile = new RasterProfile(9000, 8000, 2, RasterDataType.UInt16); // over the in-memory limit: stages on disk
        using (var writer = new CogWriter(dir.File("never.tif"), profile))
        {
            writer.Raster.Write<ushort>(1, new RasterWindow(0, 0, 10, 10), new ushort[100]);
        }
        Assert.Empty(Directory.GetFiles(dir.Path));
    }

    [Fact]
    public void Opens_envi_png_with_world_file_and_jpeg2000()
    {
        using var dir = new TempDir();
        var source = Rasters.WriteUtmScene(dir.File("src.tif"), 64, 48);
        using var src = RasterDataset.Open(source);
        var expected = src.Read<ushort>(2, new RasterWindow(0, 0, 64, 48));

        src.CopyTo(dir.File("scene.envi"), "ENVI", []);
        using (var envi = RasterDataset.Open(dir.File("scene.envi")))
        {
            Assert.Equal("ENVI", envi.Driver);
            Assert.Contains(envi.Files, f => f.EndsWith(".hdr", StringComparison.Ordinal));
            Assert.Equal(32652, envi.OpenCrs()!.Epsg);
            Assert.Equal(expected, envi.Read<ushort>(2, new RasterWindow(0, 0, 64, 48)));
        }

        src.CopyTo(dir.File("scene.png"), "PNG", ["WORLDFILE=YES"]);
        Assert.True(File.Exists(dir.File("scene.wld")));
        using (var png = RasterDataset.Open(dir.File("scene.png")))
        {
            Assert.Equal("PNG", png.Driver);
            Assert.Equal(src.GeoTransform, png.GeoTransform);
            Assert.Equal(expected, png.Read<ushort>(2, new RasterWindow(0, 0, 64, 48)));
        }

        src.CopyTo(dir.File("scene.jp2"), "JP2OpenJPEG", ["QUALITY=100", "REVERSIBLE=YES"]);
        using (var jp2 = RasterDataset.Open(dir.File("scene.jp2")))
        {
            Assert.Equal("JP2OpenJPEG", jp2.Driver);
            Assert.Equal(expected, jp2.Read<ushort>(2, new RasterWindow(0, 0, 64, 48)));
        }
    }

    [Fact]
    public void Errors_carry_gdals_own_message_and_the_file()
    {
        using var dir = new TempDir();
        var text = dir.File("notes.txt");
        File.WriteAllText(text, "this is not an image");
        var e = Assert.Throws<GdalException>(() => RasterDataset.Open(text));
        Assert.Contains(text, e.Message);
        Assert.Contains("not a raster", e.Message);

        var source = Rasters.WriteUtmScene(dir.File("ok.tif"), 32, 32);
        using var raster = RasterDataset.Open(source);
        var outside = Assert.Throws<ArgumentOutOfRangeException>(() => raster.Read<ushort>(1, new RasterWindow(20, 20, 20, 20)));
        Assert.Contains("outside", outside.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() => raster.Read<ushort>(9, new RasterWindow(0, 0, 1, 1)));

        var gdal = Assert.Throws<GdalException>(() => raster.CopyTo(dir.File("no/such/dir/x.tif"), "GTiff", []));
        Assert.False(string.IsNullOrWhiteSpace(gdal.GdalMessage));
        Assert.Contains("no/such/dir/x.tif", gdal.Message);
    }

    [Fact]
    public void Header_claiming_a_million_by_a_million_pixels_is_refused()
    {
        using var dir = new TempDir();
        var path = dir.File("hostile.tif");
        File.WriteAllBytes(path, HostileTiff(1_000_000, 1_000_000));
        var e = Assert.Throws<GdalException>(() => RasterDataset.Open(path));
        Assert.Contains(path, e.Message);
        Assert.Contains("1000000 x 1000000", e.Message);
    }

    /// <summary>A minimal little-endian TIFF whose header claims the given size with one tiny strip.</summary>
    internal static byte[] HostileTiff(uint width, uint height)
    {
        using var ms = new MemoryStream();
        using var w = new BinaryWriter(ms);
        w.Write("II"u8.ToArray());
        w.Write((ushort)42);
        w.Write(8u);
        (ushort Tag, ushort Type, uint Value)[] entries =
        [
            (256, 4, width), (257, 4, height), (258, 3, 8), (259, 3, 1), (262, 3, 1),
            (273, 4, 200), (277, 3, 1), (278, 4, height), (279, 4, 16),
        ];
        w.Write((ushort)entries.Length);
        foreach (var (tag, type, value) in entries)
        {
            w.Write(tag);
            w.Write(type);
            w.Write(1u);
            w.Write(value);
        }
        w.Write(0u);
        while (ms.Length < 216)
        {
            w.Write((byte)0);
        }
        return ms.ToArray();
    }
}
