// Notifications while the app is closed, and live housing requests, at a phone's size, in
// Debian's Chromium, against the real relais: a listener's "Mes appareils" screen lists the
// devices that receive the listener's notifications (when each subscribed, when one was last
// notified), removes one, and says why this one cannot subscribe (Chromium refuses the Push API
// in Playwright's private contexts, and has no network here to reach a push service); a push
// delivered to the app's service worker through the DevTools protocol
// (ServiceWorker.deliverPushMessage) is shown in the app's language, one per topic, naming no
// one. A housing operator's requests refresh when a centre asks for housing, without
// "Actualiser". axe-core finds no serious violation. Screenshots: e2e/artifacts/push-*.png.
//
// A relais built before Web Push answers 404 on /v1/push: the push API is then played by the
// test (the same answers as the contract's) so the screen can be checked; a newer relais is used
// as it is.
import assert from "node:assert/strict";
import { createECDH, randomBytes, randomUUID } from "node:crypto";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ARTIFACTS, freshTotp, launchBrowser, phone, seriousViolations, startFakeTelegram, startRelais, logIn as harnessLogIn } from "./harness.mjs";

let telegram;
let relais;
let browser;
let realPush = false;
const secrets = new Map();

before(async () => {
  telegram = await startFakeTelegram();
  relais = await startRelais(telegram);
  browser = await launchBrowser();
  // Unauthenticated: 401 where the push API exists, 404 on a relais from before it.
  realPush = (await fetch(`${relais.base}/v1/push/key`)).status !== 404;
  console.log(realPush ? "e2e: relais has the push API: used as it is" : "e2e: relais predates the push API (404): the test plays it");
});

after(async () => {
  await browser?.close();
  await relais?.stop();
  await telegram?.close();
});

async function check(page, name) {
  await page.waitForLoadState("networkidle");
  await page.getByText("Chargement…").first().waitFor({ state: "detached" }).catch(() => undefined);
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `push-${name}.png`), fullPage: true });
  assert.deepEqual(await seriousViolations(page), [], `axe-core on ${name}`);
}

/** Logs in through the app (the harness's `logIn`), keeping the TOTP secrets in `secrets`. */
const logIn = (page, account) => harnessLogIn(page, account, secrets);

/** The page's current bearer (access tokens live 30 s here): the one a refresh of the list sends. */
async function bearer(page) {
  const sent = page.waitForRequest((r) => new URL(r.url()).pathname.startsWith("/v1/") && !!r.headers().authorization);
  await page.getByRole("button", { name: /^(Actualiser|Refresh)$/ }).click();
  return (await sent).headers().authorization;
}

/** A subscription as a browser gives it: an endpoint on a push service relais allows, the
 * device's P-256 key and its secret. */
function browserSubscription() {
  const device = createECDH("prime256v1");
  device.generateKeys();
  return {
    endpoint: `https://fcm.googleapis.com/fcm/send/e2e-${randomBytes(12).toString("hex")}`,
    expirationTime: null,
    keys: { p256dh: device.getPublicKey().toString("base64url"), auth: randomBytes(16).toString("base64url") },
  };
}

/** The push API of relais, as it is: a device subscribed and listed with the page's bearer. */
function relaisPush() {
  const call = async (page, method, path, body) => {
    const response = await fetch(`${relais.base}${path}`, {
      method,
      headers: { authorization: await bearer(page), ...(body ? { "content-type": "application/json" } : {}) },
      body: body ? JSON.stringify(body) : undefined,
    });
    assert.ok(response.ok, `${method} ${path}: ${response.status} ${await response.clone().text()}`);
    return response.status === 204 ? undefined : response.json();
  };
  return {
    subscribe: (page, device) => call(page, "POST", "/v1/push/subscriptions", { ...browserSubscription(), device }),
    devices: async (page) => (await call(page, "GET", "/v1/push/subscriptions")).items,
  };
}

/** The push API played for a relais from before it, with the contract's answers (the server's
 * own tests check the real one). */
