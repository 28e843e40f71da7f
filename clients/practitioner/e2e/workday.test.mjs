// A working day with the app, at a phone's size, in Debian's Chromium, against the real relais:
// the listener's conversation opens at the newest message and follows new ones (or waits behind
// "Nouveaux messages" while the listener reads higher up), leaves most of the screen to the
// thread, and logging out sits in the header's menu (keyboard: Escape closes it, the focus
// comes back); a list reloads when pulled down; a second tab shares the session, the refresh
// token is spent by one tab at a time and both keep working, a reload without network says it
// reconnects by itself and does, logging out in one tab logs out the other; a 429 at login says
// the wait in French. Screenshots: e2e/artifacts/workday-*.png.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ARTIFACTS, freshTotp, launchBrowser, person, phone, seriousViolations, startFakeTelegram, startRelais, logIn as harnessLogIn } from "./harness.mjs";

let telegram;
let relais;
let browser;
const secrets = new Map();
const CHAT = 770002;

before(async () => {
  telegram = await startFakeTelegram();
  relais = await startRelais(telegram);
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await relais?.stop();
  await telegram?.close();
});

async function shot(page, name) {
  mkdirSync(ARTIFACTS, { recursive: true });
  await page.screenshot({ path: join(ARTIFACTS, `workday-${name}.png`) });
}

async function axe(page, name) {
  assert.deepEqual(await seriousViolations(page), [], `axe-core on ${name}`);
}

/** Logs in through the app (the harness's `logIn`), keeping the TOTP secrets in `secrets`. */
const logIn = (page, account) => harnessLogIn(page, account, secrets);

const refreshToken = (page) => page.evaluate(() => sessionStorage.getItem("relais.refresh"));

/** Errors a page may rightly log while the network is cut. */
const offlineNoise = /Failed to load resource|ERR_INTERNET_DISCONNECTED|WebSocket|net::/;

