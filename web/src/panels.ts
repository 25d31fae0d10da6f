// Side panels of the site view that work through background jobs or the site's own records: the analyst's notes,
// the products (report, timelapse, export) with their downloads, and scene upload with progress. Each panel owns its
// element; the site view places it and hands it what it needs (the job follower, the reference outline, callbacks).
import { api, ApiError, mayWrite, type Job, type Me, type Note, type ProductResult } from "./api";
import { escapeHtml, squareMetres } from "./format";

/** Follows a job to its end, reporting progress; resolves with the finished job. */
export type JobFollower = (job: Job, progress: (job: Job) => void) => Promise<Job>;

function message(e: unknown): string {
  return e instanceof ApiError || e instanceof Error ? e.message : String(e);
}

/** A job row: label, progress bar and state; finished rows stay as the record of what was done here. */
function jobRow(label: string): { row: HTMLElement; show: (job: Job) => void; fail: (text: string) => void } {
  const row = document.createElement("div");
  row.className = "job";
  row.innerHTML = `<span class="job-label">${escapeHtml(label)}</span><progress max="1" value="0"></progress><span class="job-state">queued</span>`;
  const bar = row.querySelector("progress")!;
  const state = row.querySelector<HTMLElement>(".job-state")!;
  return {
    row,
    show: (job) => {
      bar.value = job.progress;
      row.dataset.state = job.state;
      state.textContent = job.state === "running" ? `${Math.round(job.progress * 100)} %` : job.state === "failed" ? `failed: ${job.error ?? ""}` : job.state;
    },
    fail: (text) => {
      row.dataset.state = "failed";
      state.textContent = text;
    },
  };
}

/**
 * The site's notes (dated, with a source, an optional http(s) link and outline): listed newest last as the report's
 * timeline cites them; analysts add one (optionally with the reference outline drawn on the map) or delete one.
 */
export class NotesPanel {
  readonly element: HTMLElement;
  private notes: Note[] = [];

