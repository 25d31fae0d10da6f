// The bench's peer: MapLibre alone drawing the same scene tiles from the same server, nothing else.
import * as maplibregl from "./maplibre/maplibre-gl.mjs";

const p = new URLSearchParams(location.search);
const bbox = JSON.parse(p.get("bbox"));
const map = new maplibregl.Map({
  container: "map",
  style: {
    version: 8,
    sources: { scene: { type: "raster", tiles: [location.origin + p.get("tiles")], tileSize: 256, bounds: bbox, maxzoom: 19 } },
    layers: [
      { id: "background", type: "background", paint: { "background-color": "#1b1e22" } },
      { id: "scene", type: "raster", source: "scene", paint: { "raster-fade-duration": 0 } },
    ],
  },
  bounds: bbox,
  fitBoundsOptions: { padding: 24 },
  fadeDuration: 0,
  attributionControl: false,
});
map.once("idle", () => (window.benchDone = performance.now()));
