// Notifications while the app is closed (Web Push): this device, subscribed by the browser's
// PushManager through the service worker (sw.js shows what comes), is woken by what the
// person's role hears: a conversation waiting (listeners, supervisors), a new referral (a
// centre's staff), a new housing request (housing operators). relais sends words that name no
// one. The server keeps each person's devices (at most ten, /v1/push/subscriptions) for the
// session that subscribed them: the app renews this device's subscription at every start of a
// session, and logging out ends it (a shared phone stops ringing). The inactivity lock does
// not: the next login renews it.
//
// The only thing kept is this device's id at relais (PUSH_KEY, in localStorage), which tells
// whether the browser's subscription is the person's own (a colleague may have used the phone).
import { useEffect, useState } from "preact/hooks";
import { ApiError, PUSH_KEY, type Schemas, api, ok, onLogout } from "./api";
import { L, lang } from "./i18n";

export type Device = Schemas["PushSubscription"];

/**
 * What this device does about notifications:
 * - `unsupported`: no service worker or Push API (an iPhone's browser outside the installed
 *   app, an old browser);
 * - `unavailable`: the server has notifications off (or is a version without them);
 * - `denied`: notifications are blocked for Relais in the browser or the system;
 * - `off`: it could receive the person's notifications, and does not;
 * - `on`: it receives them;
 * - `unknown`: not known yet (the start, or the server could not be reached).
 */
export type DeviceState = "unknown" | "unsupported" | "unavailable" | "denied" | "off" | "on";
export type Known = { state: DeviceState; id?: string };

/** What turning notifications on came to (an error is thrown for the rest). */
export type Outcome = "on" | "unsupported" | "unavailable" | "denied" | "dismissed";

export function pushSupported(): boolean {
  return "serviceWorker" in navigator && "PushManager" in window && "Notification" in window;
}

/** Whether the person's role hears anything by notification (as the server decides it). */
export function hearsPush(me: Schemas["Me"]): boolean {
  const has = (...roles: Schemas["Role"][]) => roles.some((r) => me.roles.includes(r));
  switch (me.organisation.kind) {
    case "helpline":
      return has("listener", "helpline_supervisor");
    case "centre":
      return has("practitioner", "centre_manager");
    case "housing_platform":
      return has("housing_operator");
    default:
      return false;
  }
}

/** What the person is told of, in a sentence. */
export function whatIsHeard(me: Schemas["Me"]): string {
  switch (me.organisation.kind) {
    case "helpline":
      return L("Vous êtes prévenu·e quand une conversation attend dans la file.", "You are told when a conversation is waiting in the queue.");
    case "centre":
      return L("Vous êtes prévenu·e quand une nouvelle orientation arrive au centre.", "You are told when a new referral reaches the centre.");
    default:
      return L("Vous êtes prévenu·e quand une nouvelle demande d'hébergement arrive.", "You are told when a new housing request arrives.");
  }
}

// This device's state, for the menu and the devices' screen.
let known: Known = { state: "unknown" };
const listeners = new Set<(k: Known) => void>();
function publish(next: Known): Known {
  known = next;
  listeners.forEach((l) => l(next));
  return next;
}
/** Publishes the state `state` and answers `outcome`. */
function came(state: DeviceState, outcome: Outcome): Outcome {
  publish({ state });
  return outcome;
}

/** This device's state, kept up to date. */
export function useDevice(): Known {
  const [state, setState] = useState(known);
  useEffect(() => {
    listeners.add(setState);
    setState(known);
    return () => void listeners.delete(setState);
  }, []);
  return state;
}

/** The service worker's registration, once it is active (pushManager needs it); undefined
 * without one after a while (the worker could not be installed). */
