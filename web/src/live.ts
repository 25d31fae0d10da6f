// Live events from /hubs/events (SignalR): alerts stored by any process and background job progress for the
// sites this page follows. The session cookie signs the connection in.
import { HubConnection, HubConnectionBuilder, HubConnectionState, LogLevel } from "@microsoft/signalr";
import { antiforgeryToken, type Alert, type Job } from "./api";

type AlertListener = (alert: Alert) => void;
type JobListener = (job: Job) => void;

export class LiveEvents {
  private connection?: HubConnection;
  private followed = new Set<number>();
  private alertListeners: AlertListener[] = [];
  private jobListeners: JobListener[] = [];
  private starting?: Promise<void>;
  /** What the page shows beside the site name: connecting, live or offline. */
  onStateChange?: (state: "connecting" | "live" | "offline") => void;

  private async connect(): Promise<HubConnection> {
    if (this.connection) return this.connection;
    const token = await antiforgeryToken();
    const connection = new HubConnectionBuilder()
      .withUrl("/hubs/events", { headers: { "X-XSRF-TOKEN": token } })
      .withAutomaticReconnect()
      .configureLogging(LogLevel.Warning)
      .build();
    connection.on("alert", (alert: Alert) => this.alertListeners.forEach((l) => l(alert)));
    connection.on("job", (job: Job) => this.jobListeners.forEach((l) => l(job)));
    connection.onreconnecting(() => this.onStateChange?.("connecting"));
    connection.onreconnected(async () => {
      this.onStateChange?.("live");
      for (const site of this.followed) await connection.invoke("FollowSite", site);
    });
    connection.onclose(() => this.onStateChange?.("offline"));
    this.connection = connection;
    return connection;
  }

  onAlert(listener: AlertListener): () => void {
    this.alertListeners.push(listener);
    return () => (this.alertListeners = this.alertListeners.filter((l) => l !== listener));
  }

  onJob(listener: JobListener): () => void {
    this.jobListeners.push(listener);
    return () => (this.jobListeners = this.jobListeners.filter((l) => l !== listener));
  }

  async follow(siteId: number): Promise<void> {
    const connection = await this.ensureStarted();
    if (!this.followed.has(siteId)) {
      await connection.invoke("FollowSite", siteId);
      this.followed.add(siteId);
    }
  }

  async unfollowAll(): Promise<void> {
    const connection = this.connection;
    if (connection?.state !== HubConnectionState.Connected) {
      this.followed.clear();
      return;
    }
    for (const site of this.followed) await connection.invoke("UnfollowSite", site);
    this.followed.clear();
  }

  get connected(): boolean {
    return this.connection?.state === HubConnectionState.Connected;
  }

  async stop(): Promise<void> {
    this.followed.clear();
    await this.connection?.stop();
  }

  private async ensureStarted(): Promise<HubConnection> {
    const connection = await this.connect();
    if (connection.state === HubConnectionState.Connected) return connection;
    if (!this.starting) {
      this.onStateChange?.("connecting");
      this.starting = connection.start().then(
        () => this.onStateChange?.("live"),
        (e) => {
          this.onStateChange?.("offline");
          throw e;
        },
      );
      this.starting.finally(() => (this.starting = undefined)).catch(() => {});
    }
    await this.starting;
    return connection;
  }
}
