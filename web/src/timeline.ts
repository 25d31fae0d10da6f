// The scene timeline: one tick per scene on a time axis (cloud cover as the tick's shading, sensor in its
// title), the date shown (after) and the comparison's before date marked. Arrow keys step the date shown,
// Shift+arrows the before date; a click picks the date shown, Shift+click the before date.
import { day, escapeHtml } from "./format";
import { position, step, type TimelineScene } from "./timeline-logic";

export class Timeline {
  readonly element: HTMLElement;
  private scenes: TimelineScene[] = [];
  private after?: string;
  private before?: string;
  private showBefore = false;
  private readonly keyHandler = (e: KeyboardEvent) => this.onKey(e);

  constructor(private readonly onPick: (which: "after" | "before", date: string) => void) {
    this.element = document.createElement("div");
    this.element.className = "timeline";
    this.element.setAttribute("role", "group");
    this.element.setAttribute("aria-label", "Scene timeline");
    this.element.addEventListener("click", (e) => {
      const tick = (e.target as HTMLElement).closest<HTMLElement>(".tl-tick");
      if (tick?.dataset.date) this.onPick(e.shiftKey ? "before" : "after", tick.dataset.date);
    });
    document.addEventListener("keydown", this.keyHandler);
  }

  get dates(): string[] {
    return this.scenes.map((s) => s.date);
  }

  setScenes(scenes: TimelineScene[]): void {
    this.scenes = [...scenes].sort((a, b) => a.date.localeCompare(b.date));
    this.render();
  }

  setDates(after: string | undefined, before: string | undefined, showBefore: boolean): void {
    this.after = after;
    this.before = before;
    this.showBefore = showBefore;
    this.render();
  }

  destroy(): void {
    document.removeEventListener("keydown", this.keyHandler);
    this.element.remove();
  }

  private onKey(e: KeyboardEvent): void {
    if (e.key !== "ArrowLeft" && e.key !== "ArrowRight") return;
    const target = e.target as HTMLElement | null;
    if (target && (target.closest("input, textarea, select") || target.closest(".maplibregl-canvas-container"))) return;
    const delta = e.key === "ArrowLeft" ? -1 : 1;
    const which = e.shiftKey ? "before" : "after";
    const next = step(this.dates, which === "before" ? this.before : this.after, delta);
    if (next) {
      e.preventDefault();
      this.onPick(which, next);
    }
  }

  private render(): void {
    if (this.scenes.length === 0) {
      this.element.innerHTML = `<div class="tl-empty">No scenes in this site yet.</div>`;
      return;
    }
    const dates = this.dates;
    const first = dates[0];
    const last = dates[dates.length - 1];
    const ticks = this.scenes
      .map((s) => {
        const left = 3 + 94 * position(dates, s.date);
        const cloud = s.cloudCover ?? 0;
        const classes = ["tl-tick"];
        if (s.date === this.after) classes.push("current");
        if (this.showBefore && s.date === this.before) classes.push("before");
        const title = `${s.date} · ${s.sensor}${s.cloudCover == null ? "" : ` · ${s.cloudCover.toFixed(0)} % cloud`}`;
        return `<button type="button" class="${classes.join(" ")}" style="left:${left.toFixed(2)}%" data-date="${s.date}"
          title="${escapeHtml(title)}" aria-label="${escapeHtml(title)}" aria-pressed="${s.date === this.after}">
          <span class="tl-bar"><span class="tl-cloud" style="height:${Math.min(100, cloud).toFixed(0)}%"></span></span>
          <span class="tl-date">${s.date.slice(5)}</span>
          <span class="tl-sensor">${escapeHtml(s.sensor)}</span>
        </button>`;
      })
      .join("");
    this.element.innerHTML = `
      <div class="tl-head">
        <span class="tl-range">${first.slice(0, 4)} · ${dates.length} scenes · ${first} → ${last}</span>
        <span class="tl-help">← → date shown${this.showBefore ? " · Shift+← → before date" : ""} · bar: cloud cover</span>
      </div>
      <div class="tl-axis">${ticks}</div>`;
  }
}

export function scenesForTimeline(scenes: { id: number; acquired_utc: string; sensor: string; cloud_cover?: number | null }[]): TimelineScene[] {
  return scenes.map((s) => ({ id: s.id, date: day(s.acquired_utc), sensor: s.sensor, cloudCover: s.cloud_cover ?? null }));
}
