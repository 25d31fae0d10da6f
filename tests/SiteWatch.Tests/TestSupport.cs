using System.Diagnostics;
using SiteWatch.Gdal;

[assembly: System.Runtime.Versioning.SupportedOSPlatform("linux")]

namespace SiteWatch.Tests;

/// <summary>A temporary directory deleted after the test.</summary>
public sealed class TempDir : IDisposable
{
    public TempDir()
    {
        Path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "sitewatch-tests", Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(Path);
    }

    public string Path { get; }

    public string File(string name) => System.IO.Path.Combine(Path, name);

    public void Dispose()
    {
        try
        {
            // Restore write bits a test may have removed, then delete.
            foreach (var entry in Directory.EnumerateFileSystemEntries(Path, "*", SearchOption.AllDirectories).Prepend(Path))
            {
                System.IO.File.SetUnixFileMode(entry, System.IO.File.GetUnixFileMode(entry) | UnixFileMode.UserWrite | UnixFileMode.UserRead | (Directory.Exists(entry) ? UnixFileMode.UserExecute : 0));
            }
            Directory.Delete(Path, recursive: true);
        }
        catch (IOException)
        {
        }
    }
}

/// <summary>Finds the repository root and the shared real-data folder beside it.</summary>
public static class TestPaths
{
    public static string RepoRoot { get; } = FindRepoRoot();

    private static string FindRepoRoot()
    {
        var dir = new DirectoryInfo(AppContext.BaseDirectory);
        while (dir is not null && !System.IO.File.Exists(Path.Combine(dir.FullName, "SiteWatch.slnx")))
        {
            dir = dir.Parent;
        }
        return dir?.FullName ?? throw new InvalidOperationException("Cannot find the repository root (SiteWatch.slnx) above " + AppContext.BaseDirectory);
    }

    /// <summary>../shared/data relative to the repository, or null when this checkout has none.</summary>
    public static string? SharedData
    {
        get
        {
            var candidate = Path.GetFullPath(Path.Combine(RepoRoot, "..", "shared", "data"));
            return Directory.Exists(candidate) ? candidate : null;
        }
    }

    public static string RequireSharedData(params string[] parts)
    {
        var root = SharedData;
        Skip.If(root is null, "../shared/data is absent beside this checkout; real-data tests need it");
        var path = Path.Combine([root!, .. parts]);
        Skip.IfNot(System.IO.File.Exists(path) || Directory.Exists(path), $"{path} is absent");
        return path;
    }
}

/// <summary>Writes small synthetic georeferenced rasters for tests.</summary>
public static class Rasters
{
    /// <summary>A 4-band uint16 GeoTIFF in UTM 52N near Hamhung with a smooth pattern and a bright square.</summary>
    public static string WriteUtmScene(string path, int width = 300, int height = 260, double gsd = 1.0, double originX = 543_000, double originY = 4_420_000,
        string? dateTag = "2024:05:01 02:30:00", IReadOnlyCollection<string>? options = null)
    {
        var profile = new RasterProfile(width, height, 4, RasterDataType.UInt16)
        {
            GeoTransform = GeoTransform.NorthUp(originX, originY, gsd),
            Crs = "EPSG:32652",
            NoData = 0,
            BandDescriptions = ["blue", "green", "red", "nir"],
        };
        using var raster = RasterDataset.Create(path, profile, creationOptions: options);
        var data = new ushort[width * height];
        for (var b = 1; b <= 4; b++)
        {
            for (var r = 0; r < height; r++)
            {
                for (var c = 0; c < width; c++)
                {
                    var inSquare = c is >= 100 and < 160 && r is >= 80 and < 140;
                    data[r * width + c] = (ushort)(inSquare ? 6000 + 100 * b : 500 + 200 * b + (c * 7 + r * 3) % 400);
                }
            }
            raster.Write<ushort>(b, new RasterWindow(0, 0, width, height), data);
        }
        if (dateTag is not null)
        {
            raster.SetMetadataItem("TIFFTAG_DATETIME", dateTag);
        }
        return path;
    }

    public static (int ExitCode, string Output) RunTool(string tool, params string[] args)
    {
        var psi = new ProcessStartInfo(tool) { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args)
        {
            psi.ArgumentList.Add(a);
        }
        using var p = Process.Start(psi)!;
        var stdout = p.StandardOutput.ReadToEndAsync();
        var stderr = p.StandardError.ReadToEnd();
        p.WaitForExit();
        return (p.ExitCode, stdout.Result + stderr);
    }
}
