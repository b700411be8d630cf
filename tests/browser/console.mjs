// The operators' console and the quote page in a real headless Chromium (Debian's), driven by
// playwright-core. Started by tests/console_browser.rs against the cluster roles it runs; every
// scenario asserts what a user would see. Prints one line per scenario and exits non-zero on the
// first failure.
//
// Environment: BASE_URL, OP1_KEY, OP2_KEY, PARTNER_KEY (tenant NASTY_TENANT), FAILED_JOB (a FAILED
// job whose model is readable again), FIXTURES (folder of models), SHOTS_DIR (screenshots).

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { chromium } from "playwright-core";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const BASE = env("BASE_URL");
const OP1 = env("OP1_KEY");
const OP2 = env("OP2_KEY");
const PARTNER = env("PARTNER_KEY");
const NASTY_TENANT = env("NASTY_TENANT");
const FAILED_JOB = env("FAILED_JOB");
const FIXTURES = env("FIXTURES");
const SHOTS = env("SHOTS_DIR");
const NASTY_REF = `<script>alert("ref")</script>'"&amp;`;

const box = readFileSync(join(FIXTURES, "box.stl"));
const ring = readFileSync(join(FIXTURES, "torus_ring.stl"));

async function apiCall(method, path, key, body, headers) {
  const resp = await fetch(BASE + path, {
    method,
    headers: Object.assign({ Authorization: `Bearer ${key}` }, headers || {}),
    body,
  });
  const text = await resp.text();
  return { status: resp.status, json: text ? JSON.parse(text) : null };
}

