// All sites: a list with each site's latest alert and a map of their areas of interest. Analysts create a site
// by drawing its AOI on the map.
import { TerraDraw, TerraDrawPolygonMode, TerraDrawRenderMode } from "terra-draw";
import { TerraDrawMapLibreGLAdapter } from "terra-draw-maplibre-gl-adapter";
import { api, mayWrite, type Alert, type ClusterState, type Me, type Site } from "../api";
import { day, escapeHtml, squareMetres } from "../format";
import { polygonArea } from "../geo";
import { baseStyle, maplibregl } from "../mapbase";

interface SiteRow {
  site: Site;
  latest?: Alert;
  alerts: number;
}

export class SitesView {
  private map?: maplibregl.Map;
  private draw?: TerraDraw;
  private drawn?: GeoJSON.Polygon;

  constructor(
    private readonly root: HTMLElement,
    private readonly me: Me,
  ) {}

  async show(): Promise<void> {
    this.root.innerHTML = `<div class="loading">Loading sites…</div>`;
    const [sites, work] = await Promise.all([api.sites().then((p) => p.items), api.cluster()]);
    const rows: SiteRow[] = await Promise.all(
      sites.map(async (s) => {
        const [detail, alerts] = await Promise.all([api.site(s.id), api.alerts(s.id, 1)]);
        return { site: detail, latest: alerts.items[0], alerts: alerts.total };
      }),
    );
    this.root.innerHTML = `
      <div class="sites-view">
        <aside class="sidebar">
          <h2>Sites <span class="count">${rows.length}</span></h2>
          ${rows.length === 0 ? `<p class="hint">No sites yet.${mayWrite(this.me) ? " Draw one on the map." : ""}</p>` : ""}
          <ul class="site-list">${rows.map((r) => this.row(r)).join("")}</ul>
          ${this.standingWork(work)}
          ${mayWrite(this.me) ? this.createForm() : ""}
        </aside>
        <div class="map sites-map"></div>
      </div>`;
    this.showMap(rows);
    this.root.querySelector(".create-site")?.addEventListener("submit", (e) => void this.create(e));
    this.root.querySelector("[data-action=draw-aoi]")?.addEventListener("click", () => {
      this.draw?.clear();
      this.draw?.setMode("aoi");
    });
  }

  destroy(): void {
    try {
      this.draw?.stop();
    } catch {
      // map already gone
    }
    this.map?.remove();
  }

  private row(r: SiteRow): string {
    const s = r.site;
    const latest = r.latest
      ? `<div class="latest sev-${escapeHtml(r.latest.severity)}"><span class="sev">${escapeHtml(r.latest.severity)}</span> ${day(r.latest.observed_utc)} · ${escapeHtml(r.latest.message)}</div>`
      : `<div class="latest none">no alerts</div>`;
    return `<li class="site-item" data-site="${s.id}">
        <a href="#/site/${s.id}"><b>${escapeHtml(s.name)}</b></a>
        <span class="muted">${s.scene_count ?? 0} scenes · ${r.alerts} alerts · EPSG:${s.crs_epsg} · ${s.gsd} m</span>
        ${latest}
      </li>`;
  }