async function registration(): Promise<ServiceWorkerRegistration | undefined> {
  if (!("serviceWorker" in navigator)) return undefined;
  let timer: ReturnType<typeof setTimeout> | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), 10000)));
  try {
    return await Promise.race([navigator.serviceWorker.ready, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** The browser's subscription, if it has one (no waiting for a worker that is not there). */
async function browserSubscription(): Promise<PushSubscription | null> {
  const worker = await navigator.serviceWorker?.getRegistration().catch(() => undefined);
  return (await worker?.pushManager?.getSubscription().catch(() => null)) ?? null;
}

/** Runs `work` alone among the app's tabs (two tabs starting together renew once each, in turn). */
async function alone<T>(work: () => Promise<T>): Promise<T> {
  const locks = (navigator as Navigator & { locks?: LockManager }).locks;
  if (!locks?.request) return work();
  return await locks.request("relais.push", () => work());
}

/** The server's public key (base64url), or null when it has notifications off. Kept for the
 * page's life, so turning on goes from the touch to the browser's subscription at once. */
let serverKey: string | null | undefined;
async function keyOf(): Promise<string | null> {
  if (serverKey !== undefined) return serverKey;
  const { data, error, response } = await api.GET("/v1/push/key");
  if (response.ok && data) return (serverKey = data.public_key);
  const failed = ApiError.of(response, error);
  // Off on this server (no key), or a server from before notifications.
  if ((response.status === 503 && failed.type === "dependency-unavailable") || response.status === 404) return (serverKey = null);
  throw failed;
}

/** base64url as bytes. */
function bytes(base64url: string): Uint8Array<ArrayBuffer> {
  const base64 = base64url.trim().replace(/=+$/, "").replace(/-/g, "+").replace(/_/g, "/");
  const raw = atob(base64 + "=".repeat((4 - (base64.length % 4)) % 4));
  return Uint8Array.from(raw, (c) => c.charCodeAt(0));
}

/** Whether the browser's subscription was made with this key (a browser that does not say is
 * believed). */
function madeWith(subscription: PushSubscription, key: string): boolean {
  const held = subscription.options?.applicationServerKey;
  if (!held) return true;
  const a = new Uint8Array(held);
  const b = bytes(key);
  return a.length === b.length && a.every((x, i) => x === b[i]);
}

/** The caller's devices. */
export async function myDevices(): Promise<Device[]> {
  return (await ok(api.GET("/v1/push/subscriptions"))).items;
}

/** A short name for this device, shown in the person's list: "Chrome sur Android". */
export function deviceName(): string {
  const ua = navigator.userAgent;
  const data = (navigator as Navigator & { userAgentData?: { brands?: { brand: string }[]; platform?: string } }).userAgentData;
  const brands = (data?.brands ?? []).map((b) => b.brand);
  const platform = data?.platform ?? "";
  const browser =
    brands.includes("Microsoft Edge") || /Edg(A|iOS)?\//.test(ua)
      ? "Edge"
      : brands.includes("Opera") || /OPR\/|OPT\//.test(ua)
        ? "Opera"
        : brands.includes("Samsung Internet") || /SamsungBrowser\//.test(ua)
          ? "Samsung Internet"
          : /Firefox\/|FxiOS\//.test(ua)
            ? "Firefox"
            : brands.includes("Google Chrome") || /Chrome\/|CriOS\//.test(ua)
              ? "Chrome"
              : brands.includes("Chromium")
                ? "Chromium"
                : /Safari\//.test(ua)
                  ? "Safari"
                  : undefined;
  const system =
    /Android/i.test(platform) || /Android/.test(ua)
      ? "Android"
      : /iPhone/.test(ua)
        ? "iPhone"
        : /iPad/.test(ua) || (/Macintosh/.test(ua) && navigator.maxTouchPoints > 1)
          ? "iPad"
          : /Chrome ?OS/i.test(platform) || /CrOS/.test(ua)
            ? "ChromeOS"
            : /Windows/i.test(platform) || /Windows/.test(ua)
              ? "Windows"
              : /mac/i.test(platform) || /Macintosh/.test(ua)
                ? "Mac"
                : /Linux/i.test(platform) || /Linux/.test(ua)
                  ? "Linux"
                  : undefined;
  const name = browser && system ? L(`${browser} sur ${system}`, `${browser} on ${system}`) : (browser ?? system ?? L("Appareil", "Device"));
  return name.slice(0, 80);
}

/** Gives relais the browser's subscription (the same one again renews it): this device's row. */
async function send(subscription: PushSubscription): Promise<Device> {
  const json = subscription.toJSON();
  const p256dh = json.keys?.p256dh;
  const auth = json.keys?.auth;
  if (!json.endpoint || !p256dh || !auth) throw new Error(L("Le navigateur n'a pas donné d'abonnement utilisable.", "The browser gave no usable subscription."));
  return ok(
    api.POST("/v1/push/subscriptions", {
      body: { endpoint: json.endpoint, expirationTime: json.expirationTime ?? null, keys: { p256dh, auth }, device: deviceName() },
    }),
  );
}

/** A new subscription from the browser, its failure said in words. */
async function newSubscription(worker: ServiceWorkerRegistration, key: string): Promise<PushSubscription> {
  try {
    return await worker.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: bytes(key) });
  } catch (e) {
    if (e instanceof DOMException && e.name === "NotAllowedError") throw new Error(outcomeText("denied"));
    // No push service reached (no network), or none at all (a private window).
    throw new Error(
      L(
        "Le navigateur n'a pas pu abonner cet appareil (impossible en navigation privée) : vérifiez le réseau et réessayez.",
        "The browser could not subscribe this device (impossible in a private window): check the network and try again.",
      ),
    );
  }
}

/** Removes one of the person's devices at relais (one already gone is fine). */
async function removeAtRelais(id: string, token?: string): Promise<void> {
  const { error, response } = await api.DELETE("/v1/push/subscriptions/{id}", {
    params: { path: { id } },
    headers: token ? { Authorization: `Bearer ${token}` } : undefined,
  });
  if (!response.ok && response.status !== 404) throw ApiError.of(response, error);
}

/**
 * At the start of a session: when this browser holds the person's subscription (permission
 * given, the subscription's id among the person's devices), gives it to relais again (for this
 * session; with a new subscription if the server's key changed). Asks nothing of the network
 * otherwise.
 */
export async function renew(): Promise<Known> {
  if (!pushSupported()) return publish({ state: "unsupported" });
  if (Notification.permission === "denied") return publish({ state: "denied" });
  if (Notification.permission !== "granted") return publish({ state: "off" });
  return alone(async () => {
    let subscription = await browserSubscription();
    if (!subscription) return publish({ state: "off" });
    const key = await keyOf();
    if (!key) return publish({ state: "unavailable" });
    const stored = localStorage.getItem(PUSH_KEY);
    if (!stored || !(await myDevices()).some((d) => d.id === stored)) return publish({ state: "off" });
    if (!madeWith(subscription, key)) {
      const worker = await registration();
      if (!worker) return publish({ state: "unsupported" });
      await subscription.unsubscribe().catch(() => false);
      subscription = await newSubscription(worker, key);
    }
    const row = await send(subscription);
    localStorage.setItem(PUSH_KEY, row.id);
    if (row.id !== stored) await removeAtRelais(stored).catch(() => undefined);
    return publish({ state: "on", id: row.id });
  });
}

/** This device's state and the person's devices, for the devices' screen. */
export async function look(): Promise<{ state: DeviceState; id?: string; devices: Device[] }> {
  const key = await keyOf();
  if (key === null) return { ...publish({ state: "unavailable" }), devices: [] };
  const devices = await myDevices();
  if (!pushSupported()) return { ...publish({ state: "unsupported" }), devices };
  if (Notification.permission === "denied") return { ...publish({ state: "denied" }), devices };
  const stored = localStorage.getItem(PUSH_KEY);
  const subscription = Notification.permission === "granted" ? await browserSubscription() : null;
  const mine = !!subscription && !!stored && devices.some((d) => d.id === stored);
  return { ...publish(mine && stored ? { state: "on", id: stored } : { state: "off" }), devices };
}

/**
 * Subscribes this device (from a touch: the permission is asked first, while the browser still
 * counts the touch). A subscription the browser holds for someone else is ended and a new one
 * made, so a shared phone gets the notifications of the one who turned them on.
 */
export async function turnOn(): Promise<Outcome> {
  if (!pushSupported()) return came("unsupported", "unsupported");
  const permission = Notification.permission === "default" ? await Notification.requestPermission() : Notification.permission;
  if (permission === "denied") return came("denied", "denied");
  if (permission !== "granted") return "dismissed";
  return alone(async () => {
    const key = await keyOf();
    if (!key) return came("unavailable", "unavailable");
    const worker = await registration();
    if (!worker) return came("unsupported", "unsupported");
    let subscription = await worker.pushManager.getSubscription();
    const stored = localStorage.getItem(PUSH_KEY);
    const mine = !!stored && (await myDevices()).some((d) => d.id === stored);
    if (subscription && (!mine || !madeWith(subscription, key))) {
      await subscription.unsubscribe().catch(() => false);
      subscription = null;
    }
    subscription ??= await newSubscription(worker, key);
    const row = await send(subscription);
    localStorage.setItem(PUSH_KEY, row.id);
    if (mine && stored && row.id !== stored) await removeAtRelais(stored).catch(() => undefined);
    publish({ state: "on", id: row.id });
    return "on";
  });
}

/** Stops this device's notifications: relais forgets it, then the browser's subscription ends. */
export async function turnOff(): Promise<void> {
  await alone(async () => {
    const stored = localStorage.getItem(PUSH_KEY);
    if (stored) await removeAtRelais(stored);
    await (await browserSubscription())?.unsubscribe().catch(() => false);
    localStorage.removeItem(PUSH_KEY);
    publish({ state: pushSupported() && Notification.permission === "denied" ? "denied" : "off" });
  });
}

/** Removes one of the person's devices (this one: as turnOff). */
export async function removeDevice(id: string): Promise<void> {
  if (id === localStorage.getItem(PUSH_KEY)) return turnOff();
  await removeAtRelais(id);
}

/** What turning on came to, in words. */
export function outcomeText(outcome: Outcome): string {
  switch (outcome) {
    case "on":
      return L("Notifications activées sur cet appareil.", "Notifications turned on for this device.");
    case "unsupported":
      return L("Ce navigateur ne peut pas recevoir de notifications.", "This browser cannot receive notifications.");
    case "unavailable":
      return L("Les notifications ne sont pas activées sur ce serveur.", "Notifications are not turned on on this server.");
    case "denied":
      return L(
        "Les notifications sont bloquées pour Relais : autorisez-les dans les réglages du navigateur.",
        "Notifications are blocked for Relais: allow them in the browser's settings.",
      );
    case "dismissed":
      return L("Notifications non autorisées : rien n'a changé.", "Notifications not allowed: nothing changed.");
  }
}

/** Tells the service worker the app's language, for the notifications it shows while the app
 * is closed (it keeps that word only). */
export function tellWorkerLanguage(): void {
  if (!("serviceWorker" in navigator)) return;
  void registration()
    .then((worker) => worker?.active?.postMessage({ kind: "language", language: lang() }))
    .catch(() => undefined);
}

// Logging out (not a lock) ends this device's notifications: a shared phone stops ringing for
// the one who left. The id is read before the session (and the storage) is forgotten.
onLogout(() => {
  const stored = localStorage.getItem(PUSH_KEY);
  publish({ state: "unknown" });
  return async (token) => {
    await (await browserSubscription())?.unsubscribe().catch(() => false);
    if (stored && token) await removeAtRelais(stored, token).catch(() => undefined);
  };
});