async function playedPush(context) {
  const key = createECDH("prime256v1");
  key.generateKeys();
  const devices = [];
  const problem = (status, type, title) => ({ status, contentType: "application/problem+json", body: JSON.stringify({ type: `urn:relais:problem:${type}`, title, status }) });
  await context.route(/\/v1\/push\//, async (route) => {
    const request = route.request();
    const path = new URL(request.url()).pathname;
    if (!request.headers().authorization) return route.fulfill(problem(401, "unauthorized", "Unauthorized"));
    const json = (status, body) => route.fulfill({ status, contentType: "application/json", body: JSON.stringify(body) });
    if (request.method() === "GET" && path === "/v1/push/key") return json(200, { public_key: key.getPublicKey().toString("base64url") });
    if (request.method() === "GET" && path === "/v1/push/subscriptions") return json(200, { items: devices });
    if (request.method() === "POST" && path === "/v1/push/subscriptions") {
      const body = request.postDataJSON();
      const device = { id: randomUUID(), device: body.device || "Appareil / Device", created_at: new Date().toISOString(), last_sent_at: null };
      devices.push(device);
      return json(201, device);
    }
    const id = path.match(/^\/v1\/push\/subscriptions\/([^/]+)$/)?.[1];
    if (request.method() === "DELETE" && id) {
      const at = devices.findIndex((d) => d.id === id);
      if (at < 0) return route.fulfill(problem(404, "not-found", "Not Found"));
      devices.splice(at, 1);
      return route.fulfill({ status: 204 });
    }
    return route.fulfill(problem(404, "not-found", "Not Found"));
  });
  return {
    subscribe: async (_page, device) => {
      const row = { id: randomUUID(), device, created_at: new Date(Date.now() - 3 * 86400000).toISOString(), last_sent_at: null };
      devices.push(row);
      return row;
    },
    devices: async () => [...devices],
  };
}

/** Chromium's own words when a page of a private context (every Playwright context) subscribes. */
const incognito = /does not support the Push API in incognito mode/;

test("a listener's devices: the list, removing one, this device's switch; a push is shown in the app's language, one per topic", async () => {
  const { page, context, problems } = await phone(browser);
  await context.grantPermissions(["notifications"], { origin: relais.base });
  const push = realPush ? relaisPush() : await playedPush(context);
  // The service worker's registration, as DevTools sees it (its id delivers pushes).
  const cdp = await context.newCDPSession(page);
  const registrations = new Map();
  cdp.on("ServiceWorker.workerRegistrationUpdated", ({ registrations: list }) => {
    for (const r of list) if (!r.isDeleted) registrations.set(r.scopeURL, r.registrationId);
  });
  await cdp.send("ServiceWorker.enable");
  await page.goto(`${relais.base}/app`);
  await logIn(page, relais.account("listener"));
  await page.getByRole("heading", { name: "File d'attente" }).waitFor();
  const loggedIn = problems.length;

  // Another device of the listener's already receives the notifications.
  await push.subscribe(page, "Firefox sur Windows");

  // The menu offers to turn them on here (allowed, not subscribed), and the devices' screen.
  await page.getByRole("button", { name: "Menu" }).click();
  await page.getByRole("button", { name: "Activer les notifications" }).waitFor();
  await page.getByRole("button", { name: "Mes appareils" }).click();
  await page.getByRole("heading", { name: "Mes appareils", level: 1 }).waitFor();
  await page.waitForFunction(() => document.activeElement?.id === "screen-title");
  const other = page.getByRole("listitem").filter({ hasText: "Firefox sur Windows" });
  await other.getByText(/^Abonné le \d{1,2} \S+ \d{4}/).waitFor();
  await other.getByText("Aucune notification pour l'instant").waitFor();
  await page.getByText("1 appareil", { exact: true }).waitFor();
  await page.getByText("Vous êtes prévenu·e quand une conversation attend dans la file.", { exact: false }).waitFor();
  const toggle = page.getByRole("switch", { name: "Recevoir les notifications sur cet appareil" });
  assert.equal(await toggle.isChecked(), false, "this device is not subscribed");
  await page.getByText("Cet appareil ne reçoit pas vos notifications.").waitFor();
  await check(page, "devices");

  // This device: Chromium refuses the Push API in a private context (and has no push service to
  // reach here): said in words, the switch back off, nothing breaks.
  await toggle.click();
  await page.getByRole("alert").filter({ hasText: "Le navigateur n'a pas pu abonner cet appareil" }).waitFor();
  await page.getByText("Cet appareil ne reçoit pas vos notifications.").waitFor();
  assert.equal(await toggle.isChecked(), false);
  assert.equal(await page.evaluate(() => localStorage.getItem("relais.push")), null, "nothing kept for a subscription that failed");
  await check(page, "devices-refused");

  // Removing the other device: gone from the list and from relais, the focus on the list's title.
  await other.getByRole("button", { name: /^Retirer Firefox sur Windows, abonné le / }).click();
  await page.getByText("Aucun appareil ne reçoit vos notifications.").waitFor();
  await page.getByText("0 appareil", { exact: true }).waitFor();
  await page.waitForFunction(() => document.activeElement?.tagName === "H2");
  assert.deepEqual(await push.devices(page), [], "relais forgot the device");

  // A push from relais reaches the service worker (as the browser gives it, decrypted): shown in
  // the app's language (French), under its topic, opening the app's screen.
  await page.waitForFunction(() => navigator.serviceWorker.controller !== null);
  const registrationId = registrations.get(`${relais.base}/app`);
  assert.ok(registrationId !== undefined, `the app's service worker is registered: ${JSON.stringify([...registrations])}`);
  const deliver = (message) => cdp.send("ServiceWorker.deliverPushMessage", { origin: relais.base, registrationId, data: JSON.stringify(message) });
  const shown = () =>
    page.evaluate(async () =>
      (await (await navigator.serviceWorker.ready).getNotifications()).map((n) => ({ title: n.title, body: n.body, tag: n.tag, url: n.data?.url, icon: new URL(n.icon).pathname })),
    );
  const until = async (body) => {
    for (let i = 0; i < 100; i++) {
      const now = await shown();
      if (now.some((n) => n.body === body)) return now;
      await page.waitForTimeout(100);
    }
    assert.fail(`no notification "${body}": ${JSON.stringify(await shown())}`);
  };
  const queue = { title: "Relais", body: "Nouvelle conversation en attente", body_en: "A new conversation is waiting", topic: "queue", url: "/app/queue" };
  await deliver(queue);
  assert.deepEqual(await until("Nouvelle conversation en attente"), [
    { title: "Relais", body: "Nouvelle conversation en attente", tag: "queue", url: "/app#/queue", icon: "/app/icon-192.png" },
  ]);

  // In English, the next one of the topic replaces it, in English.
  await page.getByRole("button", { name: "Menu" }).click();
  await page.getByRole("button", { name: "English" }).click();
  await page.getByRole("heading", { name: "My devices", level: 1 }).waitFor();
  await page.waitForTimeout(300);
  await deliver(queue);
  assert.deepEqual(
    (await until("A new conversation is waiting")).map((n) => [n.body, n.tag]),
    [["A new conversation is waiting", "queue"]],
    "one notification per topic",
  );

  // A worker that does not know the language says both, French first.
  await page.evaluate(() => caches.delete("relais-prefs"));
  await deliver({ ...queue, topic: "referral", body: "Nouvelle orientation", body_en: "A new referral", url: "/app/inbox" });
  const both = await until("Nouvelle orientation / A new referral");
  assert.deepEqual(
    both.map((n) => [n.tag, n.url]).sort(),
    [
      ["queue", "/app#/queue"],
      ["referral", "/app#/inbox"],
    ],
  );

  // Logging out leaves nothing in storage.
  await page.getByRole("button", { name: "Menu" }).click();
  await page.getByRole("button", { name: "Log out" }).click();
  await page.getByRole("button", { name: "Log in" }).waitFor();
  assert.equal(await page.evaluate(() => sessionStorage.length + localStorage.length), 0, "logout leaves nothing in storage");
  await context.close();
  assert.deepEqual(
    problems.slice(loggedIn).filter((p) => !incognito.test(p)),
    [],
    "no other error in the listener's console",
  );
});

