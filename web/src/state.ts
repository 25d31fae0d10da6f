// The site view's state lives in the URL (hash), so a link reopens the same picture:
//   #/site/1?a=2024-10-15&b=2024-03-14&mode=swipe&layers=changes,detections,aoi&map=16.2/39.93/127.50&classes=vehicle
// a: the date shown (the "after" of a comparison); b: the "before" date; mode: single | swipe | side.

export type Mode = "single" | "swipe" | "side";
export const LAYERS = ["changes", "detections", "aoi", "alerts", "magnitude", "mask"] as const;
export type Layer = (typeof LAYERS)[number];

export interface MapView {
  zoom: number;
  lat: number;
  lon: number;
}

export interface SiteState {
  siteId: number;
  after?: string;
  before?: string;
  mode: Mode;
  layers: Layer[];
  view?: MapView;
  classes?: string[];
  alert?: number;
}

export type Route = { page: "login"; next?: string } | { page: "sites" } | ({ page: "site" } & SiteState);

export const DEFAULT_LAYERS: Layer[] = ["changes", "detections", "aoi"];
const DATE = /^\d{4}-\d{2}-\d{2}$/;

export function parseRoute(hash: string): Route {
  const text = hash.replace(/^#/, "");
  const [path, query = ""] = text.split("?", 2);
  const params = new URLSearchParams(query);
  const parts = path.split("/").filter((p) => p.length > 0);
  if (parts[0] === "login") {
    const next = params.get("next") ?? undefined;
    return next ? { page: "login", next } : { page: "login" };
  }
  if (parts[0] === "site" && parts[1] && /^\d+$/.test(parts[1])) {
    return { page: "site", ...parseSiteState(Number(parts[1]), params) };
  }
  return { page: "sites" };
}

function parseSiteState(siteId: number, params: URLSearchParams): SiteState {
  const state: SiteState = { siteId, mode: "single", layers: [...DEFAULT_LAYERS] };
  const a = params.get("a");
  const b = params.get("b");
  if (a && DATE.test(a)) state.after = a;
  if (b && DATE.test(b)) state.before = b;
  const mode = params.get("mode");
  if (mode === "swipe" || mode === "side" || mode === "single") state.mode = mode;
  const layers = params.get("layers");
  if (layers !== null) {
    state.layers = layers.split(",").filter((l): l is Layer => (LAYERS as readonly string[]).includes(l));
  }
  const view = params.get("map");
  if (view) {
    const [zoom, lat, lon] = view.split("/").map(Number);
    if ([zoom, lat, lon].every(Number.isFinite) && zoom >= 0 && zoom <= 24 && Math.abs(lat) <= 90 && Math.abs(lon) <= 180) {
      state.view = { zoom, lat, lon };
    }
  }
  const classes = params.get("classes");
  if (classes) state.classes = classes.split(",").filter((c) => /^[a-z0-9_]{1,40}$/.test(c));
  const alert = params.get("alert");
  if (alert && /^\d+$/.test(alert)) state.alert = Number(alert);
  return state;
}

export function formatRoute(route: Route): string {
  if (route.page === "login") return route.next ? `#/login?next=${encodeURIComponent(route.next)}` : "#/login";
  if (route.page === "sites") return "#/sites";
  const params = new URLSearchParams();
  if (route.after) params.set("a", route.after);
  if (route.before) params.set("b", route.before);
  if (route.mode !== "single") params.set("mode", route.mode);
  const sameLayers = route.layers.length === DEFAULT_LAYERS.length && DEFAULT_LAYERS.every((l) => route.layers.includes(l));
  if (!sameLayers) params.set("layers", route.layers.join(","));
  if (route.view) {
    const { zoom, lat, lon } = route.view;
    params.set("map", `${zoom.toFixed(2)}/${lat.toFixed(5)}/${lon.toFixed(5)}`);
  }
  if (route.classes && route.classes.length > 0) params.set("classes", route.classes.join(","));
  if (route.alert !== undefined) params.set("alert", String(route.alert));
  const query = params.toString().replace(/%2C/g, ",").replace(/%2F/g, "/");
  return `#/site/${route.siteId}${query ? `?${query}` : ""}`;
}
