// Ground measurements of what the analyst draws on the map (WGS84 lon/lat), in metres on the WGS84 ellipsoid.
// The server measures its own objects (change objects carry area_m2); these are for outlines drawn in the browser,
// which never leave it unless saved.

export type Position = [number, number] | number[];

const A = 6378137; // WGS84 semi-major axis, m
const F = 1 / 298.257223563;
const E2 = F * (2 - F);
const RAD = Math.PI / 180;

/** Meridional (M) and prime-vertical (N) radii of curvature at a latitude, in metres. */
export function radii(latDeg: number): { m: number; n: number } {
  const s = Math.sin(latDeg * RAD);
  const w = Math.sqrt(1 - E2 * s * s);
  return { m: (A * (1 - E2)) / (w * w * w), n: A / w };
}

/**
 * Area of a ring in square metres (sign ignored). Integrates cos(lat) dlat dlon exactly per edge (the spherical
 * trapezoid form) and scales by M·N at the ring's mean latitude, so it follows the ellipsoid's curvature there:
 * within 0.01 % of the geodesic area for outlines of a few kilometres.
 */
export function ringArea(ring: Position[]): number {
  const pts = closed(ring);
  if (pts.length < 4) return 0;
  let sum = 0;
  let latSum = 0;
  for (let i = 0; i < pts.length - 1; i++) {
    const [lon1, lat1] = pts[i];
    const [lon2, lat2] = pts[i + 1];
    sum += (unwrap(lon2 - lon1) * RAD) * (Math.sin(lat1 * RAD) + Math.sin(lat2 * RAD));
    latSum += lat1;
  }
  const { m, n } = radii(latSum / (pts.length - 1));
  return Math.abs(sum / 2) * m * n;
}

/** Area of a GeoJSON Polygon or MultiPolygon in square metres: outer rings minus holes. */
export function polygonArea(geometry: { type: string; coordinates: unknown }): number {
  if (geometry.type === "Polygon") {
    const rings = geometry.coordinates as Position[][];
    return rings.reduce((total, ring, i) => total + (i === 0 ? 1 : -1) * ringArea(ring), 0);
  }
  if (geometry.type === "MultiPolygon") {
    return (geometry.coordinates as Position[][][]).reduce((t, p) => t + polygonArea({ type: "Polygon", coordinates: p }), 0);
  }
  throw new Error(`no area for a ${geometry.type}`);
}

/** Ground distance between two points in metres (ellipsoidal radii at the mid latitude: exact to millimetres over a few km). */
export function distance(a: Position, b: Position): number {
  const mid = (a[1] + b[1]) / 2;
  const { m, n } = radii(mid);
  const dy = (b[1] - a[1]) * RAD * m;
  const dx = unwrap(b[0] - a[0]) * RAD * n * Math.cos(mid * RAD);
  return Math.hypot(dx, dy);
}

/** Length of a line in metres. */
export function lineLength(line: Position[]): number {
  let total = 0;
  for (let i = 1; i < line.length; i++) total += distance(line[i - 1], line[i]);
  return total;
}

function closed(ring: Position[]): Position[] {
  if (ring.length === 0) return ring;
  const [f, l] = [ring[0], ring[ring.length - 1]];
  return f[0] === l[0] && f[1] === l[1] ? ring : [...ring, f];
}

function unwrap(dLon: number): number {
  if (dLon > 180) return dLon - 360;
  if (dLon < -180) return dLon + 360;
  return dLon;
}
