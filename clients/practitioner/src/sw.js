// The service worker caches the app's shell (never an API answer, never a person's data), so
// the app opens on a bad network and can be installed. Its cache is named after the build.
// It also shows the Web Push notifications relais sends a subscribed device (push.ts): words
// that name no one, in the app's language when the app told it (a cache of its own keeps that
// word, "fr" or "en", and nothing else), in both otherwise.
const CACHE = "relais-shell-__VERSION__";
/** The app's language for notifications: one entry, "fr" or "en". */
const PREFS = "relais-prefs";
const LANGUAGE = "/app/language";
const SHELL = ["/app", "/app/app.js", "/app/app.css", "/app/manifest.webmanifest", "/app/icon.svg", "/app/icon-192.png", "/app/icon-512.png"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(
    caches
      .keys()
      .then((keys) => Promise.all(keys.filter((k) => k.startsWith("relais-shell-") && k !== CACHE).map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener("fetch", (event) => {
  const url = new URL(event.request.url);
  if (event.request.method !== "GET" || url.origin !== self.location.origin || !SHELL.includes(url.pathname)) return;
  // Network first, so a new version shows at once; the cached shell when offline.
  event.respondWith(
    fetch(event.request)
      .then((response) => {
        if (response.ok) {
          const copy = response.clone();
          caches.open(CACHE).then((cache) => cache.put(event.request, copy));
        }
        return response;
      })
      .catch(() => caches.match(event.request).then((cached) => cached || Response.error())),
  );
});

self.addEventListener("message", (event) => {
  // Logout: the app asks to forget everything cached (but the language of the notifications,
  // which a locked device still receives).
  if (event.data === "clear") event.waitUntil(caches.keys().then((keys) => Promise.all(keys.filter((k) => k !== PREFS).map((k) => caches.delete(k)))));
  // The app's language, for the notifications shown while it is closed.
  const language = event.data && typeof event.data === "object" && event.data.kind === "language" ? event.data.language : undefined;
  if (language === "fr" || language === "en") {
    event.waitUntil(caches.open(PREFS).then((cache) => cache.put(LANGUAGE, new Response(language, { headers: { "content-type": "text/plain" } }))));
  }
});

/** The language the app last said ("fr", "en"), or undefined. */
function language() {
  return caches
    .open(PREFS)
    .then((cache) => cache.match(LANGUAGE))
    .then((answer) => (answer ? answer.text() : undefined))
    .then((text) => (text === "fr" || text === "en" ? text : undefined))
    .catch(() => undefined);
}

/** The app's own address for a path relais names ("/app/queue" is the screen "#/queue"); the
 * app's home for anything else. */
function appUrl(path) {
  let url;
  try {
    url = new URL(typeof path === "string" ? path : "/app", self.location.origin);
  } catch {
    return "/app";
  }
  if (url.origin !== self.location.origin || !/^\/app(\/|$)/.test(url.pathname)) return "/app";
  const screen = url.hash.startsWith("#/") ? url.hash.slice(2) : url.pathname.replace(/^\/app\/?/, "");
  return screen && /^[a-z0-9/-]+$/.test(screen) ? `/app#/${screen}` : "/app";
}

// A push from relais (already decrypted by the browser): {title, body, body_en, topic, url}.
// Shown every time (a browser may end a subscription whose pushes show nothing); one per topic,
// a newer one replacing the older.
self.addEventListener("push", (event) => {
  let message = {};
  try {
    message = event.data ? event.data.json() : {};
  } catch {
    message = {};
  }
  const text = (value) => (typeof value === "string" && value.trim() ? value.trim().slice(0, 200) : undefined);
  const fr = text(message.body) || "Relais a du nouveau pour vous";
  const en = text(message.body_en) || (text(message.body) ? undefined : "Relais has something new for you");
  const topic = text(message.topic) && /^[a-z_]{1,40}$/.test(message.topic) ? message.topic : "relais";
  event.waitUntil(
    language().then((lang) =>
      self.registration.showNotification(text(message.title) || "Relais", {
        body: lang === "en" && en ? en : lang === "fr" || !en ? fr : `${fr} / ${en}`,
        tag: topic,
        // A newer notification of the same kind replaces the shown one, and rings again.
        renotify: true,
        icon: "/app/icon-192.png",
        lang: lang || "",
        data: { url: appUrl(message.url) },
      }),
    ),
  );
});

self.addEventListener("notificationclick", (event) => {
  // A notification says what happened, never who: opening it brings the app forward, at the
  // screen it names (the queue, the inbox, the housing requests).
  event.notification.close();
  const target = appUrl(event.notification.data && event.notification.data.url);
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      const open = windows.find((w) => new URL(w.url).pathname.startsWith("/app"));
      if (!open) return self.clients.openWindow(target);
      // The app moves to the screen itself (no reload): see main.tsx.
      open.postMessage({ kind: "open", url: target });
      return open.focus();
    }),
  );
});
