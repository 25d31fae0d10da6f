// The site view: the scene of the date shown as map tiles from the server, the timeline, before/after swipe and
// side by side, change objects and detections as layers, the alerts with their evidence, analyses started from
// the page with live progress, the activity chart and the measuring tools. Everything it shows is in the URL.
import Compare from "@maplibre/maplibre-gl-compare";
import "@maplibre/maplibre-gl-compare/style.css";
import syncMaps from "@mapbox/mapbox-gl-sync-move";
import { api, mayWrite, type Activity, type Alert, type ChangeChoice, type ChangeMethods, type ChangeRun, type DetectionRun, type Job, type Me, type Scene, type Site } from "../api";
import { ActivityChart } from "../chart";
import { day, escapeHtml, percent, squareMetres } from "../format";
import type { LiveEvents } from "../live";
import { baseStyle, classColour, emptyCollection, KIND_COLOURS, maplibregl, sceneSource } from "../mapbase";
import { MeasureTools } from "../measure";
import { NotesPanel, ProductsPanel, UploadPanel } from "../panels";
import type { Layer, Mode, SiteState } from "../state";
import { defaultPair } from "../timeline-logic";
import { scenesForTimeline, Timeline } from "../timeline";

type MapLibreMap = maplibregl.Map;

interface Loaded {
  site: Site;
  scenes: Scene[];
  changeRuns: ChangeRun[];
  detectionRuns: DetectionRun[];
  alerts: Alert[];
  activity?: Activity;
  /** The change methods the server offers (analysts only). */
  methods?: ChangeMethods;
}

const LAYER_LABELS: Record<Layer, string> = {
  changes: "Change objects",
  detections: "Detections",
  aoi: "Area of interest",
  alerts: "Alert outlines",
  magnitude: "Change magnitude",
  mask: "Change mask",
};

/** The run's rasters drawn as see-through overlays, under the vector layers. */
const CHANGE_RASTERS = ["magnitude", "mask"] as const;

export class SiteView {
  private data!: Loaded;
  private readonly timeline: Timeline;
  private readonly chart: ActivityChart;
  private readonly measure = new MeasureTools();
  private notes!: NotesPanel;
  private primary?: MapLibreMap;
  private secondary?: MapLibreMap;
  private compare?: Compare;
  private unsync?: () => void;
  private primaryLoaded?: Promise<void>;
  private secondaryLoaded?: Promise<void>;
  private changeRun?: ChangeRun;
  private changeObjects: GeoJSON.FeatureCollection = emptyCollection();
  /** The method, threshold and segment size the next change run is asked for; kept while the dates change. */
  private changeChoice: ChangeChoice = {};
  private detectionRun?: DetectionRun;
  private popup?: maplibregl.Popup;
  private applying = 0;
  private readonly disposers: (() => void)[] = [];
  private readonly el: Record<string, HTMLElement> = {};

  constructor(
    private readonly root: HTMLElement,
    private state: SiteState,
    private readonly me: Me,
    private readonly live: LiveEvents,
    private readonly onState: (state: SiteState) => void,
  ) {
    this.timeline = new Timeline((which, date) => this.pickDate(which, date));
    this.chart = new ActivityChart((date) => this.pickDate("after", date));
  }

  async show(): Promise<void> {
    this.root.innerHTML = `<div class="loading">Loading site…</div>`;
    this.data = await this.load();
    this.layout();
    const pair = defaultPair(this.timeline.dates, this.state.after, this.state.before);
    this.state = { ...this.state, ...pair };
    this.buildMaps();
    this.chart.setActivity(this.data.activity ?? { site_id: this.state.siteId, classes: [], dates: [] }, this.chartWidth());
    await this.apply();
    if (this.state.alert !== undefined) {
      const alert = this.data.alerts.find((a) => a.id === this.state.alert);
      if (alert) this.showEvidence(alert, false);
    }
    this.followLive();
  }

  destroy(): void {
    this.disposers.forEach((d) => d());
    this.destroyMaps();
    this.timeline.destroy();
    this.chart.destroy();
    void this.live.unfollowAll().catch(() => {});
  }

  // ---- data -------------------------------------------------------------------------------------------------

  private async load(): Promise<Loaded> {
    const id = this.state.siteId;
    const [site, scenes, changeRuns, detectionRuns, alerts, activity, methods] = await Promise.all([
      api.site(id),
      api.scenes(id),
      api.changeRuns(id),
      api.detectionRuns(id),
      api.alerts(id),
      api.activity(id).catch(() => undefined),
      mayWrite(this.me) ? api.changeMethods().catch(() => undefined) : Promise.resolve(undefined),
    ]);
    if (methods) this.changeChoice = { method: methods.default_method, threshold: "auto", segment_metres: methods.default_segment_metres };
    return { site, scenes: scenes.items, changeRuns: changeRuns.items, detectionRuns: detectionRuns.items, alerts: alerts.items, activity, methods };
  }

  private async reloadRuns(): Promise<void> {
    const id = this.state.siteId;
    const [changeRuns, detectionRuns, activity] = await Promise.all([api.changeRuns(id), api.detectionRuns(id), api.activity(id).catch(() => undefined)]);
    this.data.changeRuns = changeRuns.items;
    this.data.detectionRuns = detectionRuns.items;
    this.data.activity = activity;
    this.chart.setActivity(activity ?? { site_id: id, classes: [], dates: [] }, this.chartWidth());
    await this.apply();
  }

  /** After an upload: the new scene joins the timeline and is shown. */
  private async reloadScenes(): Promise<void> {
    const scenes = await api.scenes(this.state.siteId);
    const known = new Set(this.data.scenes.map((s) => s.id));
    this.data.scenes = scenes.items;
    this.timeline.setScenes(scenesForTimeline(this.data.scenes));
    const added = scenes.items.find((s) => !known.has(s.id));
    if (added) this.state = { ...this.state, after: day(added.acquired_utc) };
    this.root.querySelector(".site-title .muted")!.textContent = `EPSG:${this.data.site.crs_epsg} · ${this.data.site.gsd} m · ${this.data.scenes.length} scenes`;
    await this.apply();
  }

