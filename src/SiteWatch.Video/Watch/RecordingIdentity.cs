using System.Security.Cryptography;

namespace SiteWatch.Video.Watch;

/// <summary>What identifies a recording across runs, for alert keys: its content, not its path or the wall clock.</summary>
public static class RecordingIdentity
{
    /// <summary>"sha256:" and the first 32 hex digits of the file's SHA-256 (the same bytes under another name are the same recording).</summary>
    public static string OfFile(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return "sha256:" + Convert.ToHexStringLower(SHA256.HashData(stream))[..32];
    }
}
