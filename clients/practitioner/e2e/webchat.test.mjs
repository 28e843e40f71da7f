// The web chat as a person in distress has it, at a phone's size, in Debian's Chromium, against
// the real relais: every new chat gets the bot's first answer (no race between the socket and
// the reply); a message written offline shows "not sent", waits, and goes once when the
// network returns; buttons that no longer apply are disabled; the language switch posts no
// visible message; quick exit leaves for a neutral site without leaving the chat in the
// history. axe-core finds no serious violation. Screenshots: e2e/artifacts/webchat-*.png.
import assert from "node:assert/strict";
import { mkdirSync } from "node:fs";
import { join } from "node:path";
import { after, before, test } from "node:test";
import { ARTIFACTS, launchBrowser, phone, seriousViolations, startFakeTelegram, startRelais } from "./harness.mjs";

let telegram;
let relais;
let browser;

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
  await page.screenshot({ path: join(ARTIFACTS, `webchat-${name}.png`), fullPage: true });
}

async function write(page, text) {
  await page.fill("#message", text);
  await page.click("#send button[type=submit]");
}

test("ten new chats: each first message gets the bot's answer, and shows as sent", async () => {
  for (let i = 0; i < 10; i++) {
    const { context, page, problems } = await phone(browser);
    await page.goto(`${relais.base}/chat`);
    await write(page, `Bonjour, je m'emporte contre ma compagne et je voudrais que ça s'arrête (${i})`);
    await page.locator("#log li.line").first().waitFor({ timeout: 10000 });
    await page.locator("#log li.you .status").waitFor({ state: "detached", timeout: 10000 });
    if (i === 0) {
      assert.deepEqual(await seriousViolations(page), [], "axe-core on the web chat");
      await shot(page, "first-answer");
    }
    assert.deepEqual(problems, [], `chat ${i}: no error in the page`);
    await context.close();
  }
});

test("a message written offline shows not sent, then goes once when the network returns", async () => {
  const { context, page } = await phone(browser);
  await page.goto(`${relais.base}/chat`);
  await write(page, "bonjour");
  await page.locator("#log li.line").first().waitFor({ timeout: 10000 });
  await context.setOffline(true);
  await write(page, "Message écrit hors ligne");
  await page.locator("#log li.you .status", { hasText: "Non envoyé" }).waitFor({ timeout: 15000 });
  await shot(page, "offline-not-sent");
  await context.setOffline(false);
  // Retried when the page is back online (or by the ten-second retry).
  await page.locator("#log li.you .status").waitFor({ state: "detached", timeout: 20000 });
  await page.reload();
  const mine = page.locator("#log li.you", { hasText: "Message écrit hors ligne" });
  await mine.first().waitFor({ timeout: 10000 });
  assert.equal(await mine.count(), 1, "stored once, whatever the retries");
  await context.close();
});

test("old buttons are disabled, the language switch says nothing, quick exit leaves no trace in the history", async () => {
  const { context, page } = await phone(browser);
  await context.route("https://www.google.fr/**", (route) =>
    route.fulfill({ status: 200, contentType: "text/html", body: "<!doctype html><title>Neutre</title><p>Page neutre</p>" }),
  );
  await page.goto(`${relais.base}/chat`);
  await write(page, "bonjour");
  const choice = page.locator("#log li.line .choices button").first();
  await choice.waitFor({ timeout: 10000 });
  await choice.click();
  assert.equal(await choice.isDisabled(), true, "a button pressed no longer applies");
  // The next answer of the line arrives; every button before it is disabled.
  await page.locator("#log li.line").nth(1).waitFor({ timeout: 10000 });
  const earlier = page.locator("#log li.line").first().locator(".choices button:enabled");
  assert.equal(await earlier.count(), 0);

  const mine = await page.locator("#log li.you").count();
  await page.click("#lang");
  assert.equal(await page.textContent("#exit"), "Quick exit");
  await page.waitForTimeout(1500);
  assert.equal(await page.locator("#log li.you").count(), mine, "switching language posts no visible message");
  await shot(page, "english");

  await page.click("#exit");
  await page.waitForURL("https://www.google.fr/**");
  await page.goBack().catch(() => undefined);
  assert.ok(!page.url().includes("/chat"), `back does not return to the chat: ${page.url()}`);
  await context.close();
});