  /** Puts an outline (a note's) on the map as the focus and brings it into view. */
  private focusOn(outline: GeoJSON.Geometry | undefined): void {
    const map = this.primary;
    if (!map || !outline) return;
    (map.getSource("focus") as maplibregl.GeoJSONSource | undefined)?.setData({ type: "FeatureCollection", features: [{ type: "Feature", properties: {}, geometry: outline }] });
    const bounds = new maplibregl.LngLatBounds();
    (coordinates(outline) as [number, number][]).forEach((c) => bounds.extend(c));
    map.fitBounds(bounds, { padding: 80, maxZoom: Math.max(17, map.getZoom()), duration: 0 });
  }

  private sceneOn(date: string | undefined): Scene | undefined {
    return this.data.scenes.find((s) => day(s.acquired_utc) === date);
  }

  private sceneById(id: number | undefined): Scene | undefined {
    return this.data.scenes.find((s) => s.id === id);
  }

  /** The run comparing exactly the two dates when there is one, else the latest run that ends on the date shown. */
  private pickChangeRun(): ChangeRun | undefined {
    const after = this.sceneOn(this.state.after);
    const before = this.sceneOn(this.state.before);
    if (!after) return undefined;
    const runs = this.data.changeRuns;
    const exact = runs.filter((r) => r.after_scene_id === after.id && r.before_scene_id === before?.id);
    if (exact.length > 0) return exact[exact.length - 1];
    const ending = runs.filter((r) => r.after_scene_id === after.id);
    if (ending.length === 0) return undefined;
    // Prefer the comparison with the nearest earlier date (consecutive pairs read best on a timeline).
    return ending.sort((a, b) => {
      const da = this.sceneById(a.before_scene_id)?.acquired_utc ?? "";
      const db = this.sceneById(b.before_scene_id)?.acquired_utc ?? "";
      return db.localeCompare(da) || b.id - a.id;
    })[0];
  }

  private pickDetectionRun(): DetectionRun | undefined {
    const scene = this.sceneOn(this.state.after);
    const runs = this.data.detectionRuns.filter((r) => r.scene_id === scene?.id);
    return runs[runs.length - 1];
  }

  // ---- layout -----------------------------------------------------------------------------------------------

  private layout(): void {
    const site = this.data.site;
    this.root.innerHTML = `
      <div class="site-view">
        <div class="site-main">
          <div class="site-title">
            <a href="#/sites" class="back">← Sites</a>
            <h2>${escapeHtml(site.name)}</h2>
            <span class="muted">EPSG:${site.crs_epsg} · ${site.gsd} m · ${this.data.scenes.length} scenes</span>
            <span class="live-state" data-live="connecting">live: connecting</span>
          </div>
          <div class="maps-host"></div>
          <div class="timeline-host"></div>
        </div>
        <aside class="sidebar">
          <section class="panel view-panel"></section>
          <section class="panel layers-panel"></section>
          <section class="panel analysis-panel"></section>
          <section class="panel alerts-panel"></section>
          <div class="measure-host"></div>
          <div class="notes-host"></div>
          <div class="products-host"></div>
          <div class="upload-host"></div>
          <section class="panel activity-panel"><h3>Activity</h3><div class="chart-host"></div></section>
        </aside>
      </div>`;
    const q = (sel: string) => this.root.querySelector<HTMLElement>(sel)!;
    this.el.maps = q(".maps-host");
    this.el.view = q(".view-panel");
    this.el.layers = q(".layers-panel");
    this.el.analysis = q(".analysis-panel");
    this.el.alerts = q(".alerts-panel");
    this.el.live = q(".live-state");
    q(".timeline-host").appendChild(this.timeline.element);
    q(".measure-host").appendChild(this.measure.element);
    q(".chart-host").appendChild(this.chart.element);
    this.timeline.setScenes(scenesForTimeline(this.data.scenes));
    if (!mayWrite(this.me)) this.el.analysis.hidden = true;
    const follow = (job: Job, progress: (job: Job) => void) => this.followJob(job, progress);
    this.notes = new NotesPanel(this.state.siteId, this.me, () => this.measure.referenceOutline(), (outline) => this.focusOn(outline), () => this.state.after);
    this.measure.onReferenceChange = () => this.notes.referenceChanged();
    q(".notes-host").appendChild(this.notes.element);
    void this.notes.load();
    if (mayWrite(this.me)) {
      // Viewers see neither: the server refuses them to viewers anyway.
      q(".products-host").appendChild(new ProductsPanel(this.state.siteId, follow).element);
      q(".upload-host").appendChild(new UploadPanel(this.state.siteId, follow, () => this.reloadScenes()).element);
    }

    this.el.view.addEventListener("change", (e) => {
      const t = e.target as HTMLInputElement | HTMLSelectElement;
      if (t.name === "mode") this.setMode(t.value as Mode);
      if (t.name === "after" || t.name === "before") this.pickDate(t.name, t.value);
    });
    this.el.layers.addEventListener("change", (e) => {
      const t = e.target as HTMLInputElement;
      if (t.name === "layer") this.toggleLayer(t.value as Layer, t.checked);
      if (t.name === "class") this.toggleClass(t.value, t.checked);
    });
    this.el.analysis.addEventListener("click", (e) => {
      const b = (e.target as HTMLElement).closest<HTMLButtonElement>("button[data-run]");
      if (b) void this.runAnalysis(b.dataset.run as "change" | "detect");
    });
    this.el.analysis.addEventListener("change", (e) => {
      const t = e.target as HTMLInputElement | HTMLSelectElement;
      if (t.name === "change-method") {
        // A threshold the new method does not take falls back to the method's own default.
        const offered = this.data.methods?.methods.find((m) => m.name === t.value)?.thresholds ?? [];
        this.changeChoice = { ...this.changeChoice, method: t.value, threshold: offered.includes(this.changeChoice.threshold ?? "") ? this.changeChoice.threshold : "auto" };
        this.renderAnalysisPanel();
      }
      if (t.name === "change-threshold") this.changeChoice = { ...this.changeChoice, threshold: t.value };
      if (t.name === "segment-metres" && t instanceof HTMLInputElement && t.validity.valid && t.valueAsNumber > 0) {
        this.changeChoice = { ...this.changeChoice, segment_metres: t.valueAsNumber };
      }
    });
    this.el.alerts.addEventListener("click", (e) => {
      const item = (e.target as HTMLElement).closest<HTMLElement>("[data-alert]");
      if (!item) return;
      const alert = this.data.alerts.find((a) => a.id === Number(item.dataset.alert));
      if (alert) this.showEvidence(alert, true);
    });
    const onResize = () => this.chart.resize(this.chartWidth());
    window.addEventListener("resize", onResize);
    this.disposers.push(() => window.removeEventListener("resize", onResize));
  }

