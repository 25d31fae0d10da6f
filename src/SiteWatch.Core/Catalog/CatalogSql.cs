using System.Data.Common;
using System.Globalization;

namespace SiteWatch.Core.Catalog;

/// <summary>
/// The catalog's one parameter and column helper, the same on SQLite and PostgreSQL: parameters are named @name in
/// SQL, null is bound as SQL NULL, and integers are read whatever width the engine stored them in.
/// </summary>
internal static class CatalogSql
{
    public static void Bind(this DbCommand command, string name, object? value)
    {
        var parameter = command.CreateParameter();
        parameter.ParameterName = "@" + name;
        parameter.Value = value ?? DBNull.Value;
        command.Parameters.Add(parameter);
    }

    public static long ReadInt64(this DbDataReader reader, int ordinal) => Convert.ToInt64(reader.GetValue(ordinal), CultureInfo.InvariantCulture);

    public static int ReadInt32(this DbDataReader reader, int ordinal) => Convert.ToInt32(reader.GetValue(ordinal), CultureInfo.InvariantCulture);
}