test("the conversation opens at the newest message, follows new ones, and leaves the screen to the thread", async () => {
  const jean = person(relais, telegram, CHAT);
  await jean.says("Bonjour");
  await jean.waitFor("danger immédiat");
  await jean.presses("no");
  await jean.waitFor("Qui nous écrit");
  await jean.presses("author");
  await jean.waitFor("Que souhaitez-vous");
  await jean.presses("listener");
  await jean.waitFor("Un·e écoutant·e va vous répondre");
  for (let i = 1; i <= 24; i++) await jean.says(`Message ${i} : je voudrais parler de ce qui se passe à la maison depuis quelques semaines.`);

  const { page, context, problems } = await phone(browser);
  await page.goto(`${relais.base}/app`);
  await logIn(page, relais.account("listener"));
  await page.getByRole("heading", { name: "File d'attente" }).waitFor();

  // A list reloads when pulled down from its top (touch), the indicator showing it.
  const cdp = await context.newCDPSession(page);
  const touch = (type, y) => cdp.send("Input.dispatchTouchEvent", { type, touchPoints: type === "touchEnd" ? [] : [{ x: 195, y }] });
  const reloaded = page.waitForRequest((r) => r.method() === "GET" && /\/v1\/conversations\?/.test(r.url()));
  await touch("touchStart", 160);
  for (let y = 180; y <= 420; y += 20) await touch("touchMove", y);
  await page.locator(".pull.armed").waitFor();
  await shot(page, "pull-to-refresh");
  await touch("touchEnd");
  await reloaded;

  await page.getByRole("button", { name: "Prendre la suivante" }).click();
  await page.getByText("Message 24 :").waitFor();
  const thread = page.getByRole("region", { name: "Fil des messages" });
  const atEnd = () => thread.evaluate((el) => el.scrollHeight - el.scrollTop - el.clientHeight < 4);
  assert.ok(await thread.evaluate((el) => el.scrollHeight > el.clientHeight + 200), "the thread is longer than its pane");
  assert.ok(await atEnd(), "the conversation opens at the newest message");
  const last = await page.getByText("Message 24 :").boundingBox();
  const pane = await thread.boundingBox();
  assert.ok(last.y + last.height <= pane.y + pane.height + 1 && last.y >= pane.y, "the newest message is in view");
  // Most of a 390×844 screen is the thread: the header and the reply box are compact.
  assert.ok(pane.height >= 844 * 0.55, `the thread has ${Math.round(pane.height)} px of the screen's 844`);
  assert.equal(await page.getByRole("button", { name: "Se déconnecter" }).count(), 0, "logging out is in the menu, not the header");
  await shot(page, "conversation-opens-at-newest");
  await axe(page, "conversation");

  // A new message while at the end: followed.
  await jean.says("Message 25 : vous êtes toujours là ?");
  await page.getByText("Message 25 :").waitFor();
  await page.waitForFunction(() => {
    const el = document.querySelector(".thread");
    return el && el.scrollHeight - el.scrollTop - el.clientHeight < 4;
  });

  // Scrolled up to read: a new message leaves the reading where it is, a button leads down.
  await thread.evaluate((el) => el.scrollTo({ top: 0 }));
  await page.waitForTimeout(200);
  await jean.says("Message 26 : pendant que vous lisez plus haut.");
  const newer = page.getByRole("button", { name: "Nouveaux messages" });
  await newer.waitFor();
  assert.ok(await thread.evaluate((el) => el.scrollTop < 50), "the reading stays where it was");
  await shot(page, "new-messages-button");
  await axe(page, "conversation with new messages");
  await newer.click();
  await page.waitForFunction(() => {
    const el = document.querySelector(".thread");
    return el && el.scrollHeight - el.scrollTop - el.clientHeight < 4;
  });
  await newer.waitFor({ state: "detached" });

  // The reply box grows with its text, up to a few lines.
  const reply = page.getByLabel("Votre réponse");
  const one = (await reply.boundingBox()).height;
  await reply.fill("Bonjour,\nje vous lis.\nPrenez votre temps.");
  const three = (await reply.boundingBox()).height;
  await reply.fill(Array.from({ length: 20 }, (_, i) => `ligne ${i}`).join("\n"));
  const many = (await reply.boundingBox()).height;
  assert.ok(three > one + 20, `three lines make the box taller (${one} → ${three})`);
  assert.ok(many <= 170, `the box stops growing after a few lines (${many} px)`);
  await reply.fill("Je suis là, je vous lis. Prenez votre temps.");
  await page.getByRole("button", { name: "Envoyer" }).click();
  await jean.waitFor("je vous lis. Prenez votre temps");
  await page.getByText("Je suis là, je vous lis.").waitFor();
  assert.ok(await atEnd(), "the listener's own reply is shown");

  // The menu by keyboard: Enter opens it on its first entry, Escape closes it, focus comes back.
  const menu = page.getByRole("button", { name: "Menu" });
  await menu.focus();
  await page.keyboard.press("Enter");
  assert.equal(await menu.getAttribute("aria-expanded"), "true");
  await page.waitForFunction(() => document.activeElement?.textContent === "English"); // the first entry has the focus
  await page.keyboard.press("ArrowDown");
  await page.keyboard.press("End");
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Se déconnecter");
  await axe(page, "menu open");
  await shot(page, "menu");
  await page.keyboard.press("Escape");
  assert.equal(await menu.getAttribute("aria-expanded"), "false");
  assert.equal(await page.getByRole("button", { name: "Se déconnecter" }).count(), 0, "the menu is closed");
  assert.equal(await page.evaluate(() => document.activeElement?.textContent), "Menu", "the focus is back on the menu button");

  await context.close();
  assert.deepEqual(problems, [], "no error in the console");
});

