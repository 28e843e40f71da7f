// Every call to Relais goes through the typed client generated from openapi.yaml. The session
// lives in memory; only the refresh token (and the name of its family, below) is kept in
// sessionStorage, so a reload in the same tab stays logged in and closing the tab forgets it.
// Nothing about a person is stored, and nothing in localStorage but the id of this device's
// subscription to notifications (push.ts), kept through a lock, gone at logout.
//
// Tabs of the app share one session (one family of refresh tokens on the server): a tab that
// opens asks the others for it on a BroadcastChannel; only one tab at a time spends the refresh
// token (a Web Lock), then hands the new pair to the others, so two tabs never present the
// same refresh token (the server would take it for a theft and end the session). Logging out
// or the inactivity lock in one tab ends the session in all of them.
import { createRelaisClient, type components } from "@relais/api-client";

export type Schemas = components["schemas"];
export type Problem = Schemas["Problem"];

const REFRESH_KEY = "relais.refresh";
const FAMILY_KEY = "relais.family";
/** This device's subscription to notifications (its id at relais, push.ts): the one thing in
 * localStorage. A lock keeps it (the next login renews the subscription); logging out ends it. */
export const PUSH_KEY = "relais.push";

/** An answer that was not a success, with its problem document when there is one, and the
 * wait the server asked for (`Retry-After`, in seconds) on a 429. */
export class ApiError extends Error {
  constructor(
    public status: number,
    public problem: Partial<Problem> | undefined,
    public retryAfter?: number,
  ) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
  }
  /** The problem's type without its prefix: `urn:relais:problem:conflict` → `conflict`. */
  get type(): string {
    return (this.problem?.type ?? "").split(/[:/]/).pop() ?? "";
  }
  /** From an answer that was not a success and its parsed body (a problem, or text from a proxy). */
  static of(response: Response, body: unknown): ApiError {
    const problem = body && typeof body === "object" ? (body as Partial<Problem>) : undefined;
    return new ApiError(response.status, problem, retryAfterOf(response, problem));
  }
}

/** `Retry-After` as seconds (a number of seconds or an HTTP date), or the problem's `retry_after`. */
function retryAfterOf(response: Response, problem: Partial<Problem> | undefined): number | undefined {
  const header = response.headers.get("Retry-After")?.trim();
  if (header) {
    if (/^\d+$/.test(header)) return Number(header);
    const at = Date.parse(header);
    if (Number.isFinite(at)) return Math.max(0, Math.ceil((at - Date.now()) / 1000));
  }
  return typeof problem?.retry_after === "number" ? problem.retry_after : undefined;
}

