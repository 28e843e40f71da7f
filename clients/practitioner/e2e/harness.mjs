// What the end-to-end test runs against: the real `relais` binary on loopback with its embedded
// defaults and demo data, a fake Telegram Bot API server that relais is pointed at (the person's
// side of the conversation), headless Chromium from Debian driven by Playwright, axe-core.
import { spawn } from "node:child_process";
import { createHmac } from "node:crypto";
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer, request as httpRequest } from "node:http";
import { connect } from "node:net";
import { createRequire } from "node:module";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { chromium } from "playwright-core";

const here = dirname(fileURLToPath(import.meta.url));
const DIST = resolve(here, "../dist");
const repo = resolve(here, "../../..");
const require = createRequire(import.meta.url);
export const ARTIFACTS = join(here, "artifacts");
export const TELEGRAM_SECRET = "e2e-telegram-webhook-secret";

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

async function freePort() {
  const server = createServer();
  await new Promise((r) => server.listen(0, "127.0.0.1", r));
  const { port } = server.address();
  await new Promise((r) => server.close(r));
  return port;
}

/** A fake Telegram Bot API: records what the bot sends, answers like Telegram does. */
export async function startFakeTelegram() {
  const calls = [];
  let nextId = 1;
  const server = createServer((req, res) => {
    let raw = "";
    req.on("data", (chunk) => (raw += chunk));
    req.on("end", () => {
      const method = (req.url.split("/").pop() ?? "").replace(/^./, (c) => c.toLowerCase());
      let body = {};
      try {
        body = raw ? JSON.parse(raw) : {};
      } catch {
        body = Object.fromEntries(new URLSearchParams(raw));
      }
      calls.push({ method, body });
      let result = true;
      if (method === "getMe") result = { id: 42, is_bot: true, first_name: "Relais", username: "relais_e2e_bot" };
      if (method === "getUpdates") result = [];
      if (method === "sendMessage") {
        result = { message_id: nextId++, date: Math.floor(Date.now() / 1000), chat: { id: Number(body.chat_id), type: "private", first_name: "x" }, text: body.text };
      }
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ ok: true, result }));
    });
  });
  const port = await freePort();
  await new Promise((r) => server.listen(port, "127.0.0.1", r));
  return {
    url: `http://127.0.0.1:${port}`,
    calls,
    sentTo: (chat) => calls.filter((c) => c.method === "sendMessage" && String(c.body.chat_id) === String(chat)),
    close: () => new Promise((r) => server.close(r)),
  };
}

/** Real French addresses at their real points, as the Base Adresse Nationale gives them. */
const ADDRESSES = [
  { label: "1 Place Salvador Allende 94000 Créteil", type: "housenumber", name: "1 Place Salvador Allende", postcode: "94000", citycode: "94028", city: "Créteil", lon: 2.4554, lat: 48.7776, score: 0.95 },
  { label: "Créteil", type: "municipality", name: "Créteil", postcode: "94000", citycode: "94028", city: "Créteil", lon: 2.4555, lat: 48.7904, score: 0.9 },
  { label: "12 Rue de Rivoli 75004 Paris", type: "housenumber", name: "12 Rue de Rivoli", postcode: "75004", citycode: "75104", city: "Paris", lon: 2.3593, lat: 48.8555, score: 0.93 },
  { label: "Rue de Rivoli 75001 Paris", type: "street", name: "Rue de Rivoli", postcode: "75001", citycode: "75101", city: "Paris", lon: 2.3368, lat: 48.8628, score: 0.81 },
  { label: "8 Boulevard du Port 80000 Amiens", type: "housenumber", name: "8 Boulevard du Port", postcode: "80000", citycode: "80021", city: "Amiens", lon: 2.2901, lat: 49.8974, score: 0.94 },
];

/** Lower case, accents removed: how the fake BAN compares what is asked with its labels. */
const plain = (text) => text.normalize("NFD").replace(/\p{M}/gu, "").toLowerCase();

/**
 * A fake Base Adresse Nationale (its search API, `GET /search/?q=&limit=`), which relais is
 * pointed at (RELAIS_GEOCODER_URL): an address answers when every word asked is in its label.
 * Records what it was asked (`queries`); `down = true` makes it fail like a broken service.
 */
