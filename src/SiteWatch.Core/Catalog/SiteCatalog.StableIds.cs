using System.Globalization;
using System.Text.RegularExpressions;
using System.Data.Common;

namespace SiteWatch.Core.Catalog;

/// <summary>Schema v8: ids of sites and alerts are never handed out twice.</summary>
public sealed partial class SiteCatalog
{
    /// <summary>
    /// Without AUTOINCREMENT SQLite gives a new row the largest id + 1, so deleting the newest site or alert hands its
    /// id to the next one; the live feed (alerts after the last id it pushed) and webhook receivers (deduplicating by
    /// id) would then take the new object for the old. SQLite cannot add AUTOINCREMENT to a table in place: each table
    /// is rebuilt by its documented procedure (new table, copy, drop, rename, indexes and triggers again) inside the
    /// migration's transaction, with foreign keys off (<see cref="ForeignKeysOff"/>) so dropping the old table does
    /// not cascade into its dependants; their REFERENCES name the table, which the renamed copy then is. The copy is
    /// made from the table's own stored definition, so columns other migrations added stay. Ids already freed by a
    /// deletion before this upgrade are not known any more and may still be given out once.
    /// </summary>
    private void MakeIdsStable(DbTransaction tx)
    {
        foreach (var table in new[] { "alerts", "sites" })
        {
            RebuildWithAutoincrement(table, tx);
        }
        using var check = Command("PRAGMA foreign_key_check", tx);
        var broken = ReadAll(check, r => $"table {r.GetString(0)}, row {r.GetValue(1)} refers to a missing row of {r.GetString(2)}");
        if (broken.Count > 0)
        {
            throw new SiteWatchException($"{Location}: upgrading the catalog to schema 8 would leave broken references ({broken[0]}{(broken.Count > 1 ? $" and {broken.Count - 1} more" : "")}); nothing was changed") { Next = new NextStep(NextStepKind.CheckWorkspace) };
        }
    }

    private static readonly Regex IdColumn = new(@"\bid\s+INTEGER\s+PRIMARY\s+KEY\b(?!\s+AUTOINCREMENT)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);

    private void RebuildWithAutoincrement(string table, DbTransaction tx)
    {
        string sql;
        using (var definition = Command("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = @t", tx))
        {
            definition.Bind("t", table);
            sql = Run(definition.ExecuteScalar) as string ?? throw new SiteWatchException($"{Location}: the catalog has no table {table}; not a SiteWatch catalog");
        }
        if (Regex.IsMatch(sql, @"\bAUTOINCREMENT\b", RegexOptions.IgnoreCase))
        {
            return;
        }
        var header = new Regex($@"^\s*CREATE\s+TABLE\s+(""{table}""|{table}\b)", RegexOptions.IgnoreCase | RegexOptions.CultureInvariant);
        if (!header.IsMatch(sql) || !IdColumn.IsMatch(sql))
        {
            throw new SiteWatchException($"{Location}: table {table} is not as SiteWatch made it (no 'id INTEGER PRIMARY KEY'); nothing was changed");
        }
        var copy = $"sitewatch_new_{table}";
        var created = IdColumn.Replace(header.Replace(sql, $"CREATE TABLE {copy}", 1), "id INTEGER PRIMARY KEY AUTOINCREMENT", 1);

        List<string> dependants;
        using (var find = Command("SELECT sql FROM sqlite_master WHERE tbl_name = @t AND type IN ('index', 'trigger') AND sql IS NOT NULL ORDER BY type, name", tx))
        {
            find.Bind("t", table);
            dependants = ReadAll(find, r => r.GetString(0));
        }
        List<string> columns;
        using (var info = Command($"SELECT name FROM pragma_table_info('{table}') ORDER BY cid", tx))
        {
            columns = ReadAll(info, r => "\"" + r.GetString(0).Replace("\"", "\"\"", StringComparison.Ordinal) + "\"");
        }
        var list = string.Join(", ", columns);
        long before;
        using (var count = Command($"SELECT count(*) FROM {table}", tx))
        {
            before = Convert.ToInt64(Run(count.ExecuteScalar), CultureInfo.InvariantCulture);
        }
        Execute(created, tx);
        Execute($"INSERT INTO {copy} ({list}) SELECT {list} FROM {table}", tx);
        Execute($"DROP TABLE {table}", tx);
        Execute($"ALTER TABLE {copy} RENAME TO {table}", tx);
        foreach (var dependant in dependants)
        {
            Execute(dependant, tx);
        }
        using (var count = Command($"SELECT count(*) FROM {table}", tx))
        {
            if (Convert.ToInt64(Run(count.ExecuteScalar), CultureInfo.InvariantCulture) != before)
            {
                throw new SiteWatchException($"{Location}: rebuilding table {table} did not keep every row; nothing was changed");
            }
        }
    }

    /// <summary>
    /// Foreign keys off until disposed: SQLite ignores the pragma inside a transaction, so it is switched before the
    /// migration's transaction begins and back on after it ends (committed or rolled back).
    /// </summary>
    private IDisposable ForeignKeysOff()
    {
        Execute("PRAGMA foreign_keys = OFF");
        return new Restore(() => Execute("PRAGMA foreign_keys = ON"));
    }

    private sealed class Restore(Action action) : IDisposable
    {
        public void Dispose() => action();
    }
}
