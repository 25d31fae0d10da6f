using System.Security.Cryptography;
using System.Text;

namespace SiteWatch.Core.Alerts;

/// <summary>
/// The stable id of an alert, sent in every delivery's payload and as its <c>Idempotency-Key</c> header: the same
/// alert is the same id on every attempt, from every process and after a restart, so a receiver that saw it once
/// can drop a repeat (an attempt that timed out on our side but reached the receiver).
/// </summary>
public static class AlertIdentity
{
    public const string IdempotencyHeader = "Idempotency-Key";

    /// <summary>"sw-" and 32 hex digits of SHA-256 over the scope (e.g. the site) and the alert's key.</summary>
    public static string Uid(string scope, string key) =>
        "sw-" + Convert.ToHexStringLower(SHA256.HashData(Encoding.UTF8.GetBytes($"{scope}\n{key}")))[..32];
}