export async function startFakeBan() {
  const queries = [];
  const ban = { url: "", queries, down: false, close: () => Promise.resolve() };
  const server = createServer((req, res) => {
    const url = new URL(req.url, "http://ban");
    if (req.method !== "GET" || url.pathname !== "/search/") {
      res.writeHead(404, { "content-type": "application/json" });
      res.end(JSON.stringify({ code: 404, message: "not found" }));
      return;
    }
    const q = url.searchParams.get("q") ?? "";
    queries.push(q);
    if (ban.down) {
      res.writeHead(500, { "content-type": "text/plain" });
      res.end("fake BAN: down on purpose");
      return;
    }
    const words = plain(q).split(/\s+/).filter(Boolean);
    const limit = Math.max(1, Math.min(20, Number(url.searchParams.get("limit")) || 5));
    const features = ADDRESSES.filter((a) => words.every((w) => plain(a.label).includes(w)))
      .slice(0, limit)
      .map((a) => ({
        type: "Feature",
        geometry: { type: "Point", coordinates: [a.lon, a.lat] },
        properties: { label: a.label, score: a.score, type: a.type, name: a.name, postcode: a.postcode, citycode: a.citycode, city: a.city },
      }));
    res.writeHead(200, { "content-type": "application/json; charset=utf-8" });
    res.end(JSON.stringify({ type: "FeatureCollection", version: "draft", features, query: q, limit }));
  });
  const port = await freePort();
  await new Promise((r) => server.listen(port, "127.0.0.1", r));
  ban.url = `http://127.0.0.1:${port}`;
  ban.close = () =>
    new Promise((r) => {
      server.closeAllConnections?.();
      server.close(r);
    });
  return ban;
}

function relaisBinary() {
  if (process.env.RELAIS_BIN) return process.env.RELAIS_BIN;
  const target = process.env.CARGO_TARGET_DIR ?? join(repo, "target");
  for (const profile of ["release", "debug"]) {
    const candidate = join(target, profile, "relais");
    if (existsSync(candidate)) return candidate;
  }
  throw new Error("no relais binary: run `cargo build --release` first (or set RELAIS_BIN)");
}

/** Starts relais from an empty data folder (first start loads the demo organisations and
 * accounts), with a fake BAN as its address service (`ban` in what it returns). */
export async function startRelais(telegram) {
  const data = mkdtempSync(join(tmpdir(), "relais-e2e-"));
  const ban = await startFakeBan();
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  let log = "";
  const child = spawn(relaisBinary(), ["serve"], {
    cwd: data,
    env: {
      PATH: process.env.PATH,
      RELAIS_BIND: `127.0.0.1:${port}`,
      // Every request comes from 127.0.0.1: the per-address rate limits are raised.
      RELAIS_RATE_LIMIT_GUESS_PER_MINUTE: "100000",
      RELAIS_RATE_LIMIT_PUBLIC_PER_MINUTE: "100000",
      RELAIS_DATA_DIR: join(data, "var"),
      RELAIS_REQUIRE_TOTP: "true",
      // The shortest lifetime: the app must refresh its token and reconnect its socket mid-journey.
      RELAIS_ACCESS_TOKEN_TTL_SECONDS: "30",
      RELAIS_TELEGRAM_TOKEN: "123456:E2E-TOKEN",
      RELAIS_TELEGRAM_WEBHOOK_SECRET: TELEGRAM_SECRET,
      RELAIS_TELEGRAM_API_URL: telegram.url,
      RELAIS_HELPLINE_HOURS: "mon-sun 00:00-24:00",
      RELAIS_GEOCODER_URL: ban.url,
    },
    stdio: ["ignore", "pipe", "pipe"],
  });
  child.stdout.on("data", (d) => (log += d));
  child.stderr.on("data", (d) => (log += d));
  for (let i = 0; ; i++) {
    const up = await fetch(`${base}/healthz`).then((r) => r.ok, () => false);
    if (up) break;
    if (i > 300 || child.exitCode !== null) {
      child.kill("SIGTERM");
      await ban.close();
      throw new Error(`relais did not start:\n${log}`);
    }
    await sleep(100);
  }
  // relais embeds dist/ when it is built: a binary built before the last `npm run build` serves an
  // older app. Then dist/ is served in front of it (everything else passes through), so the test
  // checks the app as the sources give it; rebuild relais to test the embedded copy itself.
  const embedded = await fetch(`${base}/app/app.js`).then((r) => r.arrayBuffer());
  const front = Buffer.from(embedded).equals(readFileSync(join(DIST, "app.js"))) ? undefined : await serveDist(base);
  if (front) console.log(`e2e: relais embeds an older app than dist/: serving dist/ in front of it at ${front.base}`);
  const accounts = readFileSync(join(data, "var", "demo-accounts.txt"), "utf8")
    .split("\n")
    .filter((line) => line && !line.startsWith("#"))
    .map((line) => {
      const [role, organisation, email, password, enrolmentCode] = line.split("\t");
      return { role, organisation, email, password, enrolmentCode };
    });
  return {
    base: front?.base ?? base,
    accounts,
    ban,
    account: (role, organisation) => {
      const found = accounts.find((a) => a.role === role && (!organisation || a.organisation === organisation));
      if (!found) throw new Error(`no demo account ${role} ${organisation ?? ""}`);
      return found;
    },
    log: () => log,
    stop: async () => {
      await front?.close();
      child.kill("SIGTERM");
      await new Promise((r) => (child.exitCode !== null ? r() : child.once("exit", r)));
      await ban.close();
      rmSync(data, { recursive: true, force: true });
    },
  };
}

