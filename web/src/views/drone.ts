// The live drone view (#/drone/SITE[?recording=ID]): the flight's HLS video (hls.js) with the track boxes of the
// latest frame drawn over it, beside a map of the current footprint, the flight path, the tracks on the ground and
// the site's watch zones; zone alerts are listed as they arrive. A recorded flight plays the same way, its footprint
// following the video time. Frames come from the server's "frame" events (SignalR) while `watch --site` runs.
import Hls from "hls.js";
import { HubConnection, HubConnectionBuilder, LogLevel } from "@microsoft/signalr";
import { api, antiforgeryToken, type Page } from "../api";
import { escapeHtml } from "../format";
import { baseStyle, emptyCollection, maplibregl } from "../mapbase";
// A stylesheet of its own: the server's CSP allows no inline styles.
import "./drone.css";

export interface DroneRoute {
  siteId: number;
  recordingId?: number;
}

export function parseDroneRoute(hash: string): DroneRoute | undefined {
  const m = /^#\/drone\/(\d+)(?:\?recording=(\d+))?$/.exec(hash);
  return m ? { siteId: Number(m[1]), recordingId: m[2] ? Number(m[2]) : undefined } : undefined;
}

interface Recording {
  id: number;
  status: "recording" | "complete" | "incomplete";
  started_utc: string;
  frames: number;
  playlist: string;
  footprints_url: string;
  path_url: string;
  tracks_url: string;
}

interface FrameTrack {
  id: number;
  class: string;
  confirmed: boolean;
  box: [number, number, number, number];
  at?: [number, number];
}

interface Frame {
  frame: number;
  t: number;
  time?: string;
  sensor?: number[];
  footprint?: number[][];
  tracks: FrameTrack[];
  alerts?: { rule: string; zone: string; track: number; class: string; at: [number, number] }[];
}

export class DroneView {
  private map?: maplibregl.Map;
  private hls?: Hls;
  private hub?: HubConnection;
  private recording?: Recording;
  private footprints: GeoJSON.Feature[] = [];
  private path: number[][] = [];
  private trackPaths = new Map<number, number[][]>();
  private alertPoints: GeoJSON.Feature[] = [];
  private fitted = false;

  constructor(
    private readonly root: HTMLElement,
    private readonly route: DroneRoute,
  ) {}