async function upload(key, bytes, ref) {
  const q = ref ? `?partner_ref=${encodeURIComponent(ref)}` : "";
  const r = await apiCall("POST", "/v1/jobs" + q, key, bytes, { "Content-Type": "application/octet-stream" });
  assert.equal(r.status, 202, JSON.stringify(r.json));
  return r.json;
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
const problems = []; // dialogs and CSP violations: any is a failure
const figures = {};

async function newPage() {
  const context = await browser.newContext({ viewport: { width: 1360, height: 860 } });
  const page = await context.newPage();
  page.on("dialog", async (d) => { problems.push(`dialog: ${d.message()}`); await d.dismiss(); });
  page.on("console", (m) => {
    if (m.type() === "error" && /Content.Security.Policy|Refused to/i.test(m.text())) problems.push(`csp: ${m.text()}`);
  });
  page.on("pageerror", (e) => problems.push(`script error: ${e.message}`));
  return page;
}

async function signIn(page, key) {
  await page.goto(BASE + "/console");
  await page.locator("#key").waitFor();
  // Keyboard only: the form focuses the key field; type and press Enter.
  await page.keyboard.type(key);
  await page.keyboard.press("Enter");
  await page.locator("#who").filter({ hasText: "operator:" }).waitFor({ timeout: 5000 });
}

async function toast(page, text) {
  await page.locator("#toast p", { hasText: text }).first().waitFor({ timeout: 5000 });
}

// Screenshots show the page, not the last minute's notices.
async function shot(page, name, fullPage) {
  await page.waitForFunction(() => !document.querySelector("#toast p"), null, { timeout: 10000 });
  await page.screenshot({ path: join(SHOTS, name), fullPage: !!fullPage });
}

async function rowIds(page) {
  return page.locator("#jobs tr[data-id]").evaluateAll((rows) => rows.map((r) => r.dataset.id));
}

async function waitForTable(page) {
  await page.waitForFunction(() => document.body.dataset.page !== undefined);
}

const scenarios = [];
const scenario = (name, fn) => scenarios.push([name, fn]);

const a = await newPage();
const b = await newPage();

scenario("sign in and out; the key is nowhere in the page", async () => {
  await a.goto(BASE + "/console");
  await a.locator("#key").fill("alx_wrong");
  await a.locator("#sign-in-form button").click();
  await a.locator("#sign-in-error").filter({ hasText: "key" }).waitFor();
  await a.locator("#key").fill("");
  await signIn(a, OP1);
  const leaks = await a.evaluate((key) => ({
    cookie: document.cookie,
    local: JSON.stringify(localStorage),
    session: JSON.stringify(sessionStorage),
    url: location.href,
    html: document.documentElement.outerHTML.includes(key),
  }), OP1);
  assert.equal(leaks.cookie, "", "the session cookie is HttpOnly");
  assert.equal(leaks.local, "{}");
  assert.equal(leaks.session, "{}");
  assert.ok(!leaks.url.includes(OP1));
  assert.equal(leaks.html, false, "the key is not in the DOM");
  await a.locator("#sign-out").click();
  await a.locator("#sign-in").waitFor({ state: "visible" });
  const after = await a.evaluate(async () => (await fetch("/v1/session")).status);
  assert.equal(after, 401, "signed out on the server too");
  await signIn(a, OP1);
  await signIn(b, OP2);
});

let liveJob;
scenario("a job uploaded over HTTP appears live and moves to PRICE_CALCULATED on screen", async () => {
  await a.goto(BASE + "/console#/");
  await waitForTable(a);
  const t0 = Date.now();
  const accepted = await upload(PARTNER, ring, NASTY_REF);
  liveJob = accepted.id;
  const row = a.locator(`#jobs tr[data-id="${liveJob}"]`);
  await row.waitFor({ timeout: 5000 });
  figures.live_row_ms = Date.now() - t0;
  await a.locator(`#jobs tr[data-id="${liveJob}"][data-status="PRICE_CALCULATED"]`).waitFor({ timeout: 60000 });
  figures.live_priced_ms = Date.now() - t0;
  // Hostile text stays text.
  assert.equal(await row.locator(".ref").textContent(), NASTY_REF);
  assert.equal(await row.locator("td").nth(1).textContent(), NASTY_TENANT);
  assert.match(await row.locator(".total").textContent(), /EUR/);
  assert.equal(await a.locator("script").count(), 2, "no script element was injected");
});

scenario("two operators take the same job: one wins, the other sees who", async () => {
  const job = (await upload(PARTNER, box, "take-race")).id;
  for (const p of [a, b]) {
    await p.goto(BASE + "/console#/");
    await p.locator(`#jobs tr[data-id="${job}"] button.take`).waitFor({ timeout: 10000 });
  }
  // Both click at once (as two people would); the store lets exactly one win.
  const click = (p) => p.evaluate((id) => document.querySelector(`#jobs tr[data-id="${id}"] button.take`).click(), job);
  await Promise.all([click(a), click(b)]);
  const won = async (p) => {
    await p.locator("#toast p").first().waitFor({ timeout: 5000 });
    return (await p.locator("#toast p").allTextContents()).join(" | ");
  };
  const [ta, tb] = await Promise.all([won(a), won(b)]);
  const winners = [ta, tb].filter((t) => t.includes("You took the job."));
  assert.equal(winners.length, 1, `exactly one wins: A "${ta}" B "${tb}"`);
  const [winner, loser, loserText] = ta.includes("You took") ? [a, b, tb] : [b, a, ta];
  const winnerActor = (await winner.locator("#who").textContent()).split(" ")[0];
  assert.ok(loserText.includes(`Already taken by ${winnerActor}`), loserText);
  await loser.locator(`#jobs tr[data-id="${job}"] .holder`, { hasText: winnerActor }).waitFor({ timeout: 2000 });
  assert.equal(await loser.locator(`#jobs tr[data-id="${job}"] button.take`).count(), 0);
  // The holder releases; the other console shows it free again, live.
  await winner.locator(`#jobs tr[data-id="${job}"] button.release`).click();
  await loser.locator(`#jobs tr[data-id="${job}"] button.take`).waitFor({ timeout: 2000 });
});

scenario("filters and paging show what the API answers", async () => {
  // Enough jobs for two pages (identical models: answered from the quote cache at once).
  for (let i = 0; i < 56; i++) await upload(PARTNER, box, `page-${i}`);
  await a.goto(BASE + "/console#/");
  await a.reload();
  await waitForTable(a);
  const api = async (q) => (await apiCall("GET", "/v1/jobs?" + q, OP1)).json;
  const page1 = await api("limit=50");
  await a.waitForFunction((n) => document.querySelectorAll("#jobs tr[data-id]").length === n, page1.jobs.length);
  assert.deepEqual(await rowIds(a), page1.jobs.map((j) => j.id));
  await a.locator("#next").click();
  await a.waitForFunction(() => document.body.dataset.page === "1");
  const page2 = await api(`limit=50&cursor=${page1.next_cursor}`);
  assert.deepEqual(await rowIds(a), page2.jobs.map((j) => j.id));
  await a.locator("#prev").click();
  await a.waitForFunction(() => document.body.dataset.page === "0");
  assert.deepEqual(await rowIds(a), page1.jobs.map((j) => j.id));

  await a.locator('input[value="FAILED"]').check();
  await a.locator('input[value="REJECTED"]').check();
  await a.waitForTimeout(300);
  const failedOrRejected = await api("status=FAILED,REJECTED&limit=50");
  assert.deepEqual(await rowIds(a), failedOrRejected.jobs.map((j) => j.id));
  assert.ok((await rowIds(a)).includes(FAILED_JOB));
  await a.locator('input[value="FAILED"]').uncheck();
  await a.locator('input[value="REJECTED"]').uncheck();

  await a.locator("#tenant").fill(NASTY_TENANT);
  await a.locator("#tenant").press("Enter");
  await a.waitForTimeout(300);
  const ofTenant = await api(`tenant=${encodeURIComponent(NASTY_TENANT)}&limit=50`);
  assert.deepEqual(await rowIds(a), ofTenant.jobs.map((j) => j.id));
  await a.locator("#tenant").fill("");
  await a.locator("#tenant").press("Enter");

  await a.locator("#mine").check();
  await a.waitForTimeout(300);
  const mine = await api("claimed_by=me&limit=50");
  assert.deepEqual(await rowIds(a), mine.jobs.map((j) => j.id));
  await a.locator("#mine").uncheck();
  await a.waitForTimeout(300);
});

scenario("keyboard only: take a job and open its page", async () => {
  await a.goto(BASE + "/console#/");
  await a.reload();
  await a.locator("#jobs button.take").first().waitFor();
  await a.locator("#toast p").first().waitFor({ state: "detached", timeout: 10000 }).catch(() => {});
  assert.equal(await a.locator("#toast p").count(), 0, "no earlier toast left");
  let found = false;
  for (let i = 0; i < 80 && !found; i++) {
    await a.keyboard.press("Tab");
    found = await a.evaluate(() => document.activeElement && document.activeElement.matches("button.take"));
  }
  assert.ok(found, "a Take button is reachable with Tab");
  const id = await a.evaluate(() => document.activeElement.closest("tr").dataset.id);
  await a.keyboard.press("Enter");
  await toast(a, "You took the job.");
  await a.locator(`#jobs tr[data-id="${id}"] button.release`).waitFor();
  await a.locator(`#jobs tr[data-id="${id}"] a.open`).focus();
  await a.keyboard.press("Enter");
  await a.locator("#job-status").waitFor();
  assert.equal(new URL(a.url()).hash, `#/jobs/${id}`);
});

scenario("a failed job is retried from the queues page and gets priced", async () => {
  await a.goto(BASE + "/console#/queues");
  const row = a.locator(`#failed tr[data-id="${FAILED_JOB}"]`);
  await row.waitFor({ timeout: 10000 });
  assert.match(await row.textContent(), /blob|model|retries/i);
  await shot(a, "console-queues.png");
  await row.locator("button.retry").click();
  await toast(a, "Queued again.");
  await a.goto(BASE + `/console#/jobs/${FAILED_JOB}`);
  await a.locator("#job-status", { hasText: "PRICE_CALCULATED" }).waitFor({ timeout: 60000 });
  const history = await a.locator("#history").textContent();
  assert.ok(history.includes("FAILED") && history.includes("operator retry"), history);
});

scenario("a job's page shows the quote, history and messages", async () => {
  await a.goto(BASE + `/console#/jobs/${liveJob}`);
  await a.locator("#job-status", { hasText: "PRICE_CALCULATED" }).waitFor();
  const messages = await a.locator("#messages tbody tr").count();
  assert.ok(messages >= 2, `run and result messages listed (${messages})`);
  assert.match(await a.locator("#messages").textContent(), /crm/);
  assert.match(await a.locator(".alloy .price").first().textContent(), /EUR/);
  assert.ok((await a.locator("main").textContent()).includes(NASTY_REF));
  await shot(a, "console-job.png", true);
  await a.goto(BASE + "/console#/");
  await waitForTable(a);
  await shot(a, "console.png");
  await a.goto(BASE + "/console#/eta");
  await a.waitForFunction(() => [...document.images].every((i) => i.complete && i.naturalWidth > 0));
  await shot(a, "console-eta.png");
});

scenario("the quote page: from file to quote, estimate first", async () => {
  const c = await newPage();
  await c.goto(BASE + "/");
  await c.evaluate(() => {
    window.seen = {};
    new MutationObserver(() => {
      const now = performance.now();
      if (!document.getElementById("estimate").hidden && !window.seen.estimate) window.seen.estimate = now;
      if (document.body.dataset.status === "PRICE_CALCULATED" && !window.seen.final) window.seen.final = now;
    }).observe(document.body, { subtree: true, attributes: true, childList: true });
  });
  const name = `<img src=x onerror=alert("file")>.stl`;
  await c.locator("#file").setInputFiles({ name, mimeType: "model/stl", buffer: ring });
  await c.locator("#estimate-alloys .price").first().waitFor({ timeout: 10000 });
  assert.match(await c.locator("#estimate-alloys .price").first().textContent(), /EUR/);
  // The customer reads alloy names, as on the checkboxes, not codes.
  assert.equal(await c.locator('#estimate-alloys [data-alloy="au750y"] h3').textContent(), "18 ct yellow gold");
  await c.waitForFunction(() => document.body.dataset.status === "PRICE_CALCULATED", null, { timeout: 60000 });
  assert.equal(await c.locator("#file-name").textContent(), name);
  const totals = await c.locator("#quote-alloys .total").allTextContents();
  assert.equal(totals.length, 2, "one quote per chosen alloy");
  for (const t of totals) assert.match(t, /^\d+\.\d\d EUR$/);
  assert.ok((await c.locator("#quote-alloys td").count()) > 4, "line items");
  const seen = await c.evaluate(() => window.seen);
  assert.ok(seen.estimate <= seen.final, `estimate before the quote: ${JSON.stringify(seen)}`);
  await c.screenshot({ path: join(SHOTS, "quote.png"), fullPage: true });
  await c.context().close();
});

let failed = false;
for (const [name, fn] of scenarios) {
  try {
    await fn();
    console.log(`ok - ${name}`);
  } catch (e) {
    console.log(`FAILED - ${name}\n${e.stack || e}\n${problems.join("\n")}`);
    failed = true;
    break;
  }
}
if (!failed && problems.length) {
  console.log(`FAILED - no dialogs, CSP violations or script errors\n${problems.join("\n")}`);
  failed = true;
}
console.log(`figures ${JSON.stringify(figures)}`);
await browser.close();
process.exit(failed ? 1 : 0);