test("a housing operator's requests refresh live when a centre asks for housing", async () => {
  const housing = await phone(browser);
  const page = housing.page;
  await page.goto(`${relais.base}/app`);
  await logIn(page, relais.account("housing_operator"));
  await page.getByRole("heading", { name: "Demandes d'hébergement" }).waitFor();
  // The header says the live state for the housing platform too.
  await page.getByText("En direct").waitFor();
  const centre = "CPCA Île-de-France Est";
  const requests = page.getByRole("link").filter({ hasText: centre });
  const before = await requests.count();

  // A centre's practitioner opens a case and asks the platform to house the author tonight.
  const practitioner = await phone(browser);
  await practitioner.page.goto(`${relais.base}/app`);
  await logIn(practitioner.page, relais.account("practitioner", centre));
  await practitioner.page.getByRole("heading", { name: "Accueil du centre" }).waitFor();
  const authorization = await bearer(practitioner.page);
  const post = async (path, body) => {
    const response = await fetch(`${relais.base}${path}`, { method: "POST", headers: { authorization, "content-type": "application/json" }, body: JSON.stringify(body) });
    assert.equal(response.status, 201, `POST ${path}: ${await response.clone().text()}`);
    return response.json();
  };
  const opened = await post("/v1/cases", { origin: "self", legal_basis: "voluntary" });
  const paris = new Intl.DateTimeFormat("en-CA", { timeZone: "Europe/Paris" }).format(new Date());
  const next = new Date(`${paris}T12:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  await post(`/v1/cases/${opened.id}/housing-requests`, { first_night: paris, last_night: next.toISOString().slice(0, 10), urgency: "tonight" });
  await practitioner.context.close();

  // The operator's list shows it by itself (the "Actualiser" button is still there), and says so.
  await page.getByText("Nouvelle demande d'hébergement").first().waitFor();
  await page.waitForFunction(
    ([name, count]) => [...document.querySelectorAll(".list a.item")].filter((a) => a.textContent.includes(name)).length > count,
    [centre, before],
  );
  await page.getByRole("button", { name: "Actualiser" }).waitFor();
  await check(page, "housing-requests-live");
  await housing.context.close();
  assert.deepEqual(housing.problems, [], "no error in the housing operator's console");
});