  private chartWidth(): number {
    return Math.max(240, (this.root.querySelector(".sidebar")?.clientWidth ?? 360) - 28);
  }

  // ---- maps -------------------------------------------------------------------------------------------------

  private destroyMaps(): void {
    this.measure.detach();
    this.compare?.remove();
    this.unsync?.();
    this.popup?.remove();
    this.primary?.remove();
    this.secondary?.remove();
    this.compare = undefined;
    this.unsync = undefined;
    this.primary = undefined;
    this.secondary = undefined;
  }

  private buildMaps(): void {
    this.destroyMaps();
    const mode = this.state.mode;
    const host = this.el.maps;
    host.innerHTML = "";
    host.className = `maps-host mode-${mode}`;
    host.dataset.ready = "0";
    const beforeEl = document.createElement("div");
    beforeEl.className = "map map-before";
    const afterEl = document.createElement("div");
    afterEl.className = "map map-after";
    if (mode !== "single") host.appendChild(beforeEl);
    host.appendChild(afterEl);

    const view = this.state.view;
    const options = (container: HTMLElement): maplibregl.MapOptions => ({
      container,
      style: baseStyle(),
      attributionControl: false,
      maxZoom: 21,
      fadeDuration: 0,
      ...(view ? { center: [view.lon, view.lat] as [number, number], zoom: view.zoom } : { bounds: this.data.site.bbox, fitBoundsOptions: { padding: 24 } }),
    });
    this.primary = new maplibregl.Map(options(afterEl));
    this.primary.addControl(new maplibregl.NavigationControl({ showCompass: false }), "top-right");
    this.primary.addControl(new maplibregl.ScaleControl({ unit: "metric" }), "bottom-right");
    this.primaryLoaded = new Promise((resolve) => this.primary!.once("load", () => resolve()));
    void this.primaryLoaded.then(() => this.installOverlays(this.primary!));
    this.primary.on("moveend", () => this.rememberView());

    if (mode !== "single") {
      this.secondary = new maplibregl.Map(options(beforeEl));
      this.secondaryLoaded = new Promise((resolve) => this.secondary!.once("load", () => resolve()));
      void this.secondaryLoaded.then(() => this.installBefore(this.secondary!));
      if (mode === "swipe") {
        this.compare = new Compare(this.secondary, this.primary, host, { orientation: "vertical" });
      } else {
        this.unsync = syncMaps(this.secondary, this.primary);
      }
    } else {
      this.secondaryLoaded = undefined;
    }
    const badge = (el: HTMLElement, cls: string) => {
      const b = document.createElement("div");
      b.className = `map-badge ${cls}`;
      el.appendChild(b);
    };
    badge(afterEl, "badge-after");
    if (mode !== "single") badge(beforeEl, "badge-before");
    void this.primaryLoaded.then(() => this.measure.attach(this.primary!));
    this.exposeForScripts();
  }

  private installBefore(map: MapLibreMap): void {
    const scene = this.sceneOn(this.state.before);
    map.addSource("scene", sceneSource(scene?.tiles ?? this.data.scenes[0]?.tiles ?? "", this.data.site.bbox));
    map.addLayer({ id: "scene", type: "raster", source: "scene", paint: { "raster-fade-duration": 0 } });
    map.addSource("aoi", { type: "geojson", data: this.aoiFeature() });
    map.addLayer({ id: "aoi-line", type: "line", source: "aoi", paint: { "line-color": "#ffe14d", "line-width": 2, "line-dasharray": [3, 2] } });
    this.setVisibility(map, "aoi-line", this.state.layers.includes("aoi"));
  }