const TYPES = { html: "text/html; charset=utf-8", js: "text/javascript; charset=utf-8", css: "text/css; charset=utf-8", webmanifest: "application/manifest+json", svg: "image/svg+xml", png: "image/png" };

/** dist/ at /app, with the headers relais gives it (its Content-Security-Policy included);
 * every other request, the live socket's too, passed to relais as it is. */
async function serveDist(upstream) {
  const target = new URL(upstream);
  const csp = (await fetch(`${upstream}/app`)).headers.get("content-security-policy");
  const server = createServer((req, res) => {
    const path = new URL(req.url, upstream).pathname;
    const name = path === "/app" || path === "/app/" ? "index.html" : path.startsWith("/app/") ? path.slice(5) : undefined;
    const file = name && !name.includes("/") ? join(DIST, name) : undefined;
    if (file && existsSync(file)) {
      const headers = { "content-type": TYPES[name.split(".").pop()] ?? "application/octet-stream", "cache-control": "no-cache" };
      if (name === "index.html" && csp) headers["content-security-policy"] = csp;
      if (name === "sw.js") headers["service-worker-allowed"] = "/app";
      res.writeHead(200, headers);
      res.end(readFileSync(file));
      return;
    }
    const forward = httpRequest({ host: target.hostname, port: target.port, method: req.method, path: req.url, headers: req.headers }, (answer) => {
      res.writeHead(answer.statusCode ?? 502, answer.headers);
      answer.pipe(res);
    });
    forward.on("error", () => res.destroy());
    req.pipe(forward);
  });
  const upgraded = new Set();
  server.on("upgrade", (req, socket, head) => {
    upgraded.add(socket);
    const other = connect(Number(target.port), target.hostname, () => {
      const lines = [`${req.method} ${req.url} HTTP/1.1`];
      for (let i = 0; i < req.rawHeaders.length; i += 2) lines.push(`${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}`);
      other.write(`${lines.join("\r\n")}\r\n\r\n`);
      if (head.length) other.write(head);
      socket.pipe(other).pipe(socket);
    });
    const end = () => {
      upgraded.delete(socket);
      socket.destroy();
      other.destroy();
    };
    other.on("error", end);
    socket.on("error", end);
    other.on("close", end);
    socket.on("close", end);
  });
  const port = await freePort();
  await new Promise((r) => server.listen(port, "127.0.0.1", r));
  return {
    base: `http://127.0.0.1:${port}`,
    close: () =>
      new Promise((r) => {
        for (const socket of upgraded) socket.destroy();
        server.closeAllConnections?.();
        server.close(r);
      }),
  };
}

let updateId = 1000;

