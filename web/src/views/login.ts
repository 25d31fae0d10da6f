// The login page: a session cookie from POST /api/auth/login; the server rate-limits attempts.
import { api, type Me } from "../api";

export function showLogin(root: HTMLElement, onDone: (me: Me) => void): void {
  root.innerHTML = `
    <form class="login" autocomplete="on">
      <h1>SiteWatch</h1>
      <p class="muted">Sign in to the workspace.</p>
      <label>User name <input name="username" autocomplete="username" required autofocus></label>
      <label>Password <input name="password" type="password" autocomplete="current-password" required></label>
      <button type="submit">Sign in</button>
      <p class="error" role="alert" hidden></p>
    </form>`;
  const form = root.querySelector<HTMLFormElement>("form")!;
  const error = form.querySelector<HTMLElement>(".error")!;
  form.addEventListener("submit", async (e) => {
    e.preventDefault();
    const data = new FormData(form);
    const button = form.querySelector("button")!;
    button.disabled = true;
    error.hidden = true;
    try {
      const me = await api.login(String(data.get("username")), String(data.get("password")));
      onDone(me);
    } catch (err) {
      error.textContent = (err as Error).message;
      error.hidden = false;
    } finally {
      button.disabled = false;
    }
  });
}
