using System.Text.RegularExpressions;

namespace SiteWatch.Core.Alerts;

/// <summary>
/// Hides credentials in what SiteWatch prints or logs: the password of a URL's user info (http://user:***@host) and
/// the values of query parameters that look like secrets (token, key, secret, password, signature, sig, auth).
/// The stored URL keeps them; only its shown form is masked.
/// </summary>
public static partial class SecretMask
{
    public const string Mask = "***";

    /// <summary>The URL as it may be shown; text that is not a URL is returned with any embedded URLs masked.</summary>
    public static string Url(string url) => Text(url);

    /// <summary>Every URL inside a free text (an error message, a sink name) masked.</summary>
    public static string Text(string? text)
    {
        if (string.IsNullOrEmpty(text))
        {
            return text ?? "";
        }
        var masked = UserInfo().Replace(text, m => $"{m.Groups["scheme"].Value}{m.Groups["user"].Value}:{Mask}@");
        return SecretQuery().Replace(masked, m => $"{m.Groups["name"].Value}={Mask}");
    }

    [GeneratedRegex(@"(?<scheme>[a-zA-Z][a-zA-Z0-9+.-]*://)(?<user>[^:/?#@\s]*):(?<password>[^@/?#\s]*)@")]
    private static partial Regex UserInfo();

    [GeneratedRegex(@"(?<=[?&])(?<name>[^=&#\s]*(?:token|key|secret|password|passwd|pwd|signature|sig|auth)[^=&#\s]*)=(?<value>[^&#\s]*)", RegexOptions.IgnoreCase)]
    private static partial Regex SecretQuery();
}
