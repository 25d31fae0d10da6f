using System.Security.Cryptography;

namespace SiteWatch.Core.Catalog;

/// <summary>Hashes of the files a catalog row owns, recorded at commit and verified by `sitewatch check`.</summary>
public static class StoredFiles
{
    public static string Sha256(string path)
    {
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 20);
        return Convert.ToHexStringLower(SHA256.HashData(stream));
    }

    /// <summary>Every file below a folder (relative path with '/' separators) with its SHA-256.</summary>
    public static Dictionary<string, string> Manifest(string directory) =>
        Directory.EnumerateFiles(directory, "*", SearchOption.AllDirectories)
            .Order(StringComparer.Ordinal)
            .ToDictionary(f => Path.GetRelativePath(directory, f).Replace(Path.DirectorySeparatorChar, '/'), Sha256, StringComparer.Ordinal);
}
