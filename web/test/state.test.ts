import { describe, expect, it } from "vitest";
import { DEFAULT_LAYERS, formatRoute, parseRoute } from "../src/state";

describe("the URL holds the picture", () => {
  it("round-trips a site view", () => {
    const hash = "#/site/3?a=2024-10-15&b=2024-03-14&mode=swipe&layers=changes,aoi&map=16.20/39.93012/127.50100&classes=vehicle,freight_car&alert=6";
    const route = parseRoute(hash);
    expect(route).toEqual({
      page: "site",
      siteId: 3,
      after: "2024-10-15",
      before: "2024-03-14",
      mode: "swipe",
      layers: ["changes", "aoi"],
      view: { zoom: 16.2, lat: 39.93012, lon: 127.501 },
      classes: ["vehicle", "freight_car"],
      alert: 6,
    });
    expect(formatRoute(route)).toBe(hash);
  });

  it("keeps the change raster layers in the URL", () => {
    const route = parseRoute("#/site/4?layers=changes,magnitude,mask,bogus");
    expect(route).toMatchObject({ page: "site", siteId: 4, layers: ["changes", "magnitude", "mask"] });
    expect(formatRoute(route)).toBe("#/site/4?layers=changes,magnitude,mask");
  });

  it("leaves defaults out of the URL", () => {
    expect(formatRoute({ page: "site", siteId: 1, mode: "single", layers: [...DEFAULT_LAYERS].reverse() })).toBe("#/site/1");
    expect(parseRoute("#/site/1")).toEqual({ page: "site", siteId: 1, mode: "single", layers: DEFAULT_LAYERS });
  });

  it("ignores what it does not understand instead of failing", () => {
    const route = parseRoute("#/site/2?a=yesterday&mode=3d&layers=changes,bogus&map=99/999/0&classes=<script>&alert=x");
    expect(route).toEqual({ page: "site", siteId: 2, mode: "single", layers: ["changes"], classes: [] });
    expect(parseRoute("#/site/abc")).toEqual({ page: "sites" });
    expect(parseRoute("")).toEqual({ page: "sites" });
    expect(parseRoute("#/nowhere")).toEqual({ page: "sites" });
  });

  it("an empty layer list stays empty (all layers off)", () => {
    const route = parseRoute("#/site/1?layers=");
    expect(route).toMatchObject({ layers: [] });
    expect(formatRoute(route)).toBe("#/site/1?layers=");
  });

  it("keeps where to go after login", () => {
    const login = parseRoute(`#/login?next=${encodeURIComponent("#/site/1?a=2024-10-15")}`);
    expect(login).toEqual({ page: "login", next: "#/site/1?a=2024-10-15" });
    expect(parseRoute(formatRoute(login))).toEqual(login);
  });
});
