// SiteWatch in the browser: a single page with hash routes (#/login, #/sites, #/site/ID?...), so the server needs
// no route of its own for it and a link holds the whole picture.
import "./style.css";
import { api, ApiError, onUnauthorized, type Me } from "./api";
import { escapeHtml } from "./format";
import { LiveEvents } from "./live";
import { formatRoute, parseRoute, type Route, type SiteState } from "./state";
import { showLogin } from "./views/login";
import { SitesView } from "./views/sites";
import { SiteView } from "./views/site";
import { DroneView, parseDroneRoute } from "./views/drone";

window.sitewatch = { ...(window.sitewatch ?? {}), startedAt: performance.now() };

const app = document.getElementById("app")!;
let me: Me | undefined;
let live: LiveEvents | undefined;
let current: { destroy(): void } | undefined;
// The hash this page wrote itself (the view's state): no re-render for it.
let written: string | undefined;

onUnauthorized(() => {
  me = undefined;
  if (!location.hash.startsWith("#/login")) location.hash = formatRoute({ page: "login", next: location.hash });
});

function header(): string {
  return `<header class="topbar">
      <a href="#/sites" class="brand">SiteWatch</a>
      <span class="spacer"></span>
      <span class="who" data-role="${me?.role ?? ""}">${escapeHtml(me?.user ?? "")} · ${escapeHtml(me?.role ?? "")}</span>
      <button type="button" class="logout">Sign out</button>
    </header><main class="content"></main>`;
}

async function route(): Promise<void> {
  const hash = location.hash || "#/sites";
  if (hash === written) return;
  const target = parseRoute(hash);
  if (target.page !== "login" && !me) {
    try {
      me = await api.me();
    } catch (e) {
      if (e instanceof ApiError && e.status === 401) {
        location.hash = formatRoute({ page: "login", next: hash });
        return;
      }
      throw e;
    }
  }
  const drone = parseDroneRoute(hash);
  if (drone) {
    // The live drone view: its own page, same header.
    current?.destroy();
    const content = chrome("drone");
    const view = new DroneView(content, drone);
    current = view;
    view.show().catch(showError(content));
    return;
  }
  render(target);
}

/** The page frame (header with sign-out) around a view; returns where the view goes. */
function chrome(page: string): HTMLElement {
  app.className = `page-${page}`;
  app.innerHTML = header();
  app.querySelector(".logout")!.addEventListener("click", async () => {
    await live?.stop().catch(() => {});
    live = undefined;
    await api.logout().catch(() => {});
    me = undefined;
    location.hash = "#/login";
  });
  return app.querySelector<HTMLElement>(".content")!;
}

function render(target: Route): void {
  current?.destroy();
  current = undefined;
  if (target.page === "login") {
    app.className = "page-login";
    showLogin(app, (who) => {
      me = who;
      location.hash = target.next && !target.next.startsWith("#/login") ? target.next : "#/sites";
    });
    return;
  }
  const content = chrome(target.page);
  if (target.page === "sites") {
    const view = new SitesView(content, me!);
    current = view;
    view.show().catch(showError(content));
    return;
  }
  live ??= new LiveEvents();
  const { page: _page, ...state } = target;
  const view = new SiteView(content, state as SiteState, me!, live, (s) => {
    written = formatRoute({ page: "site", ...s });
    if (location.hash !== written) history.replaceState(null, "", written);
  });
  current = view;
  view.show().catch(showError(content));
}

function showError(content: HTMLElement) {
  return (e: unknown) => {
    if (e instanceof ApiError && e.status === 401) return;
    content.innerHTML = `<div class="error-page"><h2>Could not load this page</h2><p>${escapeHtml((e as Error).message)}</p><p><a href="#/sites">Back to the sites</a></p></div>`;
  };
}

window.addEventListener("hashchange", () => void route());
void route();