  private installOverlays(map: MapLibreMap): void {
    const scene = this.sceneOn(this.state.after);
    map.addSource("scene", sceneSource(scene?.tiles ?? this.data.scenes[0]?.tiles ?? "", this.data.site.bbox));
    map.addLayer({ id: "scene", type: "raster", source: "scene", paint: { "raster-fade-duration": 0 } });

    map.addSource("aoi", { type: "geojson", data: this.aoiFeature() });
    map.addLayer({ id: "aoi-line", type: "line", source: "aoi", paint: { "line-color": "#ffe14d", "line-width": 2, "line-dasharray": [3, 2] } });

    // tolerance 0: every change object is drawn at every zoom (none simplified away), so what is drawn is what the run found.
    map.addSource("changes", { type: "geojson", data: emptyCollection(), tolerance: 0 });
    const kindColour: maplibregl.ExpressionSpecification = ["match", ["get", "kind"], "appeared", KIND_COLOURS.appeared, "removed", KIND_COLOURS.removed, "altered", KIND_COLOURS.altered, "#cccccc"];
    map.addLayer({ id: "changes-fill", type: "fill", source: "changes", paint: { "fill-color": kindColour, "fill-opacity": 0.3 } });
    map.addLayer({ id: "changes-line", type: "line", source: "changes", paint: { "line-color": kindColour, "line-width": 1.5 } });

    map.addSource("detections", { type: "geojson", data: emptyCollection(), tolerance: 0 });
    map.addLayer({ id: "detections-line", type: "line", source: "detections", paint: { "line-color": ["coalesce", ["get", "_colour"], "#7CFC00"], "line-width": 1.5 } });
    map.addLayer({ id: "detections-fill", type: "fill", source: "detections", paint: { "fill-color": ["coalesce", ["get", "_colour"], "#7CFC00"], "fill-opacity": 0.08 } });

    map.addSource("alerts", { type: "geojson", data: this.alertOutlines() });
    map.addLayer({ id: "alerts-line", type: "line", source: "alerts", paint: { "line-color": "#ff4fd8", "line-width": 1.5, "line-dasharray": [2, 2] } });

    map.addSource("structure", { type: "geojson", data: emptyCollection() });
    map.addLayer({ id: "structure-line", type: "line", source: "structure", paint: { "line-color": "#ff5a36", "line-width": 3, "line-dasharray": [1, 1] } });
    // The alert being looked at, above everything else.
    map.addSource("focus", { type: "geojson", data: emptyCollection() });
    map.addLayer({ id: "focus-line", type: "line", source: "focus", paint: { "line-color": "#ffffff", "line-width": 4, "line-opacity": 0.9 } });

    for (const layer of ["changes-fill", "detections-fill"]) {
      map.on("mouseenter", layer, () => (map.getCanvas().style.cursor = "pointer"));
      map.on("mouseleave", layer, () => (map.getCanvas().style.cursor = ""));
    }
    map.on("click", (e) => this.onMapClick(e));
    this.applyVisibility();
  }

  private aoiFeature(): GeoJSON.FeatureCollection {
    const aoi = this.data.site.aoi;
    return aoi ? { type: "FeatureCollection", features: [{ type: "Feature", properties: {}, geometry: aoi }] } : emptyCollection();
  }

  private alertOutlines(): GeoJSON.FeatureCollection {
    return {
      type: "FeatureCollection",
      features: this.data.alerts.filter((a) => a.geometry).map((a) => ({ type: "Feature", id: a.id, properties: { id: a.id, rule: a.rule }, geometry: a.geometry! })),
    };
  }

  /** The change run's magnitude and mask tiles (the server colours them), kept under the vector layers. */
  private setChangeRasters(map: MapLibreMap): void {
    const run = this.changeRun;
    if (!run) return;
    for (const raster of CHANGE_RASTERS) {
      const id = `change-${raster}`;
      const template = location.origin + (raster === "magnitude" ? run.magnitude_tiles : run.mask_tiles);
      const source = map.getSource(id) as maplibregl.RasterTileSource | undefined;
      if (source) {
        source.setTiles([template]);
      } else {
        map.addSource(id, { type: "raster", tiles: [template], tileSize: 256, bounds: this.data.site.bbox as [number, number, number, number], minzoom: 8, maxzoom: 21 });
        map.addLayer({ id, type: "raster", source: id, paint: { "raster-fade-duration": 0, "raster-resampling": "nearest" } }, "aoi-line");
      }
    }
  }

  /** The legends of the change rasters shown: colours with the values they stand for in this run. */
  private async fillLegends(): Promise<void> {
    const run = this.changeRun;
    for (const raster of CHANGE_RASTERS) {
      const host = this.el.layers.querySelector<HTMLElement>(`[data-legend=${raster}]`);
      if (!host || !run || !this.state.layers.includes(raster)) continue;
      try {
        const legend = await api.legend(run, raster);
        if (this.changeRun?.id !== run.id) return;
        const entries = legend.entries
          .map((e) => `<span class="entry"><span class="swatch" style="background:${escapeHtml(e.colour)}"></span>${raster === "mask" ? escapeHtml(e.label) : escapeHtml(e.value.toPrecision(3))}</span>`)
          .join("");
        host.innerHTML = `${entries}${legend.threshold !== undefined ? `<div class="muted">threshold ${escapeHtml(legend.threshold.toPrecision(4))} (${escapeHtml(legend.method)})</div>` : ""}`;
        if (legend.note) host.title = legend.note;
      } catch {
        host.textContent = "legend unavailable";
      }
    }
  }

  private setVisibility(map: MapLibreMap, layer: string, visible: boolean): void {
    if (map.getLayer(layer)) map.setLayoutProperty(layer, "visibility", visible ? "visible" : "none");
  }

  private applyVisibility(): void {
    const map = this.primary;
    if (!map?.getLayer("changes-fill")) return;
    const on = (l: Layer) => this.state.layers.includes(l);
    this.setVisibility(map, "changes-fill", on("changes"));
    this.setVisibility(map, "changes-line", on("changes"));
    this.setVisibility(map, "detections-line", on("detections"));
    this.setVisibility(map, "detections-fill", on("detections"));
    this.setVisibility(map, "aoi-line", on("aoi"));
    this.setVisibility(map, "alerts-line", on("alerts"));
    for (const raster of CHANGE_RASTERS) this.setVisibility(map, `change-${raster}`, on(raster) && this.changeRun !== undefined);
    if (this.secondary) this.setVisibility(this.secondary, "aoi-line", on("aoi"));
    const classes = this.state.classes;
    const filter: maplibregl.FilterSpecification | null = classes && classes.length > 0 ? ["in", ["get", "class"], ["literal", classes]] : null;
    map.setFilter("detections-line", filter);
    map.setFilter("detections-fill", filter);
  }

  private rememberView(): void {
    const map = this.primary;
    if (!map) return;
    const c = map.getCenter();
    this.state = { ...this.state, view: { zoom: map.getZoom(), lat: c.lat, lon: c.lng } };
    this.onState(this.state);
  }

  // ---- applying the state -----------------------------------------------------------------------------------