  async show(): Promise<void> {
    const recordings = await api.get<Page<Recording>>(`/api/sites/${this.route.siteId}/recordings?page_size=50`);
    const chosen = recordings.items.find((r) => r.id === this.route.recordingId) ?? recordings.items[0];
    this.root.innerHTML = `<div class="drone">
        <div class="drone-video"><video muted playsinline controls></video><canvas class="drone-boxes"></canvas>
          <select class="drone-recordings">${recordings.items
            .map((r) => `<option value="${r.id}" ${r.id === chosen?.id ? "selected" : ""}>#${r.id} ${escapeHtml(r.started_utc)} (${escapeHtml(r.status)}, ${r.frames} frames)</option>`)
            .join("")}</select>
          <ol class="drone-alerts"></ol></div>
        <div class="drone-map"></div></div>`;
    this.root.querySelector<HTMLSelectElement>(".drone-recordings")!.addEventListener("change", (e) => {
      location.hash = `#/drone/${this.route.siteId}?recording=${(e.target as HTMLSelectElement).value}`;
    });
    this.map = new maplibregl.Map({ container: this.root.querySelector<HTMLElement>(".drone-map")!, style: baseStyle(), center: [0, 0], zoom: 1 });
    await new Promise<void>((resolve) => this.map!.once("load", () => resolve()));
    this.installLayers(await api.get<GeoJSON.FeatureCollection>(`/api/sites/${this.route.siteId}/zones`));
    if (chosen) await this.open(chosen);
    await this.follow();
  }

  private installLayers(zones: GeoJSON.FeatureCollection): void {
    const map = this.map!;
    for (const id of ["zones", "path", "footprint", "tracks", "alerts"]) map.addSource(id, { type: "geojson", data: emptyCollection() });
    (map.getSource("zones") as maplibregl.GeoJSONSource).setData(zones);
    map.addLayer({ id: "zones-fill", type: "fill", source: "zones", paint: { "fill-color": "#ff5a36", "fill-opacity": 0.15 } });
    map.addLayer({ id: "zones-line", type: "line", source: "zones", paint: { "line-color": "#ff5a36", "line-width": 2 } });
    map.addLayer({ id: "footprint", type: "fill", source: "footprint", paint: { "fill-color": "#35a7ff", "fill-opacity": 0.25, "fill-outline-color": "#35a7ff" } });
    map.addLayer({ id: "path", type: "line", source: "path", paint: { "line-color": "#ffd23f", "line-width": 2 } });
    map.addLayer({ id: "tracks", type: "line", source: "tracks", paint: { "line-color": "#7CFC00", "line-width": 2 } });
    map.addLayer({ id: "alerts", type: "circle", source: "alerts", paint: { "circle-color": "#ff4fd8", "circle-radius": 6 } });
  }

  private async open(recording: Recording): Promise<void> {
    this.recording = recording;
    const video = this.root.querySelector<HTMLVideoElement>("video")!;
    if (Hls.isSupported()) {
      this.hls = new Hls({ liveDurationInfinity: recording.status === "recording" });
      this.hls.on(Hls.Events.MANIFEST_PARSED, () => (this.root.dataset.hls = "parsed"));
      this.hls.on(Hls.Events.ERROR, (_e, data) => {
        if (!data.fatal) return;
        this.root.dataset.hls = `error: ${data.details}`;
        // A flight just started has no playlist until ffmpeg closes its first segment: ask again shortly.
        if (this.recording?.status === "recording" && data.details === Hls.ErrorDetails.MANIFEST_LOAD_ERROR) {
          setTimeout(() => this.hls?.loadSource(recording.playlist), 2000);
        }
      });
      this.hls.loadSource(recording.playlist);
      this.hls.attachMedia(video);
    } else {
      video.src = recording.playlist;
    }
    const [footprints, path, tracks] = await Promise.all([
      api.get<GeoJSON.FeatureCollection>(recording.footprints_url),
      api.get<GeoJSON.FeatureCollection>(recording.path_url),
      api.get<GeoJSON.FeatureCollection>(recording.tracks_url),
    ]);
    this.footprints = footprints.features;
    this.path = path.features[0] ? ((path.features[0].geometry as GeoJSON.LineString).coordinates as number[][]) : [];
    this.trackPaths.clear();
    for (const f of tracks.features) {
      const g = f.geometry as GeoJSON.LineString | GeoJSON.Point;
      this.trackPaths.set(f.properties!.track as number, g.type === "Point" ? [g.coordinates] : g.coordinates);
    }
    // Live: where the drone is now; recorded: where the video starts.
    this.redraw(recording.status === "recording" ? this.footprints.at(-1) : this.footprints[0]);
    // Markers for tests and scripts: what the map holds.
    this.root.dataset.recording = String(recording.id);
    this.root.dataset.footprints = String(this.footprints.length);
    this.root.dataset.tracks = String(this.trackPaths.size);
    // A recorded flight: the footprint follows the video time.
    video.addEventListener("timeupdate", () => {
      if (this.recording?.status === "recording") return;
      const now = this.footprints.filter((f) => (f.properties!.t as number) <= video.currentTime).at(-1);
      if (now) this.setFootprint(now);
    });
  }

  private async follow(): Promise<void> {
    const token = await antiforgeryToken();
    this.hub = new HubConnectionBuilder()
      .withUrl("/hubs/events", { headers: { "X-XSRF-TOKEN": token } })
      .withAutomaticReconnect()
      .configureLogging(LogLevel.Warning)
      .build();
    this.hub.on("frame", (message: { recording_id: number; frame: Frame }) => this.onFrame(message.recording_id, message.frame));
    this.hub.on("recording", (r: { id: number; status: string }) => {
      // A new flight starts: switch to it; the one shown ended: keep it, now complete.
      if (r.status === "recording" && r.id !== this.recording?.id) location.hash = `#/drone/${this.route.siteId}?recording=${r.id}`;
      else if (r.status !== "recording" && r.id === this.recording?.id) {
        this.recording = { ...this.recording, status: r.status as Recording["status"] };
        this.hls?.loadSource(this.recording.playlist);
      }
    });
    this.hub.on("alert", (alert: { message: string; raised_utc: string }) => this.addAlert(`${alert.raised_utc}: ${alert.message}`));
    await this.hub.start();
    await this.hub.invoke("FollowSite", this.route.siteId);
    this.root.dataset.ready = "1";
  }

  private onFrame(recordingId: number, frame: Frame): void {
    if (recordingId !== this.recording?.id) return;
    this.root.dataset.liveFrames = String(Number(this.root.dataset.liveFrames ?? 0) + 1);
    if (frame.sensor) this.path.push(frame.sensor.slice(0, 2));
    for (const t of frame.tracks) {
      if (!t.at) continue;
      const points = this.trackPaths.get(t.id) ?? [];
      points.push(t.at);
      this.trackPaths.set(t.id, points);
    }
    for (const a of frame.alerts ?? []) {
      this.alertPoints.push({ type: "Feature", geometry: { type: "Point", coordinates: a.at }, properties: { zone: a.zone } });
      this.addAlert(`${frame.time ?? `${frame.t.toFixed(1)} s`}: ${a.class} track ${a.track} ${a.rule} ${a.zone}`);
    }
    const footprint = frame.footprint
      ? ({ type: "Feature", geometry: { type: "Polygon", coordinates: [frame.footprint] }, properties: { t: frame.t } } as GeoJSON.Feature)
      : undefined;
    this.redraw(footprint);
    this.drawBoxes(frame.tracks);
  }

  private redraw(footprint?: GeoJSON.Feature): void {
    const map = this.map!;
    if (footprint) this.setFootprint(footprint);
    const line = (coordinates: number[][], properties: GeoJSON.GeoJsonProperties): GeoJSON.Feature => ({
      type: "Feature",
      geometry: { type: "LineString", coordinates },
      properties,
    });
    (map.getSource("path") as maplibregl.GeoJSONSource).setData({ type: "FeatureCollection", features: this.path.length > 1 ? [line(this.path, {})] : [] });
    (map.getSource("tracks") as maplibregl.GeoJSONSource).setData({
      type: "FeatureCollection",
      features: [...this.trackPaths].filter(([, p]) => p.length > 1).map(([id, p]) => line(p, { track: id })),
    });
    (map.getSource("alerts") as maplibregl.GeoJSONSource).setData({ type: "FeatureCollection", features: this.alertPoints });
  }

  private setFootprint(footprint: GeoJSON.Feature): void {
    (this.map!.getSource("footprint") as maplibregl.GeoJSONSource).setData({ type: "FeatureCollection", features: [footprint] });
    if (!this.fitted) {
      this.fitted = true;
      const ring = (footprint.geometry as GeoJSON.Polygon).coordinates[0];
      const lons = ring.map((p) => p[0]);
      const lats = ring.map((p) => p[1]);
      this.map!.fitBounds([Math.min(...lons), Math.min(...lats), Math.max(...lons), Math.max(...lats)], { padding: 80, maxZoom: 16, duration: 0 });
    }
  }

  /** Track boxes of the latest frame over the video (image pixels scaled to the element). */
  private drawBoxes(tracks: FrameTrack[]): void {
    const video = this.root.querySelector<HTMLVideoElement>("video")!;
    const canvas = this.root.querySelector<HTMLCanvasElement>(".drone-boxes")!;
    canvas.width = video.clientWidth;
    canvas.height = video.clientHeight;
    const g = canvas.getContext("2d")!;
    g.clearRect(0, 0, canvas.width, canvas.height);
    if (!video.videoWidth) return;
    const sx = canvas.width / video.videoWidth;
    const sy = canvas.height / video.videoHeight;
    for (const t of tracks) {
      g.strokeStyle = t.confirmed ? "#7CFC00" : "#ffd23f";
      g.strokeRect(t.box[0] * sx, t.box[1] * sy, t.box[2] * sx, t.box[3] * sy);
      g.fillStyle = g.strokeStyle;
      g.fillText(`${t.class} ${t.id}`, t.box[0] * sx, t.box[1] * sy - 2);
    }
  }

  private addAlert(text: string): void {
    const list = this.root.querySelector(".drone-alerts");
    if (!list) return;
    const item = document.createElement("li");
    item.textContent = text;
    list.prepend(item);
  }

  destroy(): void {
    this.hls?.destroy();
    void this.hub?.stop();
    this.map?.remove();
  }
}
