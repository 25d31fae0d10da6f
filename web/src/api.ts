// The server's REST API (same origin). Session cookie + antiforgery header on every state-changing request.

export interface Page<T> {
  page: number;
  page_size: number;
  total: number;
  items: T[];
}

export interface Site {
  id: number;
  name: string;
  crs_epsg: number;
  gsd: number;
  bbox: [number, number, number, number];
  tags: string[];
  notes?: string;
  created_utc: string;
  aoi?: GeoJSON.Geometry;
  scene_count?: number;
}

export interface Scene {
  id: number;
  site_id: number;
  acquired_utc: string;
  sensor: string;
  cloud_cover?: number | null;
  width: number;
  height: number;
  valid_fraction: number;
  tiles: string;
}

export interface ChangeRun {
  id: number;
  site_id: number;
  before_scene_id: number;
  after_scene_id: number;
  method: string;
  summary: Record<string, unknown>;
  created_utc: string;
  objects: string;
  /** XYZ tile templates of the run's magnitude and mask (see the server's change tiles). */
  magnitude_tiles: string;
  mask_tiles: string;
  legend: string;
  /** The run's before | after | change picture (PNG). */
  quicklook: string;
}

export interface Note {
  id: number;
  site_id: number;
  date: string;
  source: string;
  url?: string | null;
  text: string;
  outline?: GeoJSON.Geometry | null;
  outline_m2?: number | null;
  created_utc: string;
}

export interface NewNote {
  date: string;
  source: string;
  url?: string;
  text: string;
  outline?: GeoJSON.Geometry;
}

/** A finished product job's result: its files by role (pdf, html, timelapse, export) as download URLs. */
export interface ProductResult {
  files: Record<string, string>;
  [key: string]: unknown;
}

export interface LegendEntry {
  value: number;
  colour: string;
  label: string;
}

export interface Legend {
  layer: "magnitude" | "mask";
  method: string;
  threshold?: number;
  top?: number;
  entries: LegendEntry[];
  note?: string;
}

/** A change method the server runs, with the threshold rules it takes (GET /api/change/methods). */
export interface ChangeMethod {
  name: string;
  description: string;
  thresholds: string[];
  takes_segment_metres: boolean;
}

export interface ChangeMethods {
  default_method: string;
  default_segment_metres: number;
  methods: ChangeMethod[];
}

/** What a change run is asked for beyond its dates; unset fields take the server's defaults. */
export interface ChangeChoice {
  method?: string;
  threshold?: string;
  segment_metres?: number;
}

export interface DetectionRun {
  id: number;
  site_id: number;
  scene_id: number;
  model_name: string;
  counts: Record<string, number>;
  total: number;
  created_utc: string;
  features: string;
}

export interface Alert {
  id: number;
  site_id: number;
  source: string;
  rule: string;
  kind: string;
  severity: string;
  message: string;
  raised_utc: string;
  observed_utc: string;
  acknowledged?: boolean;
  evidence: Record<string, unknown>;
  geometry?: GeoJSON.Geometry;
  chip?: string;
}

export interface Job {
  id: string;
  kind: string;
  site_id: number;
  state: "queued" | "running" | "succeeded" | "failed" | "cancelled";
  progress: number;
  error?: string;
  result?: Record<string, unknown>;
}

export interface ActivityDate {
  date: string;
  scene_id: number;
  counts: Record<string, number>;
  change_area_m2?: number | null;
  appeared_area_m2?: number | null;
  activity_index?: number | null;
}

export interface Activity {
  site_id: number;
  classes: string[];
  dates: ActivityDate[];
}

/** GET /api/cluster: the workspace's standing work and, when the server is a client of the cluster, its silos. */
export interface ClusterState {
  cluster_id?: string;
  connected: boolean;
  problem?: string;
  silos?: { name: string; address: string; status: string; started: string; last_alive: string }[];
  feeds: { id: number; site_id: number; site?: string; name: string; source: string; detector: string; running_on?: string; started?: string; last_note?: string }[];
  monitors: { site_id: number; site?: string; source: string; every_minutes: number; last_round?: string; last_summary?: string }[];
}

export interface Me {
  user: string;
  role: "viewer" | "analyst" | "admin";
}

export class ApiError extends Error {
  constructor(
    public readonly status: number,
    message: string,
  ) {
    super(message);
  }
}

let antiforgery: string | undefined;
const unauthorizedListeners: (() => void)[] = [];

/** Called when the session ends (401): the app goes back to the login page. */
export function onUnauthorized(listener: () => void): void {
  unauthorizedListeners.push(listener);
}

async function request<T>(method: string, path: string, body?: unknown): Promise<T> {
  const headers: Record<string, string> = { Accept: "application/json" };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  // Login makes the session the token belongs to; every other write carries it.
  if (method !== "GET" && path !== "/api/auth/login") {
    antiforgery ??= await fetchAntiforgery();
    headers["X-XSRF-TOKEN"] = antiforgery;
  }
  const response = await fetch(path, {
    method,
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
    credentials: "same-origin",
  });
  if (response.status === 401 && !path.startsWith("/api/auth/login")) {
    antiforgery = undefined;
    unauthorizedListeners.forEach((l) => l());
  }
  if (!response.ok) {
    throw new ApiError(response.status, await problem(response));
  }
  if (response.status === 204) return undefined as T;
  const type = response.headers.get("Content-Type") ?? "";
  return (type.includes("json") ? await response.json() : await response.text()) as T;
}