  /** Puts the dates, runs and layers of the state on the maps and panels; marks the map ready when it is drawn. */
  private async apply(): Promise<void> {
    const ticket = ++this.applying;
    this.el.maps.dataset.ready = "0";
    this.timeline.setDates(this.state.after, this.state.before, this.state.mode !== "single");
    this.chart.setCurrent(this.state.after);
    this.renderViewPanel();
    this.onState(this.state);

    this.changeRun = this.pickChangeRun();
    this.detectionRun = this.pickDetectionRun();
    const [changes, detections] = await Promise.all([
      this.changeRun ? api.changeObjects(this.changeRun).catch(() => emptyCollection()) : Promise.resolve(emptyCollection()),
      this.detectionRun ? api.detections(this.detectionRun).catch(() => emptyCollection()) : Promise.resolve(emptyCollection()),
    ]);
    await this.primaryLoaded;
    if (this.secondaryLoaded) await this.secondaryLoaded;
    if (ticket !== this.applying || !this.primary) return;

    const map = this.primary;
    const after = this.sceneOn(this.state.after);
    if (after) (map.getSource("scene") as maplibregl.RasterTileSource).setTiles([location.origin + after.tiles]);
    const before = this.sceneOn(this.state.before);
    if (this.secondary && before) (this.secondary.getSource("scene") as maplibregl.RasterTileSource).setTiles([location.origin + before.tiles]);

    this.changeObjects = changes;
    (map.getSource("changes") as maplibregl.GeoJSONSource).setData(changes);
    this.setChangeRasters(map);
    const classes = this.data.activity?.classes ?? Object.keys(this.detectionRun?.counts ?? {});
    detections.features.forEach((f) => {
      f.properties = { ...f.properties, _colour: classColour(String(f.properties?.class ?? ""), classes) };
    });
    (map.getSource("detections") as maplibregl.GeoJSONSource).setData(detections);
    this.applyVisibility();
    this.setDefaultStructure();
    this.renderLayersPanel();
    this.renderAnalysisPanel();
    this.renderAlerts();
    this.labelBadges();

    await this.idle(map);
    if (this.secondary) await this.idle(this.secondary);
    if (ticket === this.applying) {
      this.el.maps.dataset.ready = "1";
      window.sitewatch.firstCompleteMap ??= performance.now();
    }
  }

  private idle(map: MapLibreMap): Promise<void> {
    return new Promise((resolve) => {
      if (map.loaded() && map.areTilesLoaded() && !map.isMoving()) {
        // Already drawn, or drawing: wait for the next idle after a repaint.
        map.once("idle", () => resolve());
        map.triggerRepaint();
      } else {
        map.once("idle", () => resolve());
      }
    });
  }

  private labelBadges(): void {
    const after = this.el.maps.querySelector<HTMLElement>(".badge-after");
    const before = this.el.maps.querySelector<HTMLElement>(".badge-before");
    const scene = this.sceneOn(this.state.after);
    if (after) after.textContent = `${this.state.mode === "single" ? "" : "after · "}${this.state.after ?? "no scene"}${scene ? ` · ${scene.sensor}` : ""}`;
    if (before) before.textContent = `before · ${this.state.before ?? "-"}`;
  }

  private pickDate(which: "after" | "before", date: string): void {
    if (which === "after" && date === this.state.after) return;
    if (which === "before" && date === this.state.before) return;
    this.state = { ...this.state, [which]: date };
    if (this.state.before === this.state.after) {
      const pair = defaultPair(this.timeline.dates, this.state.after, undefined);
      this.state.before = pair.before;
    }
    void this.apply();
  }

  private setMode(mode: Mode): void {
    if (mode === this.state.mode) return;
    this.state = { ...this.state, mode };
    this.buildMaps();
    void this.apply();
  }

  private toggleLayer(layer: Layer, on: boolean): void {
    const layers = this.state.layers.filter((l) => l !== layer);
    if (on) layers.push(layer);
    this.state = { ...this.state, layers };
    this.applyVisibility();
    this.onState(this.state);
    if ((CHANGE_RASTERS as readonly string[]).includes(layer)) {
      const host = this.el.layers.querySelector<HTMLElement>(`[data-legend=${layer}]`);
      if (host && !on) host.innerHTML = "";
      else void this.fillLegends();
    }
  }

  private toggleClass(cls: string, on: boolean): void {
    const all = Object.keys(this.detectionRun?.counts ?? {});
    let classes = this.state.classes && this.state.classes.length > 0 ? [...this.state.classes] : [...all];
    classes = classes.filter((c) => c !== cls);
    if (on) classes.push(cls);
    this.state = { ...this.state, classes: classes.length === all.length ? undefined : classes };
    this.applyVisibility();
    this.onState(this.state);
  }

  // ---- map clicks, popups, the new structure ----------------------------------------------------------------