/** The person's side: messages and button presses reach relais's webhook, signed with the secret. */
export function person(relais, telegram, chat) {
  const post = async (update) => {
    const response = await fetch(`${relais.base}/webhooks/telegram`, {
      method: "POST",
      headers: { "content-type": "application/json", "X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET },
      body: JSON.stringify(update),
    });
    if (response.status !== 200) throw new Error(`webhook answered ${response.status}`);
  };
  const from = { id: chat, is_bot: false, first_name: "Jean", last_name: "Dupont", username: "jean_dupont_e2e" };
  return {
    says: (text) => {
      const id = ++updateId;
      return post({ update_id: id, message: { message_id: id, date: Math.floor(Date.now() / 1000), chat: { id: chat, type: "private", first_name: "Jean" }, from, text } });
    },
    presses: (data) => {
      const id = ++updateId;
      return post({
        update_id: id,
        callback_query: {
          id: `cb${id}`,
          from,
          chat_instance: "e2e",
          data,
          message: { message_id: 1, date: Math.floor(Date.now() / 1000), chat: { id: chat, type: "private", first_name: "Jean" }, from: { id: 42, is_bot: true, first_name: "Relais" }, text: "question" },
        },
      });
    },
    /** Waits for a message to this chat that contains `text`, and returns it. */
    waitFor: async (text, timeout = 15000) => {
      const until = Date.now() + timeout;
      while (Date.now() < until) {
        const found = telegram.sentTo(chat).find((c) => String(c.body.text ?? "").includes(text));
        if (found) return found;
        await sleep(100);
      }
      const said = telegram.sentTo(chat).map((c) => c.body.text);
      throw new Error(`the person never got "${text}"; got: ${JSON.stringify(said, null, 1)}`);
    },
  };
}

/** RFC 6238 (SHA-1, 6 digits, 30 s), as an authenticator app computes it. */
export function totp(secret, at = Date.now()) {
  const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";
  let bits = "";
  for (const c of secret.replace(/=+$/, "").toUpperCase()) bits += alphabet.indexOf(c).toString(2).padStart(5, "0");
  const key = Buffer.from(bits.match(/.{8}/g).map((b) => parseInt(b, 2)));
  const counter = Buffer.alloc(8);
  counter.writeBigUInt64BE(BigInt(Math.floor(at / 30000)));
  const mac = createHmac("sha1", key).update(counter).digest();
  const offset = mac[mac.length - 1] & 0xf;
  const code = (mac.readUInt32BE(offset) & 0x7fffffff) % 1000000;
  return String(code).padStart(6, "0");
}

const usedSteps = new Map();
/** A code from a 30-second step not used yet for this secret (a server refuses a replayed code). */
export async function freshTotp(secret) {
  while (usedSteps.get(secret) === Math.floor(Date.now() / 30000)) await sleep(500);
  usedSteps.set(secret, Math.floor(Date.now() / 30000));
  return totp(secret);
}

/** Logs in through the app: password, then enrolment the first time (`onEnrol` runs on its
 * screen, before anything is typed), the one-time code after. `secrets` keeps each account's
 * TOTP secret, by email, from its enrolment to its next logins. */
export async function logIn(page, account, secrets, onEnrol = async () => {}) {
  await page.getByLabel("Adresse e-mail").fill(account.email);
  await page.getByLabel("Mot de passe").fill(account.password);
  await page.getByRole("button", { name: "Se connecter" }).click();
  const enrol = page.getByRole("heading", { name: "Double authentification" });
  const code = page.getByLabel("Code à usage unique");
  const shell = page.getByRole("navigation", { name: "Navigation principale" });
  await enrol.or(code).or(shell).first().waitFor();
  if (await enrol.isVisible()) {
    await onEnrol();
    await page.getByLabel("Code d'enrôlement").fill(account.enrolmentCode);
    await page.getByLabel("Mot de passe du compte").fill(account.password);
    await page.getByRole("button", { name: "Commencer" }).click();
    const secret = (await page.getByTestId("totp-secret").textContent()).trim();
    secrets.set(account.email, secret);
    await page.getByLabel("Code affiché par l'application").fill(await freshTotp(secret));
    await page.getByRole("button", { name: "Valider" }).click();
  } else if (await code.isVisible()) {
    await code.fill(await freshTotp(secrets.get(account.email)));
    await page.getByRole("button", { name: "Se connecter" }).click();
  }
  await shell.waitFor();
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: process.env.CHROMIUM ?? "/usr/bin/chromium",
    args: ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
  });
}

/** A phone: 390×844 CSS pixels, touch, French. */
export async function phone(browser) {
  const context = await browser.newContext({
    viewport: { width: 390, height: 844 },
    deviceScaleFactor: 2,
    isMobile: true,
    hasTouch: true,
    locale: "fr-FR",
    timezoneId: "Europe/Paris",
  });
  const page = await context.newPage();
  const problems = [];
  page.on("console", (m) => {
    if (m.type() === "error") problems.push(m.text());
  });
  page.on("pageerror", (e) => problems.push(String(e)));
  return { context, page, problems };
}

let shot = 0;
export async function screenshot(page, name) {
  if (shot === 0) rmSync(ARTIFACTS, { recursive: true, force: true });
  mkdirSync(ARTIFACTS, { recursive: true });
  const file = join(ARTIFACTS, `${String(++shot).padStart(2, "0")}-${name}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}

const axeSource = readFileSync(require.resolve("axe-core/axe.min.js"), "utf8");

/** axe-core on the page as it is (WCAG 2.0/2.1 A and AA rules); returns serious or critical violations. */
export async function seriousViolations(page) {
  // Evaluated through the DevTools protocol, so the page's Content-Security-Policy stays on.
  await page.evaluate(axeSource);
  const result = await page.evaluate(() =>
    // eslint-disable-next-line no-undef
    axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] } }),
  );
  return result.violations
    .filter((v) => v.impact === "serious" || v.impact === "critical")
    .map((v) => `${v.id} (${v.impact}): ${v.help} — ${v.nodes.map((n) => n.target.join(" ")).join(", ")}`);
}
