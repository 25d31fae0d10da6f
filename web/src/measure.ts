// Distance, area and a reference outline drawn with terra-draw on the site map; the new structure (a change
// object the analyst picks, measured by the server) is then read against the reference as the CLI words it.
import { TerraDraw, TerraDrawLineStringMode, TerraDrawPolygonMode, TerraDrawRenderMode } from "terra-draw";
import { TerraDrawMapLibreGLAdapter } from "terra-draw-maplibre-gl-adapter";
import type { Map as MapLibreMap } from "maplibre-gl";
import { lineLength, polygonArea } from "./geo";
import { escapeHtml, metres, squareMetres, structureSentence } from "./format";

export type Tool = "distance" | "area" | "reference";

interface Measurement {
  id: string | number;
  tool: Tool;
  value: number;
}

export interface Structure {
  label: string;
  areaM2: number;
}

export class MeasureTools {
  readonly element: HTMLElement;
  private draw?: TerraDraw;
  private measurements: Measurement[] = [];
  private structure?: Structure;
  private active?: Tool;
  /** Called when the reference outline is drawn, replaced or cleared. */
  onReferenceChange?: () => void;

  /** The reference outline drawn on the map now (WGS84), e.g. to keep it with a note. */
  referenceOutline(): GeoJSON.Polygon | undefined {
    const reference = this.measurements.find((m) => m.tool === "reference");
    const feature = reference && this.draw?.getSnapshotFeature(reference.id);
    return feature ? (feature.geometry as GeoJSON.Polygon) : undefined;
  }

  constructor() {
    this.element = document.createElement("section");
    this.element.className = "panel measure";
    this.element.addEventListener("click", (e) => {
      const button = (e.target as HTMLElement).closest<HTMLButtonElement>("button[data-tool]");
      if (!button) return;
      const tool = button.dataset.tool!;
      if (tool === "clear") this.clear();
      else this.start(tool as Tool);
    });
    this.render();
  }

  attach(map: MapLibreMap): void {
    this.detach();
    const draw = new TerraDraw({
      adapter: new TerraDrawMapLibreGLAdapter({ map }),
      modes: [
        new TerraDrawLineStringMode({ modeName: "distance", styles: { lineStringColor: "#00e5ff", lineStringWidth: 3, closingPointColor: "#00e5ff" } }),
        new TerraDrawPolygonMode({ modeName: "area", styles: { fillColor: "#00e5ff", fillOpacity: 0.15, outlineColor: "#00e5ff", outlineWidth: 2 } }),
        new TerraDrawPolygonMode({ modeName: "reference", styles: { fillColor: "#ffffff", fillOpacity: 0.12, outlineColor: "#ffffff", outlineWidth: 3 } }),
        new TerraDrawRenderMode({ modeName: "idle", styles: {} }),
      ],
    });
    draw.start();
    draw.setMode("idle");
    draw.on("finish", (id, context) => {
      const feature = draw.getSnapshotFeature(id);
      if (!feature) return;
      const tool = context.mode as Tool;
      const value = tool === "distance"
        ? lineLength((feature.geometry as GeoJSON.LineString).coordinates)
        : polygonArea(feature.geometry as GeoJSON.Polygon);
      if (tool === "reference") {
        // One reference at a time: a new outline replaces the old one.
        const old = this.measurements.filter((m) => m.tool === "reference").map((m) => m.id);
        if (old.length > 0) draw.removeFeatures(old);
        this.measurements = this.measurements.filter((m) => m.tool !== "reference");
      }
      this.measurements.push({ id, tool, value });
      this.active = undefined;
      draw.setMode("idle");
      this.render();
      if (tool === "reference") this.onReferenceChange?.();
    });
    this.draw = draw;
  }

  detach(): void {
    if (this.draw) {
      try {
        this.draw.stop();
      } catch {
        // The map went first (mode switch); nothing left to remove.
      }
    }
    this.draw = undefined;
    this.measurements = [];
    this.active = undefined;
    this.render();
    this.onReferenceChange?.();
  }

  /** The change object the reference is read against (picked on the map, or the largest appeared object). */
  setStructure(structure: Structure | undefined): void {
    this.structure = structure;
    this.render();
  }

  get drawing(): boolean {
    return this.active !== undefined;
  }

  private start(tool: Tool): void {
    if (!this.draw) return;
    this.active = tool;
    this.draw.setMode(tool);
    this.render();
  }

  private clear(): void {
    this.draw?.clear();
    this.draw?.setMode("idle");
    this.measurements = [];
    this.active = undefined;
    this.render();
    this.onReferenceChange?.();
  }

  private render(): void {
    const reference = this.measurements.find((m) => m.tool === "reference");
    const rows = this.measurements
      .map((m) => {
        const what = m.tool === "distance" ? "Distance" : m.tool === "area" ? "Area" : "Reference outline";
        const value = m.tool === "distance" ? metres(m.value) : squareMetres(m.value);
        return `<li data-measure="${m.tool}" data-value="${m.value.toFixed(3)}"><span>${what}</span><b>${value}</b></li>`;
      })
      .join("");
    let sentence = "";
    if (reference && this.structure) {
      sentence = `<p class="sentence" data-testid="sentence">${escapeHtml(structureSentence(this.structure.areaM2, reference.value))}</p>
        <p class="hint">New structure: ${escapeHtml(this.structure.label)}</p>`;
    } else if (reference) {
      sentence = `<p class="hint">Pick a change object on the map (popup → “Measure against the reference”) to compare it.</p>`;
    } else if (this.structure) {
      sentence = `<p class="hint">New structure: ${escapeHtml(this.structure.label)} (${squareMetres(this.structure.areaM2)}). Draw a reference outline (e.g. the existing hall) to read it against.</p>`;
    }
    const hint = this.active
      ? `<p class="hint drawing">Click points on the map; ${this.active === "distance" ? "click the last point again" : "click the first point"} or press Enter to finish.</p>`
      : "";
    const pressed = (t: Tool) => `aria-pressed="${this.active === t}"`;
    this.element.innerHTML = `
      <h3>Measure</h3>
      <div class="buttons">
        <button type="button" data-tool="distance" ${pressed("distance")}>Distance</button>
        <button type="button" data-tool="area" ${pressed("area")}>Area</button>
        <button type="button" data-tool="reference" ${pressed("reference")} title="Draw the outline of a reference, e.g. the existing hall">Reference outline</button>
        <button type="button" data-tool="clear">Clear</button>
      </div>
      ${hint}
      <ol class="measurements">${rows}</ol>
      ${sentence}`;
  }
}