  private onMapClick(e: maplibregl.MapMouseEvent): void {
    const map = this.primary!;
    if (this.measure.drawing) return;
    const layers = ["changes-fill", "detections-fill"].filter((l) => map.getLayer(l) && map.getLayoutProperty(l, "visibility") !== "none");
    const hit = map.queryRenderedFeatures(e.point, { layers })[0];
    if (!hit) return;
    this.popup?.remove();
    const p = hit.properties ?? {};
    let html: string;
    if (hit.layer.id === "changes-fill") {
      const run = this.changeRun;
      const dates = run ? `${day(this.sceneById(run.before_scene_id)?.acquired_utc ?? "?")} → ${day(this.sceneById(run.after_scene_id)?.acquired_utc ?? "?")}` : "";
      html = `<div class="popup change" data-object="${escapeHtml(String(hit.id ?? p.id ?? ""))}">
        <h4><span class="swatch" style="background:${KIND_COLOURS[p.kind] ?? "#ccc"}"></span>${escapeHtml(String(p.kind))}${p.shadow ? " (shadow)" : ""}</h4>
        <table>
          <tr><th>Area</th><td>${squareMetres(Number(p.area_m2))}</td></tr>
          <tr><th>Confidence</th><td>${p.confidence == null ? "-" : percent(Number(p.confidence))}</td></tr>
          <tr><th>Dates</th><td>${dates}</td></tr>
          <tr><th>Run</th><td>#${run?.id ?? "-"} · ${escapeHtml(run?.method ?? "")}</td></tr>
          <tr><th>Object</th><td>${escapeHtml(String(hit.id ?? p.id ?? "-"))}</td></tr>
        </table>
        ${run ? `<p><a class="quicklook" href="${escapeHtml(run.quicklook)}" target="_blank" rel="noopener">before | after | change picture of the run</a></p>` : ""}
        <button type="button" class="use-structure">Measure against the reference</button>
      </div>`;
    } else {
      html = `<div class="popup detection"><h4><span class="swatch" style="background:${escapeHtml(String(p._colour))}"></span>${escapeHtml(String(p.class).replace(/_/g, " "))}</h4>
        <table><tr><th>Score</th><td>${percent(Number(p.score))}</td></tr><tr><th>Area</th><td>${squareMetres(Number(p.area_m2))}</td></tr>
        <tr><th>Scene</th><td>${this.state.after}</td></tr></table></div>`;
    }
    this.popup = new maplibregl.Popup({ maxWidth: "300px" }).setLngLat(e.lngLat).setHTML(html).addTo(map);
    const id = hit.id ?? p.id;
    this.popup.getElement().querySelector(".use-structure")?.addEventListener("click", () => {
      const feature = this.changeObjects.features.find((f) => (f.id ?? f.properties?.id) == id);
      if (feature) this.useStructure(feature);
      this.popup?.remove();
    });
  }

  /** The largest appeared (not shadow) change object of the run shown: what the CLI measures as the new structure. */
  private setDefaultStructure(): void {
    const appeared = this.changeObjects.features.filter((f) => f.properties?.kind === "appeared" && !f.properties?.shadow);
    const largest = appeared.sort((a, b) => Number(b.properties?.area_m2) - Number(a.properties?.area_m2))[0];
    if (largest) this.useStructure(largest);
    else {
      this.measure.setStructure(undefined);
      (this.primary?.getSource("structure") as maplibregl.GeoJSONSource | undefined)?.setData(emptyCollection());
    }
  }

  private useStructure(feature: GeoJSON.Feature): void {
    const run = this.changeRun;
    const dates = run ? `${day(this.sceneById(run.before_scene_id)?.acquired_utc ?? "?")} → ${day(this.sceneById(run.after_scene_id)?.acquired_utc ?? "?")}` : "";
    this.measure.setStructure({ label: `${feature.properties?.kind} object ${feature.id ?? feature.properties?.id} of run #${run?.id} (${dates})`, areaM2: Number(feature.properties?.area_m2) });
    (this.primary?.getSource("structure") as maplibregl.GeoJSONSource | undefined)?.setData({ type: "FeatureCollection", features: [feature] });
  }

  // ---- panels -----------------------------------------------------------------------------------------------

  private renderViewPanel(): void {
    const dates = this.timeline.dates;
    const option = (d: string, selected?: string) => `<option value="${d}" ${d === selected ? "selected" : ""}>${d}</option>`;
    const mode = this.state.mode;
    const radio = (m: Mode, label: string) => `<label><input type="radio" name="mode" value="${m}" ${mode === m ? "checked" : ""}> ${label}</label>`;
    this.el.view.innerHTML = `
      <h3>View</h3>
      <div class="modes">${radio("single", "Single")}${radio("swipe", "Swipe")}${radio("side", "Side by side")}</div>
      <div class="dates">
        <label>Before <select name="before">${dates.map((d) => option(d, this.state.before)).join("")}</select></label>
        <label>After <select name="after">${dates.map((d) => option(d, this.state.after)).join("")}</select></label>
      </div>`;
  }

  private renderLayersPanel(): void {
    const on = (l: Layer) => this.state.layers.includes(l);
    const run = this.changeRun;
    const kinds = new Map<string, number>();
    this.changeObjects.features.forEach((f) => kinds.set(String(f.properties?.kind), (kinds.get(String(f.properties?.kind)) ?? 0) + 1));
    const runText = run
      ? `run #${run.id} · ${escapeHtml(run.method)} · ${day(this.sceneById(run.before_scene_id)?.acquired_utc ?? "?")} → ${day(this.sceneById(run.after_scene_id)?.acquired_utc ?? "?")}`
      : "no change run ends on this date";
    const kindList = ["appeared", "removed", "altered"]
      .map((k) => `<span class="kind"><span class="swatch" style="background:${KIND_COLOURS[k]}"></span>${k} ${kinds.get(k) ?? 0}</span>`)
      .join("");
    const counts = this.detectionRun?.counts ?? {};
    const classes = Object.keys(counts).sort();
    const allClasses = this.data.activity?.classes ?? classes;
    const shown = this.state.classes;
    const classList = classes
      .map((c) => `<label class="class"><input type="checkbox" name="class" value="${escapeHtml(c)}" ${!shown || shown.includes(c) ? "checked" : ""}>
        <span class="swatch" style="background:${classColour(c, allClasses)}"></span>${escapeHtml(c.replace(/_/g, " "))} <b>${counts[c]}</b></label>`)
      .join("");
    const layer = (l: Layer, extra = "") => `<label class="layer"><input type="checkbox" name="layer" value="${l}" ${on(l) ? "checked" : ""}> ${LAYER_LABELS[l]} ${extra}</label>`;
    this.el.layers.innerHTML = `
      <h3>Layers</h3>
      ${layer("changes", `<span class="count" data-testid="change-count">${this.changeObjects.features.length}</span>`)}
      <div class="sub">${runText}<div class="kinds">${kindList}</div></div>
      ${layer("detections", `<span class="count">${this.detectionRun?.total ?? 0}</span>`)}
      <div class="sub">${this.detectionRun ? `${escapeHtml(this.detectionRun.model_name)} on ${this.state.after}` : "no detections on this date"}<div class="classes">${classList}</div></div>
      ${layer("aoi")}
      ${layer("alerts")}
      ${layer("magnitude")}<div class="sub legend" data-legend="magnitude"></div>
      ${layer("mask")}<div class="sub legend" data-legend="mask"></div>`;
    void this.fillLegends();
  }

