// MapLibre set-up shared by every map of the app: the worker from our own origin (the server's CSP allows no
// blob: scripts), a plain background (no base map: the imagery is the map; nothing leaves the server), and the
// colours of change kinds and detection classes.
import * as maplibregl from "maplibre-gl";
import type { StyleSpecification } from "maplibre-gl";
import workerUrl from "maplibre-gl/dist/maplibre-gl-worker.mjs?url";
import "maplibre-gl/dist/maplibre-gl.css";

maplibregl.setWorkerUrl(new URL(workerUrl, location.href).href);

export { maplibregl };

export function baseStyle(): StyleSpecification {
  return {
    version: 8,
    sources: {},
    layers: [{ id: "background", type: "background", paint: { "background-color": "#1b1e22" } }],
  };
}

export const KIND_COLOURS: Record<string, string> = {
  appeared: "#ff5a36",
  removed: "#35a7ff",
  altered: "#ffd23f",
};

const CLASS_PALETTE = ["#7CFC00", "#ff8c00", "#00e5ff", "#ff4fd8", "#ffe14d", "#b388ff", "#4dffb8", "#ff6e6e", "#9ccc65", "#80d8ff"];

/** A stable colour per detection class (the same class keeps its colour across pages and sessions). */
export function classColour(cls: string, classes: string[]): string {
  const i = [...classes].sort().indexOf(cls);
  return CLASS_PALETTE[(i < 0 ? hash(cls) : i) % CLASS_PALETTE.length];
}

function hash(text: string): number {
  let h = 0;
  for (const c of text) h = (h * 31 + c.charCodeAt(0)) >>> 0;
  return h;
}

export function sceneSource(tiles: string, bbox: number[]): maplibregl.RasterSourceSpecification {
  return {
    type: "raster",
    tiles: [location.origin + tiles],
    tileSize: 256,
    bounds: bbox as [number, number, number, number],
    minzoom: 8,
    maxzoom: 19,
  };
}

export function emptyCollection(): GeoJSON.FeatureCollection {
  return { type: "FeatureCollection", features: [] };
}
