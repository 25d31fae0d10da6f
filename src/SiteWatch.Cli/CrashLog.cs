using System.Text;

namespace SiteWatch.Cli;

/// <summary>
/// Where an unexpected exception's details go: $XDG_STATE_HOME/sitewatch (default ~/.local/state/sitewatch), falling
/// back to the temporary directory, as crash-YYYYMMDD-HHMMSS-PID.log with the command line, versions and the full
/// exception. The user sees one line with the path, never a stack trace.
/// </summary>
internal static class CrashLog
{
    /// <summary>Writes the log; returns its path, or null when no candidate directory was writable.</summary>
    /// <param name="directory">Write here instead of the default locations (tests).</param>
    public static string? Write(Exception exception, IReadOnlyList<string> args, string? directory)
    {
        var now = DateTime.UtcNow;
        var name = string.Create(CultureInfo.InvariantCulture, $"crash-{now:yyyyMMdd-HHmmss}-{Environment.ProcessId}.log");
        var text = new StringBuilder()
            .AppendLine(CultureInfo.InvariantCulture, $"sitewatch crashed at {now:O}")
            .AppendLine(CultureInfo.InvariantCulture, $"command: sitewatch {string.Join(' ', args.Select(Quote))}")
            .AppendLine(CultureInfo.InvariantCulture, $"version: {typeof(CrashLog).Assembly.GetName().Version}; .NET {Environment.Version}; {System.Runtime.InteropServices.RuntimeInformation.OSDescription}")
            .AppendLine(CultureInfo.InvariantCulture, $"working directory: {Environment.CurrentDirectory}")
            .AppendLine()
            .AppendLine(exception.ToString())
            .ToString();
        foreach (var candidate in directory is null ? Candidates() : [directory])
        {
            try
            {
                Directory.CreateDirectory(candidate);
                var path = Path.Combine(candidate, name);
                File.WriteAllText(path, text);
                return path;
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException or ArgumentException or NotSupportedException)
            {
                // Try the next place.
            }
        }
        return null;
    }

    private static IEnumerable<string> Candidates()
    {
        var state = Environment.GetEnvironmentVariable("XDG_STATE_HOME");
        if (!string.IsNullOrWhiteSpace(state) && Path.IsPathRooted(state))
        {
            yield return Path.Combine(state, "sitewatch");
        }
        var home = Environment.GetFolderPath(Environment.SpecialFolder.UserProfile);
        if (!string.IsNullOrWhiteSpace(home))
        {
            yield return Path.Combine(home, ".local", "state", "sitewatch");
        }
        yield return Path.Combine(Path.GetTempPath(), "sitewatch");
    }

    private static string Quote(string arg) => arg.Length > 0 && arg.All(c => char.IsLetterOrDigit(c) || "-_./:=,@+".Contains(c)) ? arg : $"'{arg.Replace("'", "'\\''")}'";
}