  private renderAnalysisPanel(): void {
    if (!mayWrite(this.me)) {
      this.el.analysis.innerHTML = "";
      return;
    }
    const exact = this.changeRun && this.changeRun.before_scene_id === this.sceneOn(this.state.before)?.id;
    const jobs = this.el.analysis.querySelector(".jobs");
    const methods = this.data.methods?.methods ?? [];
    const chosen = methods.find((m) => m.name === this.changeChoice.method);
    const option = (value: string, selected: boolean, title = "") =>
      `<option value="${escapeHtml(value)}" ${selected ? "selected" : ""} ${title ? `title="${escapeHtml(title)}"` : ""}>${escapeHtml(value)}</option>`;
    // Without the server's list (an older server) the button still runs its default method.
    const choice = chosen
      ? `<div class="change-choice">
          <label>Method <select name="change-method">${methods.map((m) => option(m.name, m === chosen, m.description)).join("")}</select></label>
          <label>Threshold <select name="change-threshold">${chosen.thresholds.map((t) => option(t, t === this.changeChoice.threshold)).join("")}</select></label>
          ${chosen.takes_segment_metres ? `<label>Segment <input type="number" name="segment-metres" min="0.5" max="1000" step="0.5" value="${this.changeChoice.segment_metres ?? ""}"> m</label>` : ""}
          <p class="hint" data-testid="method-description">${escapeHtml(chosen.description)}</p>
        </div>`
      : "";
    this.el.analysis.innerHTML = `
      <h3>Analysis</h3>
      ${choice}
      <div class="buttons">
        <button type="button" data-run="change" title="${escapeHtml(chosen?.description ?? "Change detection between the two dates")}">Detect changes ${this.state.before} → ${this.state.after}</button>
        <button type="button" data-run="detect" title="Count objects on every scene with the default detector">Count objects on all scenes</button>
      </div>
      ${exact ? `<p class="hint">These dates were compared already (run #${this.changeRun!.id}, ${escapeHtml(this.changeRun!.method)}); the same choices again reuse it.</p>` : ""}
      <div class="jobs"></div>`;
    // The jobs started here stay listed when the panel is drawn again (a new method, new dates).
    if (jobs) this.el.analysis.querySelector(".jobs")!.replaceWith(jobs);
  }

  private renderAlerts(): void {
    const alerts = this.data.alerts;
    const selected = this.state.alert;
    const items = alerts
      .map((a) => `<li data-alert="${a.id}" class="alert sev-${escapeHtml(a.severity)} ${a.id === selected ? "selected" : ""}" tabindex="0">
          <span class="sev">${escapeHtml(a.severity)}</span><span class="when">${day(a.observed_utc)}</span>
          <span class="rule">${escapeHtml(a.rule)}</span><span class="msg">${escapeHtml(a.message)}</span></li>`)
      .join("");
    const evidence = this.el.alerts.querySelector(".evidence")?.outerHTML ?? "";
    this.el.alerts.innerHTML = `<h3>Alerts <span class="count">${alerts.length}</span></h3>
      ${alerts.length === 0 ? `<p class="hint">No alerts for this site.</p>` : `<ul class="alert-list">${items}</ul>`}${evidence}`;
  }

  /** An alert's evidence: its dates on the map and timeline, its outline, the before/after chip. */
  private showEvidence(alert: Alert, move: boolean): void {
    this.state = { ...this.state, alert: alert.id };
    const ev = alert.evidence ?? {};
    const after = this.sceneById(Number(ev.scene_id))?.acquired_utc ?? alert.observed_utc;
    const before = this.sceneById(Number(ev.before_scene_id))?.acquired_utc;
    this.state.after = day(after);
    if (before) this.state.before = day(before);
    if (typeof ev.class === "string" && !alert.geometry) {
      this.state.classes = [ev.class];
      if (!this.state.layers.includes("detections")) this.state.layers = [...this.state.layers, "detections"];
    }
    const objects = Array.isArray(ev.objects) ? (ev.objects as { id: number; kind: string; area_m2: number; confidence?: number }[]) : [];
    const html = `<div class="evidence" data-testid="evidence" data-alert="${alert.id}">
        <h4>${escapeHtml(alert.rule)} <span class="sev sev-${escapeHtml(alert.severity)}">${escapeHtml(alert.severity)}</span></h4>
        <p>${escapeHtml(alert.message)}</p>
        <p class="muted">observed ${day(alert.observed_utc)}${before ? ` · compared with ${day(before)}` : ""} · ${escapeHtml(alert.source)}</p>
        ${alert.chip ? `<img class="chip" src="${escapeHtml(alert.chip)}" alt="before and after chip of alert ${alert.id}">` : ""}
        ${objects.length > 0 ? `<ul class="objects">${objects.map((o) => `<li>${escapeHtml(o.kind)} object ${o.id}: ${squareMetres(o.area_m2)}${o.confidence == null ? "" : `, confidence ${percent(o.confidence)}`}</li>`).join("")}</ul>` : ""}
        ${typeof ev.count === "number" ? `<p>${escapeHtml(String(ev.class ?? "").replace(/_/g, " "))}: ${ev.count} on this date (baseline ${ev.baseline_mean} ± ${ev.baseline_std})</p>` : ""}
      </div>`;
    this.el.alerts.querySelector(".evidence")?.remove();
    this.el.alerts.insertAdjacentHTML("beforeend", html);
    void this.apply().then(() => {
      const map = this.primary;
      if (!map) return;
      const focus = alert.geometry ? { type: "FeatureCollection" as const, features: [{ type: "Feature" as const, properties: {}, geometry: alert.geometry }] } : emptyCollection();
      (map.getSource("focus") as maplibregl.GeoJSONSource | undefined)?.setData(focus);
      if (move && alert.geometry) {
        // Only when the outline is not all in view already: the analyst's zoom is kept where it can be.
        const view = map.getBounds();
        const points = coordinates(alert.geometry) as [number, number][];
        if (!points.every((c) => view.contains(c))) {
          const bounds = new maplibregl.LngLatBounds();
          points.forEach((c) => bounds.extend(c));
          map.fitBounds(bounds, { padding: 80, maxZoom: Math.max(17, map.getZoom()), duration: 0 });
        }
      }
      this.el.alerts.querySelector(".evidence")?.scrollIntoView({ block: "nearest" });
    });
  }

  // ---- analyses and live events -----------------------------------------------------------------------------

  private async runAnalysis(kind: "change" | "detect"): Promise<void> {
    const jobs = this.el.analysis.querySelector<HTMLElement>(".jobs")!;
    const row = document.createElement("div");
    row.className = "job";
    const choice = this.changeSent();
    const label = kind === "change" ? `Change ${this.state.before} → ${this.state.after}${choice.method ? ` (${choice.method})` : ""}` : "Counting objects";
    row.innerHTML = `<span class="job-label">${escapeHtml(label)}</span><progress max="1" value="0"></progress><span class="job-state">queued</span>`;
    jobs.appendChild(row);
    try {
      const job = kind === "change" ? await api.startChange(this.state.siteId, this.state.before!, this.state.after!, choice) : await api.startDetection(this.state.siteId);
      row.dataset.job = job.id;
      const done = await this.followJob(job, (j) => {
        row.querySelector("progress")!.value = j.progress;
        row.querySelector(".job-state")!.textContent = j.state === "running" ? `${Math.round(j.progress * 100)} %` : j.state;
      });
      row.dataset.state = done.state;
      if (done.state === "succeeded") {
        await this.reloadRuns();
      } else {
        row.querySelector(".job-state")!.textContent = `${done.state}: ${done.error ?? ""}`;
      }
    } catch (e) {
      row.dataset.state = "failed";
      row.querySelector(".job-state")!.textContent = (e as Error).message;
    }
  }

  /** The choice as sent: the segment size only to the method that reads it. */
  private changeSent(): ChangeChoice {
    const { method, threshold, segment_metres } = this.changeChoice;
    const takesSegment = this.data.methods?.methods.find((m) => m.name === method)?.takes_segment_metres ?? false;
    return { method, threshold, ...(takesSegment ? { segment_metres } : {}) };
  }

  /** Follows a job over the live connection, with a slow poll as a fallback (a missed event never hangs the page). */
  private followJob(job: Job, progress: (job: Job) => void): Promise<Job> {
    return new Promise((resolve) => {
      let finished = false;
      const finish = (j: Job) => {
        if (finished) return;
        progress(j);
        if (j.state === "succeeded" || j.state === "failed" || j.state === "cancelled") {
          finished = true;
          off();
          clearInterval(timer);
          resolve(j);
        }
      };
      const off = this.live.onJob((j) => j.id === job.id && finish(j));
      const timer = setInterval(() => void api.job(job.id).then(finish).catch(() => {}), 2000);
      this.disposers.push(() => {
        off();
        clearInterval(timer);
      });
      finish(job);
    });
  }

  private followLive(): void {
    this.live.onStateChange = (s) => {
      this.el.live.dataset.live = s;
      this.el.live.textContent = `live: ${s}`;
    };
    this.el.live.dataset.live = this.live.connected ? "live" : "connecting";
    this.el.live.textContent = `live: ${this.live.connected ? "live" : "connecting"}`;
    const off = this.live.onAlert((alert) => {
      if (alert.site_id !== this.state.siteId || this.data.alerts.some((a) => a.id === alert.id)) return;
      this.data.alerts = [alert, ...this.data.alerts];
      (this.primary?.getSource("alerts") as maplibregl.GeoJSONSource | undefined)?.setData(this.alertOutlines());
      this.renderAlerts();
      this.toast(`New alert: ${alert.message}`);
    });
    this.disposers.push(off);
    this.live.follow(this.state.siteId).catch(() => {
      this.el.live.dataset.live = "offline";
      this.el.live.textContent = "live: offline";
    });
  }

  private toast(text: string): void {
    const t = document.createElement("div");
    t.className = "toast";
    t.textContent = text;
    document.body.appendChild(t);
    setTimeout(() => t.remove(), 6000);
  }

  /** For scripts and the browser tests: the maps and what they draw. */
  private exposeForScripts(): void {
    const self = this;
    window.sitewatch = {
      ...window.sitewatch,
      get map() {
        return self.primary;
      },
      get beforeMap() {
        return self.secondary;
      },
      /** Change objects drawn on the map now (distinct ids of the rendered features). */
      drawnChangeObjects(): number {
        const map = self.primary;
        if (!map?.getLayer("changes-fill")) return 0;
        const ids = new Set(map.queryRenderedFeatures({ layers: ["changes-fill"] }).map((f) => f.id ?? f.properties?.id));
        return ids.size;
      },
      get changeRunId() {
        return self.changeRun?.id;
      },
    };
  }
}

function coordinates(geometry: GeoJSON.Geometry): number[][] {
  switch (geometry.type) {
    case "Point":
      return [geometry.coordinates];
    case "LineString":
    case "MultiPoint":
      return geometry.coordinates;
    case "Polygon":
    case "MultiLineString":
      return geometry.coordinates.flat();
    case "MultiPolygon":
      return geometry.coordinates.flat(2);
    case "GeometryCollection":
      return geometry.geometries.flatMap(coordinates);
  }
}

declare global {
  interface Window {
    sitewatch: {
      map?: MapLibreMap;
      beforeMap?: MapLibreMap;
      drawnChangeObjects?: () => number;
      changeRunId?: number;
      firstCompleteMap?: number;
      [key: string]: unknown;
    };
  }
}
