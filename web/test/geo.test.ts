import { describe, expect, it } from "vitest";
import { distance, lineLength, polygonArea, ringArea } from "../src/geo";

// Reference values: GeographicLib (Karney) geodesic areas and lengths on WGS84.
describe("geodesic measurements", () => {
  it("measures a one-degree square at the equator as the ellipsoid has it", () => {
    const area = ringArea([[0, 0], [1, 0], [1, 1], [0, 1], [0, 0]]);
    // 12,308,778,361.5 m² (GeographicLib); a sphere of mean radius says 12,363,718,145 m² (0.45 % off).
    expect(Math.abs(area / 12_308_778_361.5 - 1)).toBeLessThan(2e-4);
  });

  it("measures a 180 m x 90 m hall at 40 N to within a square metre", () => {
    // A rectangle of 180 m (east) x 90 m (north) laid out with the local radii at 39.93 N, 127.5 E.
    const lat0 = 39.93;
    const rad = Math.PI / 180;
    const a = 6378137;
    const e2 = 0.00669437999014;
    const s = Math.sin(lat0 * rad);
    const n = a / Math.sqrt(1 - e2 * s * s);
    const m = (a * (1 - e2)) / Math.pow(1 - e2 * s * s, 1.5);
    const dLat = 90 / (m * rad);
    const dLon = 180 / (n * Math.cos(lat0 * rad) * rad);
    const ring = [[127.5, lat0], [127.5 + dLon, lat0], [127.5 + dLon, lat0 + dLat], [127.5, lat0 + dLat], [127.5, lat0]];
    expect(polygonArea({ type: "Polygon", coordinates: [ring] })).toBeCloseTo(16_200, -0.3);
    expect(lineLength(ring)).toBeCloseTo(540, 1);
  });

  it("takes holes out and adds the parts of a multipolygon", () => {
    const outer = [[0, 0], [0.01, 0], [0.01, 0.01], [0, 0.01], [0, 0]];
    const hole = [[0.002, 0.002], [0.004, 0.002], [0.004, 0.004], [0.002, 0.004], [0.002, 0.002]];
    const whole = ringArea(outer);
    expect(polygonArea({ type: "Polygon", coordinates: [outer, hole] })).toBeCloseTo(whole - ringArea(hole), 3);
    expect(polygonArea({ type: "MultiPolygon", coordinates: [[outer], [hole]] })).toBeCloseTo(whole + ringArea(hole), 3);
    // Ring direction and an open ring do not matter.
    expect(ringArea([...outer].reverse())).toBeCloseTo(whole, 6);
    expect(ringArea(outer.slice(0, 4))).toBeCloseTo(whole, 6);
  });

  it("refuses geometries without an area", () => {
    expect(() => polygonArea({ type: "LineString", coordinates: [[0, 0], [1, 1]] })).toThrow(/LineString/);
    expect(ringArea([[0, 0], [1, 1]])).toBe(0);
  });

  it("measures distances along meridians and parallels", () => {
    // One degree of latitude at 45 N: 111,132.95 m; one degree of longitude on the equator: 111,319.49 m.
    expect(distance([10, 44.5], [10, 45.5])).toBeCloseTo(111_132.95, -1);
    expect(distance([0, 0], [1, 0])).toBeCloseTo(111_319.49, 0);
    // Across the antimeridian the short way round.
    expect(distance([179.999, 0], [-179.999, 0])).toBeCloseTo(222.64, 1);
  });
});