  constructor(
    private readonly siteId: number,
    private readonly me: Me,
    private readonly reference: () => GeoJSON.Polygon | undefined,
    private readonly showOutline: (outline: GeoJSON.Geometry | undefined) => void,
    private readonly defaultDate: () => string | undefined,
  ) {
    this.element = document.createElement("section");
    this.element.className = "panel notes-panel";
    this.element.addEventListener("click", (e) => {
      const target = e.target as HTMLElement;
      const del = target.closest<HTMLButtonElement>("button[data-delete-note]");
      if (del) void this.remove(Number(del.dataset.deleteNote));
      const show = target.closest<HTMLButtonElement>("button[data-show-note]");
      if (show) this.showOutline(this.notes.find((n) => n.id === Number(show.dataset.showNote))?.outline ?? undefined);
    });
    this.element.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.add(e.target as HTMLFormElement);
    });
  }

  async load(): Promise<void> {
    try {
      this.notes = await api.notes(this.siteId);
      this.render();
    } catch (e) {
      this.render(message(e));
    }
  }

  /** Called when the reference outline changes, so the form offers (or stops offering) to attach it. */
  referenceChanged(): void {
    const box = this.element.querySelector<HTMLInputElement>("input[name=outline]");
    if (box) {
      const has = this.reference() !== undefined;
      box.disabled = !has;
      if (!has) box.checked = false;
    }
  }

  private render(error?: string): void {
    const items = this.notes
      .map((n) => {
        const source = n.url ? `<a href="${escapeHtml(n.url)}" target="_blank" rel="noopener noreferrer">${escapeHtml(n.source)}</a>` : escapeHtml(n.source);
        const outline = n.outline ? `<button type="button" class="link" data-show-note="${n.id}" title="Show the outline on the map">outline ${squareMetres(n.outline_m2 ?? 0)}</button>` : "";
        const del = mayWrite(this.me) ? `<button type="button" class="link danger" data-delete-note="${n.id}" title="Delete this note">delete</button>` : "";
        return `<li data-note="${n.id}"><span class="when">${escapeHtml(n.date)}</span> <span class="source">${source}</span>
          <div class="text">${escapeHtml(n.text)}</div><div class="actions">${outline}${del}</div></li>`;
      })
      .join("");
    const form = mayWrite(this.me)
      ? `<form class="note-form" data-testid="note-form">
          <div class="row"><label>Date <input type="date" name="date" required value="${escapeHtml(this.defaultDate() ?? "")}"></label>
          <label>Source <input name="source" required maxlength="300" placeholder="e.g. press report"></label></div>
          <label>Link <input name="url" type="url" maxlength="2000" placeholder="https://…"></label>
          <label>Note <textarea name="text" required maxlength="4000" rows="2"></textarea></label>
          <label class="check"><input type="checkbox" name="outline" ${this.reference() ? "" : "disabled"}> with the reference outline drawn on the map</label>
          <button type="submit">Add note</button><span class="form-error" role="alert">${error ? escapeHtml(error) : ""}</span>
        </form>`
      : error
        ? `<p class="form-error">${escapeHtml(error)}</p>`
        : "";
    this.element.innerHTML = `<h3>Notes <span class="count" data-testid="note-count">${this.notes.length}</span></h3>
      ${this.notes.length === 0 ? `<p class="hint">No notes yet.</p>` : `<ul class="note-list">${items}</ul>`}${form}`;
  }

  private async add(form: HTMLFormElement): Promise<void> {
    const data = new FormData(form);
    const text = (name: string) => String(data.get(name) ?? "").trim();
    const outline = data.get("outline") ? this.reference() : undefined;
    try {
      const note = await api.addNote(this.siteId, {
        date: text("date"),
        source: text("source"),
        text: text("text"),
        ...(text("url") ? { url: text("url") } : {}),
        ...(outline ? { outline } : {}),
      });
      this.notes = [...this.notes, note].sort((a, b) => a.date.localeCompare(b.date) || a.id - b.id);
      this.render();
    } catch (e) {
      // The form keeps what was typed; the server's message names the field.
      const kept = Object.fromEntries(["date", "source", "url", "text"].map((k) => [k, text(k)]));
      this.render(message(e));
      for (const [k, v] of Object.entries(kept)) {
        const field = this.element.querySelector<HTMLInputElement | HTMLTextAreaElement>(`[name=${k}]`);
        if (field) field.value = v;
      }
    }
  }

  private async remove(id: number): Promise<void> {
    const note = this.notes.find((n) => n.id === id);
    if (!note || !confirm(`Delete the note of ${note.date} (${note.source})?`)) return;
    try {
      await api.deleteNote(this.siteId, id);
      this.notes = this.notes.filter((n) => n.id !== id);
      this.render();
    } catch (e) {
      this.render(message(e));
    }
  }
}

type Product = "report" | "timelapse" | "export";

const PRODUCT_LABELS: Record<Product, string> = {
  report: "Report (PDF and HTML)",
  timelapse: "Timelapse",
  export: "Export",
};

/**
 * The site's products, made by the server's jobs with the CLI's workflows: the analyst's report, a timelapse of the
 * scenes, and the site's layers as one file for a GIS; each finished job leaves download links.
 */
export class ProductsPanel {
  readonly element: HTMLElement;

  constructor(
    private readonly siteId: number,
    private readonly follow: JobFollower,
  ) {
    this.element = document.createElement("section");
    this.element.className = "panel products-panel";
    this.element.innerHTML = `<h3>Products</h3>
      <div class="buttons">
        <button type="button" data-product="report">${PRODUCT_LABELS.report}</button>
        <span class="pair"><button type="button" data-product="timelapse">${PRODUCT_LABELS.timelapse}</button>
          <select name="timelapse-format" aria-label="timelapse format"><option value="mp4">MP4</option><option value="gif">GIF</option></select></span>
        <span class="pair"><button type="button" data-product="export">${PRODUCT_LABELS.export}</button>
          <select name="export-format" aria-label="export format"><option value="gpkg">GeoPackage</option><option value="fgb">FlatGeobuf (changes)</option><option value="geojson">GeoJSON (changes)</option><option value="csv">CSV (changes)</option></select></span>
      </div>
      <div class="jobs"></div>`;
    this.element.addEventListener("click", (e) => {
      const b = (e.target as HTMLElement).closest<HTMLButtonElement>("button[data-product]");
      if (b) void this.make(b.dataset.product as Product);
    });
  }