test("a second tab shares the session; one refresh at a time; offline after a reload, then back; logout ends both", async () => {
  const { page: first, context, problems } = await phone(browser);
  await first.goto(`${relais.base}/app`);
  await logIn(first, relais.account("helpline_supervisor"));
  await first.getByRole("heading", { name: "File d'attente" }).waitFor();

  // The second tab comes in without logging in: the first one hands it the session.
  const second = await context.newPage();
  second.on("pageerror", (e) => problems.push(String(e)));
  await second.goto(`${relais.base}/app`);
  await second.getByRole("heading", { name: "File d'attente" }).waitFor();
  assert.equal(await second.getByRole("button", { name: "Se connecter" }).count(), 0);
  assert.equal(await refreshToken(second), await refreshToken(first), "one session, one refresh token");

  // Access tokens live 30 s here: both tabs plan a refresh at about the same moment. One spends
  // the refresh token and hands the new pair to the other; twice in a row, so a reuse (which
  // revokes the session on the server) would have shown at the second.
  let spent = 0;
  for (const page of [first, second]) page.on("request", (r) => r.url().endsWith("/v1/auth/refresh") && spent++);
  let token = await refreshToken(first);
  for (let round = 1; round <= 2; round++) {
    await first.waitForFunction((old) => !!sessionStorage.getItem("relais.refresh") && sessionStorage.getItem("relais.refresh") !== old, token, { timeout: 90000 });
    token = await refreshToken(first);
    await second.waitForFunction((now) => sessionStorage.getItem("relais.refresh") === now, token, { timeout: 10000 });
  }
  assert.equal(spent, 2, "two rotations, one refresh each, whichever tab made it");
  await second.getByRole("link", { name: "Appels", exact: true }).click();
  await second.getByRole("heading", { name: "Appels téléphoniques" }).waitFor();
  await first.getByRole("link", { name: "Réponses", exact: true }).click();
  await first.getByRole("heading", { name: "Réponses types" }).waitFor();
  assert.equal(await first.getByRole("button", { name: "Se connecter" }).count(), 0, "the first tab is still in");
  assert.equal(await second.getByRole("button", { name: "Se connecter" }).count(), 0, "the second tab is still in");
  await second.close();

  // A reload without network: the app says it reconnects by itself (not the login), and does.
  await first.waitForFunction(() => !!navigator.serviceWorker?.controller, null, { timeout: 15000 });
  await context.setOffline(true);
  await first.reload();
  await first.getByText("Hors ligne — reconnexion automatique").waitFor();
  assert.equal(await first.getByRole("button", { name: "Se connecter" }).count(), 0, "not the login screen");
  await shot(first, "offline-after-reload");
  await axe(first, "offline");
  await context.setOffline(false);
  await first.getByRole("heading", { name: "Réponses types" }).waitFor({ timeout: 30000 });
  await first.getByText("En direct").waitFor({ timeout: 15000 });

  // Logging out in one tab logs out the other.
  const third = await context.newPage();
  await third.goto(`${relais.base}/app`);
  await third.getByRole("heading", { level: 1 }).waitFor();
  assert.equal(await third.getByRole("button", { name: "Se connecter" }).count(), 0);
  await third.getByRole("button", { name: "Menu" }).click();
  await third.getByRole("button", { name: "Se déconnecter" }).click();
  await third.getByRole("button", { name: "Se connecter" }).waitFor();
  await first.getByRole("button", { name: "Se connecter" }).waitFor();
  for (const page of [first, third]) {
    assert.equal(await page.evaluate(() => sessionStorage.length + localStorage.length), 0, "nothing left in storage");
  }
  await context.close();
  assert.deepEqual(
    problems.filter((p) => !offlineNoise.test(p)),
    [],
    "no other error in the console",
  );
});

test("a 429 at login says how long to wait, in French; the server's words stay in the technical details", async () => {
  const { page, context } = await phone(browser);
  // The answer relais gives a throttled login (problem.rs), after the attempts it counts.
  await page.route("**/v1/auth/login", (route) =>
    route.fulfill({
      status: 429,
      headers: { "content-type": "application/problem+json", "retry-after": "120" },
      body: JSON.stringify({ type: "urn:relais:problem:too-many-requests", title: "Too many attempts, try again later", status: 429, retry_after: 120 }),
    }),
  );
  await page.goto(`${relais.base}/app`);
  const account = relais.account("practitioner", "CPCA Île-de-France Est");
  await page.getByLabel("Adresse e-mail").fill(account.email);
  await page.getByLabel("Mot de passe").fill("pas le bon mot de passe");
  await page.getByRole("button", { name: "Se connecter" }).click();
  await page.getByRole("alert").filter({ hasText: "Trop de tentatives. Réessayez dans 2 minutes." }).waitFor();
  assert.equal(await page.getByText("Too many attempts, try again later").isVisible(), false, "no English on a French screen");
  await shot(page, "login-429");
  await axe(page, "login refused for now");
  await page.getByText("Détails techniques").click();
  await page.getByText("Too many attempts, try again later").waitFor();
  await context.close();
});
