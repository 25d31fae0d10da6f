namespace SiteWatch.Core.Exports;

/// <summary>
/// Where an export goes: written under a hidden temporary name beside the destination (same file system, so the
/// final step is a rename), and moved into place only once complete. A failure leaves nothing behind, an existing
/// destination is kept unless overwriting was asked for, and an unwritable folder is refused before any work.
/// </summary>
public sealed class ExportOutput : IDisposable
{
    private readonly bool _overwrite;
    private bool _published;

    private ExportOutput(string destination, bool isDirectory, bool overwrite)
    {
        Destination = destination;
        IsDirectory = isDirectory;
        _overwrite = overwrite;
        var parent = Path.GetDirectoryName(destination)!;
        var name = Path.GetFileName(destination);
        // The temporary name keeps the destination's extension last: GDAL drivers (LIBKML's KMZ) go by it.
        TemporaryPath = Path.Combine(parent, $".{Path.GetFileNameWithoutExtension(name)}.partial-{Guid.NewGuid():N}{(isDirectory ? "" : Path.GetExtension(name))}");
    }

    /// <summary>The final path (file or folder).</summary>
    public string Destination { get; }

    /// <summary>Where to write: a file path, or a folder that exists (created here) for folder outputs.</summary>
    public string TemporaryPath { get; }

    public bool IsDirectory { get; }

    /// <summary>Checks the destination and reserves a temporary path beside it.</summary>
    public static ExportOutput Begin(string destination, bool isDirectory, bool overwrite)
    {
        if (string.IsNullOrWhiteSpace(destination) || destination.Contains('\0'))
        {
            throw new SiteWatchException("the output path is empty");
        }
        var full = Path.GetFullPath(destination).TrimEnd(Path.DirectorySeparatorChar);
        var parent = Path.GetDirectoryName(full);
        if (parent is null || Path.GetFileName(full).Length == 0)
        {
            throw new SiteWatchException($"{destination}: not a path an export can be written to");
        }
        if (!Directory.Exists(parent))
        {
            throw new SiteWatchException($"{parent}: the folder does not exist; create it first (nothing was written)");
        }
        if (File.Exists(full) || Directory.Exists(full))
        {
            if (!overwrite)
            {
                throw SiteWatchException.About("out", $"{full}: already exists; choose another output or allow overwriting (nothing was written)");
            }
            if (Directory.Exists(full) != isDirectory)
            {
                throw new SiteWatchException($"{full}: exists as a {(isDirectory ? "file" : "folder")}, but this export writes a {(isDirectory ? "folder" : "file")}; nothing was written");
            }
        }
        // Root ignores permission bits: honour the owner's intent explicitly, as the workspace does.
        if (!OperatingSystem.IsWindows() && (File.GetUnixFileMode(parent) & (UnixFileMode.UserWrite | UnixFileMode.GroupWrite | UnixFileMode.OtherWrite)) == 0)
        {
            throw new SiteWatchException($"{parent}: the folder is read-only; cannot write the export there (nothing was written)");
        }
        var output = new ExportOutput(full, isDirectory, overwrite);
        try
        {
            if (isDirectory)
            {
                Directory.CreateDirectory(output.TemporaryPath);
            }
            else
            {
                File.WriteAllBytes(output.TemporaryPath, []);
                File.Delete(output.TemporaryPath);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new SiteWatchException($"{parent}: cannot write the export there ({e.Message}); nothing was written", e);
        }
        return output;
    }

    /// <summary>Moves the finished export into place (replacing an existing one only when overwriting was asked for).</summary>
    public void Publish()
    {
        if (IsDirectory)
        {
            string? aside = null;
            if (Directory.Exists(Destination) && _overwrite)
            {
                aside = Path.Combine(Path.GetDirectoryName(Destination)!, $".{Path.GetFileName(Destination)}.old-{Guid.NewGuid():N}");
                Directory.Move(Destination, aside);
            }
            try
            {
                Directory.Move(TemporaryPath, Destination);
            }
            catch
            {
                if (aside is not null)
                {
                    Directory.Move(aside, Destination);
                }
                throw;
            }
            if (aside is not null)
            {
                Directory.Delete(aside, recursive: true);
            }
        }
        else
        {
            if (!File.Exists(TemporaryPath))
            {
                throw new SiteWatchException($"{Destination}: the export wrote no file; nothing was published");
            }
            File.Move(TemporaryPath, Destination, _overwrite);
        }
        _published = true;
    }

    /// <summary>Removes what an unfinished export left at the temporary path (and its GDAL side files).</summary>
    public void Dispose()
    {
        if (_published)
        {
            return;
        }
        try
        {
            if (Directory.Exists(TemporaryPath))
            {
                Directory.Delete(TemporaryPath, recursive: true);
            }
            var parent = Path.GetDirectoryName(TemporaryPath)!;
            foreach (var leftover in Directory.EnumerateFiles(parent, Path.GetFileName(TemporaryPath) + "*"))
            {
                File.Delete(leftover);
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            // Best effort: a hidden .partial file is all that can remain.
        }
    }
}