  private async make(product: Product): Promise<void> {
    const format = (name: string) => this.element.querySelector<HTMLSelectElement>(`select[name=${name}]`)!.value;
    const timelapse = format("timelapse-format") as "mp4" | "gif";
    const exportFormat = format("export-format");
    const label = product === "timelapse" ? `Timelapse (${timelapse})` : product === "export" ? `Export (${exportFormat})` : "Report";
    const { row, show, fail } = jobRow(label);
    row.dataset.product = product;
    this.element.querySelector(".jobs")!.appendChild(row);
    try {
      const job =
        product === "report"
          ? await api.startReport(this.siteId, "a4")
          : product === "timelapse"
            ? await api.startTimelapse(this.siteId, timelapse)
            : // Single-layer formats hold one kind: the change objects, the layer most asked for.
              await api.startExport(this.siteId, exportFormat, exportFormat === "gpkg" ? undefined : "changes");
      row.dataset.job = job.id;
      const done = await this.follow(job, show);
      show(done);
      if (done.state === "succeeded") {
        const files = (done.result as ProductResult | undefined)?.files ?? {};
        const links = Object.entries(files)
          .map(([role, url]) => `<a class="download" href="${escapeHtml(url)}" download data-file="${escapeHtml(role)}">${escapeHtml(fileName(url))}</a>`)
          .join(" ");
        row.insertAdjacentHTML("beforeend", `<div class="downloads">${links}</div>`);
      }
    } catch (e) {
      fail(message(e));
    }
  }
}

function fileName(url: string): string {
  return decodeURIComponent(url.split("/").pop() ?? url);
}

/** Adds scenes to the site: the file goes up with a progress bar, then the ingest job runs with its own. */
export class UploadPanel {
  readonly element: HTMLElement;

  constructor(
    private readonly siteId: number,
    private readonly follow: JobFollower,
    private readonly ingested: () => Promise<void>,
  ) {
    this.element = document.createElement("section");
    this.element.className = "panel upload-panel";
    this.element.innerHTML = `<h3>Add a scene</h3>
      <form class="upload-form" data-testid="upload-form">
        <input type="file" name="file" accept=".tif,.tiff,image/tiff" required>
        <label>Date <input type="date" name="date" title="Acquisition date, when the file's metadata has none"></label>
        <button type="submit">Upload</button>
      </form>
      <div class="jobs"></div>`;
    this.element.addEventListener("submit", (e) => {
      e.preventDefault();
      void this.upload(e.target as HTMLFormElement);
    });
  }

  private async upload(form: HTMLFormElement): Promise<void> {
    const file = form.querySelector<HTMLInputElement>("input[type=file]")!.files?.[0];
    if (!file) return;
    const date = form.querySelector<HTMLInputElement>("input[name=date]")!.value || undefined;
    const { row, show, fail } = jobRow(`${file.name} (${(file.size / 1048576).toFixed(1)} MB)`);
    row.dataset.upload = file.name;
    this.element.querySelector(".jobs")!.appendChild(row);
    const bar = row.querySelector("progress")!;
    const state = row.querySelector<HTMLElement>(".job-state")!;
    try {
      row.dataset.state = "uploading";
      const job = await api.uploadScene(this.siteId, file, date, (fraction) => {
        bar.value = fraction;
        state.textContent = `uploading ${Math.round(fraction * 100)} %`;
      });
      bar.value = 0;
      state.textContent = "ingesting";
      const done = await this.follow(job, show);
      show(done);
      if (done.state === "succeeded") {
        form.reset();
        const already = done.result?.already_present === true;
        state.textContent = already ? "already in the site (same pixels)" : `scene ${String(done.result?.scene_id ?? "")} added`;
        await this.ingested();
      }
    } catch (e) {
      fail(message(e));
    }
  }
}
