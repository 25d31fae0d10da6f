using System.Runtime.CompilerServices;
using SiteWatch.Video.Tests.Fuzz;

namespace SiteWatch.Fuzz;

/// <summary>
/// Two targets that exist to show the supervisor works (`SiteWatch.Fuzz run selftest-hang ...`): one loops for ever
/// on inputs starting with 'H', one overflows the stack on inputs starting with 'S'. Never part of bench/fuzz.sh's list.
/// </summary>
internal static class SelfTestTargets
{
    public static readonly FuzzTarget[] All =
    [
        new()
        {
            Name = "selftest-hang", Parser = "loops for ever on an input starting with 'H'",
            Execute = input =>
            {
                while (input.Length > 0 && input[0] == (byte)'H')
                {
                    Thread.SpinWait(1000);
                }
            },
            Seeds = _ => [[(byte)'a', (byte)'b']],
        },
        new()
        {
            Name = "selftest-overflow", Parser = "overflows the stack on an input starting with 'S'",
            Execute = input => _ = input.Length > 0 && input[0] == (byte)'S' ? Recurse(1) : 0,
            Seeds = _ => [[(byte)'a', (byte)'b']],
        },
    ];

    public static FuzzTarget Get(string name) => All.FirstOrDefault(t => t.Name == name) ?? FuzzTargets.Get(name);

    [MethodImpl(MethodImplOptions.NoInlining)]
    private static long Recurse(long n) => n == long.MaxValue ? n : Recurse(n + 1) + 1;
}