async function problem(response: Response): Promise<string> {
  try {
    const body = await response.json();
    return body.detail ?? body.title ?? `${response.status} ${response.statusText}`;
  } catch {
    return `${response.status} ${response.statusText}`;
  }
}

/** The antiforgery token of this session (the live hub's negotiation is a POST and needs it too). */
export async function antiforgeryToken(): Promise<string> {
  antiforgery ??= await fetchAntiforgery();
  return antiforgery;
}

async function fetchAntiforgery(): Promise<string> {
  const answer = await request<{ token: string }>("GET", "/api/auth/antiforgery");
  return answer.token;
}

export const api = {
  get: <T>(path: string) => request<T>("GET", path),
  post: <T>(path: string, body?: unknown) => request<T>("POST", path, body ?? {}),

  async login(username: string, password: string): Promise<Me> {
    antiforgery = undefined;
    const me = await request<Me>("POST", "/api/auth/login", { username, password });
    return { user: (me as unknown as { user: string }).user, role: me.role };
  },
  async logout(): Promise<void> {
    await request<void>("POST", "/api/auth/logout");
    antiforgery = undefined;
  },
  me: () => request<Me>("GET", "/api/auth/me"),
  sites: () => request<Page<Site>>("GET", "/api/sites?page_size=500"),
  site: (id: number) => request<Site>("GET", `/api/sites/${id}`),
  scenes: (id: number) => request<Page<Scene>>("GET", `/api/sites/${id}/scenes?page_size=500`),
  changeRuns: (id: number) => request<Page<ChangeRun>>("GET", `/api/sites/${id}/changes?page_size=500`),
  detectionRuns: (id: number) => request<Page<DetectionRun>>("GET", `/api/sites/${id}/detections?page_size=500`),
  alerts: (id: number, pageSize = 500) => request<Page<Alert>>("GET", `/api/sites/${id}/alerts?page_size=${pageSize}`),
  activity: (id: number) => request<Activity>("GET", `/api/sites/${id}/activity`),
  cluster: () => request<ClusterState>("GET", "/api/cluster"),
  changeObjects: (run: ChangeRun) => request<GeoJSON.FeatureCollection>("GET", run.objects),
  detections: (run: DetectionRun) => request<GeoJSON.FeatureCollection>("GET", run.features),
  job: (id: string) => request<Job>("GET", `/api/jobs/${id}`),
  changeMethods: () => request<ChangeMethods>("GET", "/api/change/methods"),
  startChange: (siteId: number, before: string, after: string, choice: ChangeChoice = {}) =>
    request<Job>("POST", `/api/sites/${siteId}/change`, { before, after, ...choice }),
  startDetection: (siteId: number) => request<Job>("POST", `/api/sites/${siteId}/detect`, {}),
  createSite: (name: string, aoi: GeoJSON.Geometry, gsd?: number) => request<Site>("POST", "/api/sites", { name, aoi, gsd }),
  notes: (siteId: number) => request<Note[]>("GET", `/api/sites/${siteId}/notes`),
  addNote: (siteId: number, note: NewNote) => request<Note>("POST", `/api/sites/${siteId}/notes`, note),
  deleteNote: (siteId: number, noteId: number) => request<void>("DELETE", `/api/sites/${siteId}/notes/${noteId}`),
  startReport: (siteId: number, paper: "a4" | "letter") => request<Job>("POST", `/api/sites/${siteId}/report`, { paper }),
  startTimelapse: (siteId: number, format: "mp4" | "gif") => request<Job>("POST", `/api/sites/${siteId}/timelapse`, { format }),
  startExport: (siteId: number, format: string, what?: string) => request<Job>("POST", `/api/sites/${siteId}/export`, what ? { format, what } : { format }),
  legend: (run: ChangeRun, layer: "magnitude" | "mask") => request<Legend>("GET", `/api/changes/${run.id}/legend?layer=${layer}`),

  /**
   * Uploads a raster as the request body with progress (fetch cannot report upload progress; XMLHttpRequest can);
   * the answer is the ingest job. Errors carry the server's problem text (413 too large, 400 not a raster ...).
   */
  async uploadScene(siteId: number, file: File, date: string | undefined, progress: (fraction: number) => void): Promise<Job> {
    const token = await antiforgeryToken();
    const query = new URLSearchParams({ filename: file.name });
    if (date) query.set("date", date);
    return new Promise<Job>((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", `/api/sites/${siteId}/scenes?${query}`);
      xhr.setRequestHeader("X-XSRF-TOKEN", token);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.upload.onprogress = (e) => {
        if (e.lengthComputable && e.total > 0) progress(e.loaded / e.total);
      };
      xhr.onload = () => {
        if (xhr.status === 401) unauthorizedListeners.forEach((l) => l());
        if (xhr.status >= 200 && xhr.status < 300) {
          resolve(JSON.parse(xhr.responseText) as Job);
          return;
        }
        let detail = `${xhr.status} ${xhr.statusText}`;
        try {
          const body = JSON.parse(xhr.responseText);
          detail = body.detail ?? body.title ?? detail;
        } catch {
          // not JSON: keep the status line
        }
        reject(new ApiError(xhr.status, detail));
      };
      xhr.onerror = () => reject(new ApiError(0, "the upload was cut off (network error)"));
      xhr.send(file);
    });
  },
};

/** Roles in order of what they may do; the server checks every write anyway. */
export function mayWrite(me: Me | undefined): boolean {
  return me?.role === "analyst" || me?.role === "admin";
}
