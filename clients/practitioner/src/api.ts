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
      this.refreshing = (async () => {
        const token = this.refreshToken;
        if (!token) return false;
        const response = await fetch("/v1/auth/refresh", {
          method: "POST",
          headers: { "content-type": "application/json" },
          body: JSON.stringify({ refresh_token: token }),
        }).catch(() => undefined);
        if (!response?.ok) {
          if (response && response.status === 401) this.forget();
          return false;
        }
        this.accept(await response.json());
        return true;
      })().finally(() => (this.refreshing = undefined));
    }
    return this.refreshing;
  }

  /** Drops every trace of the session in this browser: tokens, storage, cached shell. */
  forget(): void {
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
    if (response.status !== 401 || !again || request.url.endsWith("/v1/auth/login")) return response;
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

export async function logout(): Promise<void> {
  if (session.valid) await api.POST("/v1/auth/logout").catch(() => undefined);
  session.forget();
}