// Reaching the server: lost when a request cannot be sent (or the system says so), found again
// at the next answer. Shown as "Offline — reconnecting automatically"; nothing is retried here.
type NetworkListener = (online: boolean) => void;
class Network {
  online = navigator.onLine !== false;
  private listeners = new Set<NetworkListener>();
  constructor() {
    addEventListener("online", () => this.set(true));
    addEventListener("offline", () => this.set(false));
  }
  set(online: boolean): void {
    if (online === this.online) return;
    this.online = online;
    this.listeners.forEach((l) => l(online));
  }
  on(listener: NetworkListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
export const network = new Network();

/** Why a session ended: the person logged out, the inactivity lock, or the server refused it. */
export type EndReason = "logout" | "lock" | "refused";

/** What tabs say to each other about the session (same origin, same browser profile only). */
type Message =
  | { kind: "ask" }
  | { kind: "pair"; family: string; access: string; expiresAt: number; lifetime: number; refresh: string }
  | { kind: "end"; family: string; reason: EndReason }
  | { kind: "active"; family: string; at: number };

const channel: BroadcastChannel | undefined = "BroadcastChannel" in self ? new BroadcastChannel("relais.session") : undefined;

/** Held (shared) by every open tab of the app, so a tab that opens knows whether to ask. */
const TAB_LOCK = "relais.tab";
/** How long a tab that opens waits for another one to hand it the session. */
const ASK_MS = 400;
/** How long the refreshing tab keeps the lock after handing the new pair over, so the pair
 * reaches the other tabs before one of them may take the lock (and would spend the old token). */
const HAND_OVER_MS = 250;

/** Runs `work` alone among the app's tabs (a Web Lock). Browsers without Web Locks (Safari
 * before 15.4) have no BroadcastChannel either: their tabs never share a session, and the tab's
 * own single refresh at a time is enough. */
async function alone<T>(work: () => Promise<T>): Promise<T> {
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  if (!locks?.request) return work();
  return await locks.request("relais.refresh", () => work());
}

function newFamily(): string {
  if (typeof crypto.randomUUID === "function") return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

type Listener = () => void;

class Session {
  access: string | undefined;
  private expiresAt = 0;
  /** The access token's whole lifetime, in seconds, as the server gave it. */
  private lifetime = 0;
  /** When this tab last received a token pair (its own refresh, or handed over by another tab). */
  private obtainedAt = 0;
  /** Moves at every forget(): an answer to a refresh sent before it is not taken. */
  private generation = 0;
  private refreshing: Promise<boolean> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private retry: ReturnType<typeof setTimeout> | undefined;
  private pause = 2000;
  private listeners = new Set<Listener>();
  private adoptListeners = new Set<Listener>();
  private activityListeners = new Set<(at: number) => void>();
  /** The last refresh could not reach the server (not a refusal): the session is kept. */
  unreachable = false;
  /** Why the last session ended, until the next one starts. */
  ended: EndReason | undefined;

  constructor() {
    channel?.addEventListener("message", (event: MessageEvent<Message>) => this.hear(event.data));
    // Back online: a refresh that failed for the network is tried again at once.
    network.on((online) => {
      if (online && this.unreachable && this.refreshToken) void this.refresh();
    });
  }

  get refreshToken(): string | null {
    return sessionStorage.getItem(REFRESH_KEY);
  }

  /** The session's family: every tab that shares the session holds the same one. */
  get family(): string | null {
    return sessionStorage.getItem(FAMILY_KEY);
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Called when another tab hands this one a session it did not have (a login elsewhere). */
  onAdopt(listener: Listener): () => void {
    this.adoptListeners.add(listener);
    return () => this.adoptListeners.delete(listener);
  }

  /** The person touched another tab of the same session (for the inactivity lock). */
  onActivity(listener: (at: number) => void): () => void {
    this.activityListeners.add(listener);
    return () => this.activityListeners.delete(listener);
  }

  /** Tells the other tabs of the session that the person is here. */
  shareActivity(at: number): void {
    const family = this.family;
    if (family) this.post({ kind: "active", family, at });
  }

  /** A new session (login): a new family, handed to the other tabs. */
  start(pair: Schemas["TokenPair"]): void {
    sessionStorage.setItem(FAMILY_KEY, newFamily());
    this.accept(pair);
  }

  /** Takes a new token pair of this family, hands it to the other tabs, and plans the next refresh. */
  accept(pair: Schemas["TokenPair"]): void {
    this.take(pair.access_token, Date.now() + pair.expires_in * 1000, pair.expires_in, pair.refresh_token);
    this.handOver();
  }

  /** Gives the other tabs the pair this tab holds. */
  private handOver(): void {
    const family = this.family;
    const refresh = this.refreshToken;
    if (family && refresh && this.access) {
      this.post({ kind: "pair", family, access: this.access, expiresAt: this.expiresAt, lifetime: this.lifetime, refresh });
    }
  }

  private take(access: string, expiresAt: number, lifetime: number, refresh: string): void {
    this.access = access;
    this.expiresAt = expiresAt;
    this.lifetime = lifetime;
    this.obtainedAt = Date.now();
    this.ended = undefined;
    this.unreachable = false;
    this.pause = 2000;
    clearTimeout(this.retry);
    sessionStorage.setItem(REFRESH_KEY, refresh);
    // Before expiry: a minute, or a fifth of a short lifetime (at least 5 s from now). Every
    // tab plans one; the first to come refreshes and hands the pair over, which moves the
    // others' plans.
    const left = (expiresAt - Date.now()) / 1000;
    clearTimeout(this.timer);
    const margin = Math.min(60, (Number.isFinite(lifetime) && lifetime > 0 ? lifetime : left) / 5);
    this.timer = setTimeout(() => void this.refresh(), Math.max(5, left - margin) * 1000);
    this.listeners.forEach((l) => l());
  }

  get valid(): boolean {
    return !!this.access && Date.now() < this.expiresAt;
  }

  /** Asks the other tabs for the session, and takes it if one answers within ASK_MS. Each tab
   * of the app holds a shared lock while it is open: without another one, nobody is asked. */
  async join(): Promise<boolean> {
    if (!channel) return false;
    const locks = (navigator as Navigator & { locks?: LockManager }).locks;
    const others = locks?.query ? ((await locks.query().catch(() => undefined))?.held ?? []).some((l) => l.name === TAB_LOCK) : true;
    if (locks?.request) void locks.request(TAB_LOCK, { mode: "shared" }, () => new Promise<void>(() => undefined)).catch(() => undefined);
    if (!others) return false;
    const before = this.obtainedAt;
    this.joining = true;
    this.post({ kind: "ask" });
    for (let waited = 0; waited < ASK_MS && this.obtainedAt === before; waited += 25) await sleep(25);
    this.joining = false;
    return this.obtainedAt !== before;
  }
  private joining = false;

  /**
   * A fresh access token, with the refresh token rotated once, however many callers (and
   * tabs) ask at the same moment. `stale` is the access token the caller found wanting (the
   * current one by default): when another tab has replaced it meanwhile, nothing is spent.
   */
  refresh(stale: string | undefined = this.access): Promise<boolean> {
    if (!this.refreshing) {
      const generation = this.generation;
      this.refreshing = new Promise<boolean>((resolve) => {
        alone(async () => {
          const rotated = await this.rotate(stale, generation);
          resolve(rotated === "rotated" || rotated === "given");
          if (rotated === "rotated" && channel) await sleep(HAND_OVER_MS);
        }).catch(() => resolve(false));
      }).finally(() => (this.refreshing = undefined));
    }
    return this.refreshing;
  }

  /** Inside the lock: spends the refresh token, unless another tab already did and handed the pair over. */
  private async rotate(stale: string | undefined, generation: number): Promise<"rotated" | "given" | "failed"> {
    if (generation !== this.generation) return "failed";
    if (this.valid && (this.access !== stale || Date.now() - this.obtainedAt < 5000)) return "given";
    const token = this.refreshToken;
    if (!token) return "failed";
    const { data, response } = await api
      .POST("/v1/auth/refresh", { body: { refresh_token: token } })
      .catch(() => ({ data: undefined, response: undefined }));
    if (generation !== this.generation) {
      // Logged out or locked meanwhile: the new session is ended, never taken.
      if (data) void endOnServer(data.access_token);
      return "failed";
    }
    if (!response) {
      this.unreachableNow();
      return "failed";
    }
    if (response.status === 401) {
      this.forget("refused");
      return "failed";
    }
    if (!response.ok || !data) return "failed";
    this.accept(data);
    return "rotated";
  }

  /** The server could not be reached: the session is kept, and the refresh tried again later
   * (growing pauses up to a minute) or as soon as the system says the network is back. */
  private unreachableNow(): void {
    this.unreachable = true;
    network.set(false);
    clearTimeout(this.retry);
    this.retry = setTimeout(() => void this.refresh(), this.pause);
    this.pause = Math.min(this.pause * 2, 60000);
    this.listeners.forEach((l) => l());
  }

  /** Drops every trace of the session in this browser: tokens, storage, cached shell; the
   * other tabs of the session drop theirs too. */
  forget(reason: EndReason = "logout", tell = true): void {
    const family = this.family;
    if (tell && family) this.post({ kind: "end", family, reason });
    this.generation++;
    this.access = undefined;
    this.expiresAt = 0;
    this.ended = reason;
    this.unreachable = false;
    clearTimeout(this.timer);
    clearTimeout(this.retry);
    sessionStorage.clear();
    const device = reason === "logout" ? null : localStorage.getItem(PUSH_KEY);
    localStorage.clear();
    if (device) localStorage.setItem(PUSH_KEY, device);
    navigator.serviceWorker?.controller?.postMessage("clear");
    this.listeners.forEach((l) => l());
  }

  private post(message: Message): void {
    try {
      channel?.postMessage(message);
    } catch {
      /* a closing tab: nothing to hand over */
    }
  }

  private hear(message: Message): void {
    if (!message || typeof message !== "object") return;
    const family = this.family;
    switch (message.kind) {
      case "ask":
        // Only a session this tab holds and can vouch for is handed over.
        if (this.valid) this.handOver();
        return;
      case "pair": {
        if (typeof message.access !== "string" || typeof message.refresh !== "string" || !message.refresh) return;
        if (!Number.isFinite(message.expiresAt) || message.expiresAt <= Date.now()) return;
        if (message.family === family) {
          if (message.access !== this.access) this.take(message.access, message.expiresAt, message.lifetime, message.refresh);
          return;
        }
        // A tab without a session (opening, logged out, locked) takes the one another tab has.
        if (family || this.access || (this.refreshToken && !this.joining)) return;
        sessionStorage.setItem(FAMILY_KEY, message.family);
        this.take(message.access, message.expiresAt, message.lifetime, message.refresh);
        if (!this.joining) this.adoptListeners.forEach((l) => l());
        return;
      }
      case "end":
        if (message.family === family) this.forget(message.reason, false);
        return;
      case "active":
        if (message.family === family) this.activityListeners.forEach((l) => l(message.at));
        return;
    }
  }
}

export const session = new Session();

export const api = createRelaisClient(location.origin, () => session.access);

// A request that meets an expired token is sent again once, after one refresh (or with the
// token another tab got meanwhile). Whether the server answers at all is noted for the
// "offline" state.
const retries = new WeakMap<Request, Request>();
api.use({
  onRequest({ request }) {
    if (session.refreshToken) retries.set(request, request.clone());
    return request;
  },
  async onResponse({ request, response }) {
    network.set(true);
    const again = retries.get(request);
    if (response.status !== 401 || !again || new URL(request.url).pathname.startsWith("/v1/auth/")) return response;
    const sent = request.headers.get("Authorization")?.replace(/^Bearer /, "");
    if (!(await session.refresh(sent)) || !session.access) return response;
    again.headers.set("Authorization", `Bearer ${session.access}`);
    return fetch(again);
  },
  onError({ error }) {
    if (error instanceof TypeError) network.set(false);
  },
});

/** The data of a successful answer, or an ApiError. */
export async function ok<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw ApiError.of(response, error);
  return data as T;
}

export async function login(email: string, password: string, totp?: string): Promise<void> {
  const pair = await ok(api.POST("/v1/auth/login", { body: { email, password, totp: totp || undefined } }));
  session.start(pair);
}

/** What logging out (not a lock) does to this device's notifications, set by push.ts: called
 * before the session is forgotten, it returns the work to do with a token of the session
 * (or none) before the session ends on the server. */
type LeavingDevice = () => (token: string | undefined) => Promise<void>;
let leavingDevice: LeavingDevice | undefined;
export function onLogout(hook: LeavingDevice): void {
  leavingDevice = hook;
}

/** Ends the session: this browser (every tab) forgets it at once (the screen is cleared without
 * waiting for the network), then the server ends it, with a fresh token if the last one had
 * expired. Logging out also stops this device's notifications (a shared phone). */
export async function logout(reason: EndReason = "logout"): Promise<void> {
  const access = session.valid ? session.access : undefined;
  const refresh = session.refreshToken;
  let device: ((token: string | undefined) => Promise<void>) | undefined;
  try {
    device = reason === "logout" ? leavingDevice?.() : undefined;
  } catch {
    /* the notifications cannot hold the logout back */
  }
  session.forget(reason);
  let token = access;
  if (!token && refresh) {
    const { data } = await api.POST("/v1/auth/refresh", { body: { refresh_token: refresh } }).catch(() => ({ data: undefined }));
    token = data?.access_token;
  }
  if (device) await device(token).catch(() => undefined);
  if (token) await endOnServer(token);
}

async function endOnServer(token: string): Promise<void> {
  await api.POST("/v1/auth/logout", { headers: { Authorization: `Bearer ${token}` } }).catch(() => undefined);
}