  /**
   * What runs without anyone at the page: drone feeds (who watches each, how its last run went), monitoring orders
   * and, when the server is a client of the cluster, its silos. Nothing when the workspace has none of it.
   */
  private standingWork(work: ClusterState): string {
    if (work.feeds.length === 0 && work.monitors.length === 0 && !work.cluster_id) return "";
    const time = (iso?: string) => (iso ? `${day(iso)} ${iso.slice(11, 16)} UTC` : "");
    const cluster = work.cluster_id
      ? `<p class="cluster ${work.connected ? "up" : "down"}">Cluster <b>${escapeHtml(work.cluster_id)}</b>: ${
          work.connected ? `${work.silos?.length ?? 0} silo(s) active${work.silos?.length ? ` (${work.silos.map((s) => escapeHtml(s.name)).join(", ")})` : ""}` : "not connected"
        }</p>`
      : "";
    const feeds = work.feeds
      .map(
        (f) => `<li class="feed" data-feed="${f.id}">
          <b>${escapeHtml(f.name)}</b> <span class="muted">${escapeHtml(f.site ?? `#${f.site_id}`)} · ${escapeHtml(f.detector)} · ${escapeHtml(f.source)}</span>
          <div class="${f.running_on ? "running" : "idle"}">${f.running_on ? `watched on ${escapeHtml(f.running_on)} since ${time(f.started)}` : "not watched now"}${
            f.last_note && f.last_note !== "watching" ? ` · last: ${escapeHtml(f.last_note)}` : ""
          }</div>
        </li>`,
      )
      .join("");
    const monitors = work.monitors
      .map(
        (m) => `<li class="monitor" data-site="${m.site_id}">
          <b>${escapeHtml(m.site ?? `#${m.site_id}`)}</b> <span class="muted">every ${m.every_minutes} min · ${escapeHtml(m.source)}</span>
          <div>${m.last_round ? `${time(m.last_round)}: ${escapeHtml(m.last_summary ?? "")}` : "no round yet"}</div>
        </li>`,
      )
      .join("");
    return `<section class="standing-work panel">
        <h3>Standing work</h3>
        ${cluster}
        ${feeds ? `<h4>Drone feeds</h4><ul class="feeds">${feeds}</ul>` : ""}
        ${monitors ? `<h4>Monitoring</h4><ul class="monitors">${monitors}</ul>` : ""}
      </section>`;
  }

  private createForm(): string {
    return `<form class="create-site panel">
        <h3>New site</h3>
        <button type="button" data-action="draw-aoi">Draw its area on the map</button>
        <p class="hint aoi-state">Click the corners; click the first one (or press Enter) to close.</p>
        <label>Name <input name="name" required pattern="[A-Za-z0-9][A-Za-z0-9_.\\-]{0,99}" placeholder="e.g. harbour-north"></label>
        <label>Ground sampling distance (m) <input name="gsd" type="number" min="0.05" max="100" step="0.05" placeholder="from the first scene"></label>
        <button type="submit">Create site</button>
        <p class="error" role="alert" hidden></p>
      </form>`;
  }

  private showMap(rows: SiteRow[]): void {
    const container = this.root.querySelector<HTMLElement>(".sites-map")!;
    const features: GeoJSON.Feature[] = rows
      .filter((r) => r.site.aoi)
      .map((r) => ({ type: "Feature", id: r.site.id, properties: { id: r.site.id, name: r.site.name, alert: r.latest?.severity ?? "none" }, geometry: r.site.aoi! }));
    const bounds = new maplibregl.LngLatBounds();
    rows.forEach((r) => {
      bounds.extend([r.site.bbox[0], r.site.bbox[1]]);
      bounds.extend([r.site.bbox[2], r.site.bbox[3]]);
    });
    const map = new maplibregl.Map({
      container,
      style: baseStyle(),
      attributionControl: false,
      fadeDuration: 0,
      ...(rows.length > 0 ? { bounds, fitBoundsOptions: { padding: 80, maxZoom: 15 } } : { center: [0, 20], zoom: 1.5 }),
    });
    this.map = map;
    window.sitewatch = { ...window.sitewatch, map };
    map.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
    map.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-right");
    map.on("load", () => {
      map.addSource("sites", { type: "geojson", data: { type: "FeatureCollection", features } });
      const colour: maplibregl.ExpressionSpecification = ["match", ["get", "alert"], "critical", "#ff4d4f", "warning", "#ffb020", "info", "#4da3ff", "#ffe14d"];
      map.addLayer({ id: "sites-fill", type: "fill", source: "sites", paint: { "fill-color": colour, "fill-opacity": 0.2 } });
      map.addLayer({ id: "sites-line", type: "line", source: "sites", paint: { "line-color": colour, "line-width": 2 } });
      map.on("click", "sites-fill", (e) => {
        const id = e.features?.[0]?.properties?.id;
        if (id !== undefined && !this.draw?.getMode().startsWith("aoi")) location.hash = `#/site/${id}`;
      });
      map.on("mouseenter", "sites-fill", () => (map.getCanvas().style.cursor = "pointer"));
      map.on("mouseleave", "sites-fill", () => (map.getCanvas().style.cursor = ""));
      for (const r of rows) {
        const label = document.createElement("a");
        label.className = "site-label";
        label.href = `#/site/${r.site.id}`;
        label.textContent = r.site.name;
        new maplibregl.Marker({ element: label, anchor: "bottom" }).setLngLat([(r.site.bbox[0] + r.site.bbox[2]) / 2, r.site.bbox[3]]).addTo(map);
      }
      if (mayWrite(this.me)) this.startDrawing(map);
    });
  }

  private startDrawing(map: maplibregl.Map): void {
    const draw = new TerraDraw({
      adapter: new TerraDrawMapLibreGLAdapter({ map }),
      modes: [
        new TerraDrawPolygonMode({ modeName: "aoi", styles: { fillColor: "#00e5ff", fillOpacity: 0.15, outlineColor: "#00e5ff", outlineWidth: 2 } }),
        new TerraDrawRenderMode({ modeName: "idle", styles: {} }),
      ],
    });
    draw.start();
    draw.setMode("idle");
    draw.on("finish", (id) => {
      const f = draw.getSnapshotFeature(id);
      if (!f) return;
      this.drawn = f.geometry as GeoJSON.Polygon;
      draw.setMode("idle");
      const state = this.root.querySelector(".aoi-state");
      if (state) state.textContent = `Area drawn: ${squareMetres(polygonArea(this.drawn))}.`;
    });
    this.draw = draw;
  }

  private async create(e: Event): Promise<void> {
    e.preventDefault();
    const form = e.target as HTMLFormElement;
    const error = form.querySelector<HTMLElement>(".error")!;
    error.hidden = true;
    if (!this.drawn) {
      error.textContent = "Draw the site's area on the map first.";
      error.hidden = false;
      return;
    }
    const data = new FormData(form);
    const gsd = String(data.get("gsd") ?? "");
    try {
      const site = await api.createSite(String(data.get("name")), this.drawn, gsd ? Number(gsd) : undefined);
      location.hash = `#/site/${site.id}`;
    } catch (err) {
      error.textContent = (err as Error).message;
      error.hidden = false;
    }
  }
}
