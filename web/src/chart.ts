// Activity over time (uPlot): object counts per class and the appeared area; a click on the chart picks the
// nearest scene date, and the map goes there.
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";
import type { Activity } from "./api";
import { classColour } from "./mapbase";
import { nearest } from "./timeline-logic";

export class ActivityChart {
  readonly element: HTMLElement;
  private plot?: uPlot;
  private current?: string;
  private dates: string[] = [];

  constructor(private readonly onPick: (date: string) => void) {
    this.element = document.createElement("div");
    this.element.className = "activity-chart";
  }

  setActivity(activity: Activity, width: number): void {
    this.plot?.destroy();
    this.element.innerHTML = "";
    this.dates = activity.dates.map((d) => d.date);
    if (this.dates.length === 0) {
      this.element.textContent = "No activity yet: count objects or detect changes first.";
      return;
    }
    const xs = this.dates.map((d) => Date.parse(d) / 1000);
    const classes = activity.classes;
    const data: uPlot.AlignedData = [
      xs,
      ...classes.map((c) => activity.dates.map((d) => d.counts?.[c] ?? null)),
      activity.dates.map((d) => d.appeared_area_m2 ?? null),
    ];
    const series: uPlot.Series[] = [
      { label: "date", value: (_u, v) => (v == null ? "" : new Date(v * 1000).toISOString().slice(0, 10)) },
      ...classes.map((c) => ({ label: c.replace(/_/g, " "), stroke: classColour(c, classes), width: 2, points: { size: 5 }, scale: "count" })),
      { label: "appeared m²", stroke: "#ff5a36", dash: [4, 4], width: 1.5, scale: "m2", points: { size: 4 } },
    ];
    const self = this;
    this.plot = new uPlot(
      {
        width,
        height: 190,
        series,
        scales: { x: { time: true }, count: { range: (_u, _min, max) => [0, Math.max(1, max * 1.1)] } },
        axes: [
          { stroke: "#aab", grid: { stroke: "#2c3138" }, ticks: { stroke: "#2c3138" } },
          { scale: "count", stroke: "#aab", grid: { stroke: "#2c3138" }, label: "count", size: 44 },
          { scale: "m2", side: 1, stroke: "#ff8a6a", grid: { show: false }, label: "m²", size: 56 },
        ],
        legend: { live: false },
        cursor: { drag: { x: false, y: false } },
        hooks: {
          draw: [
            (u) => {
              if (!self.current) return;
              const x = u.valToPos(Date.parse(self.current) / 1000, "x", true);
              const ctx = u.ctx;
              ctx.save();
              ctx.strokeStyle = "#ffffff";
              ctx.lineWidth = 2 * devicePixelRatio;
              ctx.beginPath();
              ctx.moveTo(x, u.bbox.top);
              ctx.lineTo(x, u.bbox.top + u.bbox.height);
              ctx.stroke();
              ctx.restore();
            },
          ],
        },
      },
      data,
      this.element,
    );
    this.plot.over.addEventListener("click", (e) => {
      const u = this.plot!;
      const rect = u.over.getBoundingClientRect();
      const t = u.posToVal(e.clientX - rect.left, "x");
      const date = nearest(this.dates, new Date(t * 1000).toISOString().slice(0, 10));
      if (date) this.onPick(date);
    });
    this.plot.over.title = "Click a date: the map and the timeline go there";
  }

  setCurrent(date: string | undefined): void {
    this.current = date;
    this.plot?.redraw(false, false);
  }

  resize(width: number): void {
    this.plot?.setSize({ width, height: 190 });
  }

  destroy(): void {
    this.plot?.destroy();
    this.element.remove();
  }
}
