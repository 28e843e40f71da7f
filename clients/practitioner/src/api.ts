// Every call to Relais goes through the typed client generated from openapi.yaml. The session
// lives in memory; only the refresh token is kept in sessionStorage, so a reload in the same
// tab stays logged in and closing the tab forgets it. Nothing about a person is stored.
import { createRelaisClient, type components } from "@relais/api-client";

export type Schemas = components["schemas"];
export type Problem = Schemas["Problem"];

const REFRESH_KEY = "relais.refresh";

/** An answer that was not a success, with its problem document when there is one. */
export class ApiError extends Error {
  constructor(
    public status: number,
    public problem: Partial<Problem> | undefined,
  ) {
    super(problem?.detail ?? problem?.title ?? `HTTP ${status}`);
  }
  get type(): string {
    return (this.problem?.type ?? "").split(/[:/]/).pop() ?? "";
  }
}

type Listener = () => void;

class Session {
  access: string | undefined;
  private expiresAt = 0;
  /** Moves at every forget(): an answer to a refresh sent before it is not taken. */
  private generation = 0;
  private refreshing: Promise<boolean> | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;
  private listeners = new Set<Listener>();

  get refreshToken(): string | null {
    return sessionStorage.getItem(REFRESH_KEY);
  }

  onChange(listener: Listener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  /** Takes a new token pair and plans the next refresh before expiry (a minute, or a fifth of a short lifetime). */
  accept(pair: Schemas["TokenPair"]): void {
    this.access = pair.access_token;
    this.expiresAt = Date.now() + pair.expires_in * 1000;
    sessionStorage.setItem(REFRESH_KEY, pair.refresh_token);
    clearTimeout(this.timer);
    this.timer = setTimeout(() => void this.refresh(), Math.max(5, Math.min(pair.expires_in - 60, pair.expires_in * 0.8)) * 1000);
    this.listeners.forEach((l) => l());
  }

  get valid(): boolean {
    return !!this.access && Date.now() < this.expiresAt;
  }

  /** Rotates the refresh token once, however many callers ask at the same moment. */
  refresh(): Promise<boolean> {
    if (!this.refreshing) {
      const generation = this.generation;
      this.refreshing = (async () => {
        const token = this.refreshToken;
        if (!token) return false;
        const { data, response } = await api.POST("/v1/auth/refresh", { body: { refresh_token: token } }).catch(() => ({ data: undefined, response: undefined }));
        if (generation !== this.generation) {
          // Logged out or locked meanwhile: the new session is ended, never taken.
          if (data) void endOnServer(data.access_token);
          return false;
        }
        if (!response?.ok || !data) {
          if (response?.status === 401) this.forget();
          return false;
        }
        this.accept(data);
        return true;
      })().finally(() => (this.refreshing = undefined));
    }
    return this.refreshing;
  }

  /** Drops every trace of the session in this browser: tokens, storage, cached shell. */
  forget(): void {
    this.generation++;
    this.access = undefined;
    this.expiresAt = 0;
    clearTimeout(this.timer);
    sessionStorage.clear();
    localStorage.clear();
    navigator.serviceWorker?.controller?.postMessage("clear");
    this.listeners.forEach((l) => l());
  }
}

export const session = new Session();

export const api = createRelaisClient(location.origin, () => session.access);

// A request that meets an expired token is sent again once, after one refresh.
const retries = new WeakMap<Request, Request>();
api.use({
  onRequest({ request }) {
    if (session.refreshToken) retries.set(request, request.clone());
    return request;
  },
  async onResponse({ request, response }) {
    const again = retries.get(request);
    if (response.status !== 401 || !again || new URL(request.url).pathname.startsWith("/v1/auth/")) return response;
    if (!(await session.refresh()) || !session.access) return response;
    again.headers.set("Authorization", `Bearer ${session.access}`);
    return fetch(again);
  },
});

/** The data of a successful answer, or an ApiError. */
export async function ok<T>(call: Promise<{ data?: T; error?: unknown; response: Response }>): Promise<T> {
  const { data, error, response } = await call;
  if (!response.ok) throw new ApiError(response.status, error as Partial<Problem> | undefined);
  return data as T;
}

export async function login(email: string, password: string, totp?: string): Promise<void> {
  const pair = await ok(api.POST("/v1/auth/login", { body: { email, password, totp: totp || undefined } }));
  session.accept(pair);
}

/** Ends the session: this browser forgets it at once (the screen is cleared without waiting for
 * the network), then the server ends it, with a fresh token if the last one had expired. */
export async function logout(): Promise<void> {
  const access = session.valid ? session.access : undefined;
  const refresh = session.refreshToken;
  session.forget();
  let token = access;
  if (!token && refresh) {
    const { data } = await api.POST("/v1/auth/refresh", { body: { refresh_token: refresh } }).catch(() => ({ data: undefined }));
    token = data?.access_token;
  }
  if (token) await endOnServer(token);
}

async function endOnServer(token: string): Promise<void> {
  await api.POST("/v1/auth/logout", { headers: { Authorization: `Bearer ${token}` } }).catch(() => undefined);
}
