namespace SiteWatch.Video.Klv;

/// <summary>
/// One pack format of the standards' tables, its three directions paired by name once: how its bytes are read (into
/// the <see cref="KlvStruct"/> fields its encoder takes back), written, and checked without allocating (a pack that
/// passes the check is built only on first access; none: decoded at once).
/// </summary>
internal sealed record KlvPack(KlvCustomDecoder Read, KlvCustomEncoder Write, KlvPackValidator? Check = null);

/// <summary>The pack formats the tag tables of ST 0601, 0806, 0903 and the MISB sets use, each once.</summary>
internal static class KlvPackFormats
{
    public static readonly KlvPack ImageHorizon = new(KlvPacks.ImageHorizonPack, KlvPackEncoders.ImageHorizonPack, KlvPackValidators.ImageHorizonPack);
    public static readonly KlvPack MiisCoreIdentifier = new(KlvPacks.MiisCoreIdentifier, KlvPackEncoders.MiisCoreIdentifier, KlvPackValidators.MiisCoreIdentifier);
    public static readonly KlvPack ControlCommand = new(KlvPacks.ControlCommand, KlvPackEncoders.ControlCommand, KlvPackValidators.ControlCommand);
    public static readonly KlvPack OidList = new(KlvPacks.OidList, KlvPackEncoders.OidList, KlvPackValidators.OidList);
    public static readonly KlvPack CountryCodes = new(KlvPacks.CountryCodes, KlvPackEncoders.CountryCodes, KlvPackValidators.CountryCodes);
    public static readonly KlvPack FrameRate = new(KlvPacks.FrameRatePack, KlvPackEncoders.FrameRatePack, KlvPackValidators.FrameRatePack);
    public static readonly KlvPack WavelengthsList = new(KlvPacks.WavelengthsList, KlvPackEncoders.WavelengthsList, KlvPackValidators.WavelengthsList);
    public static readonly KlvPack AirbaseLocations = new(KlvPacks.AirbaseLocations, KlvPackEncoders.AirbaseLocations, KlvPackValidators.AirbaseLocations);
    public static readonly KlvPack PayloadList = new(KlvPacks.PayloadList, KlvPackEncoders.PayloadList, KlvPackValidators.PayloadList);
    public static readonly KlvPack ActivePayloads = new(KlvPacks.ActivePayloads, KlvPackEncoders.ActivePayloads, KlvPackValidators.ActivePayloads);
    public static readonly KlvPack WeaponsStores = new(KlvPacks.WeaponsStores, KlvPackEncoders.WeaponsStores, KlvPackValidators.WeaponsStores);
    public static readonly KlvPack WaypointList = new(KlvPacks.WaypointList, KlvPackEncoders.WaypointList, KlvPackValidators.WaypointList);
    public static readonly KlvPack ViewDomain = new(KlvPacks.ViewDomain, KlvPackEncoders.ViewDomain, KlvPackValidators.ViewDomain);
    public static readonly KlvPack MetadataSubstreamId = new(KlvPacks.MetadataSubstreamId, KlvPackEncoders.MetadataSubstreamId, KlvPackValidators.MetadataSubstreamId);
    public static readonly KlvPack UserDefinedId = new(KlvPacks.UserDefinedId, KlvPackEncoders.UserDefinedId, KlvPackValidators.UserDefinedId);
    public static readonly KlvPack Location0903 = new(KlvPacks.Location0903, KlvPackEncoders.Location0903, KlvPackValidators.Location0903);
    public static readonly KlvPack LocationSeries = new(KlvPacks.LocationSeries, KlvPackEncoders.LocationSeries, KlvPackValidators.LocationSeries);
    public static readonly KlvPack FpaIndex = new(KlvPacks.FpaIndexPack, KlvPackEncoders.FpaIndexPack, KlvPackValidators.FpaIndexPack);
    public static readonly KlvPack Velocity = new(KlvPacks.VelocityPack, KlvPackEncoders.VelocityPack, KlvPackValidators.VelocityPack);
    public static readonly KlvPack RangeImageEnumerations = new(KlvPacks.RangeImageEnumerations, KlvPackEncoders.RangeImageEnumerations, KlvPackValidators.RangeImageEnumerations);
    public static readonly KlvPack PixelList = new(KlvPacks.PixelList, KlvPackEncoders.PixelList);
    public static readonly KlvPack PixelRunSeries = new(KlvPacks.PixelRunSeries, KlvPackEncoders.PixelRunSeries);
}
