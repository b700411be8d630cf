// The console's start page against a large job store, timed inside Debian's headless Chromium.
// Started by benches/console.rs (`cargo bench --bench console`), which loads the jobs and runs
// `pricing api`. Every time is measured by the page's own clock (performance.now(), whose origin
// is the navigation's start) up to the first frame painted after the rows are in the DOM.
// Prints one line `figures {json}`.
//
// Environment: BASE_URL, OP_KEY, PARTNER_KEY, MODEL (a model file to upload), RUNS.

import { readFileSync } from "node:fs";
import { chromium } from "playwright-core";

const env = (name) => {
  const v = process.env[name];
  if (!v) throw new Error(`${name} is not set`);
  return v;
};
const BASE = env("BASE_URL");
const RUNS = Number(process.env.RUNS || "20");
const model = readFileSync(env("MODEL"));
const PAGE_ROWS = 50;

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || "/usr/bin/chromium",
  args: ["--no-sandbox", "--disable-dev-shm-usage"],
});
const context = await browser.newContext({ viewport: { width: 1360, height: 860 } });
// Before any of the console's scripts: note when 50 rows are first in the table, then when the
// frame that shows them has been painted (a task queued from requestAnimationFrame runs after it).
await context.addInitScript((rows) => {
  const painted = (then) => requestAnimationFrame(() => {
    const ch = new MessageChannel();
    ch.port1.onmessage = () => then(performance.now());
    ch.port2.postMessage(0);
  });
  window.__painted = painted;
  new MutationObserver((_, obs) => {
    if (document.querySelectorAll("#jobs tr[data-id]").length >= rows) {
      obs.disconnect();
      painted((t) => { window.__firstRows = t; });
    }
  }).observe(document, { childList: true, subtree: true });
}, PAGE_ROWS);
const page = await context.newPage();
const errors = [];
page.on("pageerror", (e) => errors.push(e.message));

// Sign in once; the session cookie serves every later navigation.
await page.goto(BASE + "/console");
await page.locator("#key").fill(env("OP_KEY"));
await page.keyboard.press("Enter");
await page.locator("#who").filter({ hasText: "operator:" }).waitFor({ timeout: 10000 });

// In the page: click `button`, wait until page `want` with 50 new rows is on screen, return ms.
const turn = (button, want) => page.evaluate(([button, want, rows]) => new Promise((resolve) => {
  const first = () => document.querySelector("#jobs tr[data-id]")?.dataset.id;
  const before = first();
  const t0 = performance.now();
  const obs = new MutationObserver(() => {
    if (document.body.dataset.page === want && first() !== before
        && document.querySelectorAll("#jobs tr[data-id]").length >= rows) {
      obs.disconnect();
      window.__painted((t) => resolve(t - t0));
    }
  });
  obs.observe(document.body, { childList: true, subtree: true, attributes: true });
  document.getElementById(button).click();
}), [button, want, PAGE_ROWS]);

// In the page: tick the status box `status`, wait for a first page of rows all in it.
const filter = (status) => page.evaluate(([status]) => new Promise((resolve) => {
  const t0 = performance.now();
  const done = () => {
    const rows = [...document.querySelectorAll("#jobs tr[data-id]")];
    return rows.length > 0 && document.body.dataset.page === "0" && rows.every((r) => r.dataset.status === status);
  };
  const obs = new MutationObserver(() => {
    if (done()) { obs.disconnect(); window.__painted((t) => resolve(t - t0)); }
  });
  obs.observe(document.body, { childList: true, subtree: true, attributes: true });
  const box = document.querySelector(`input[type=checkbox][value="${status}"]`);
  box.checked = true;
  box.dispatchEvent(new Event("change"));
}), [status]);

const first = [];
const next = [];
const back = [];
const filtered = [];
for (let i = 0; i < RUNS; i++) {
  // From a blank page, so every run is a whole navigation (a hash change alone would not be).
  await page.goto("about:blank");
  await page.goto(BASE + "/console#/");
  await page.waitForFunction(() => window.__firstRows !== undefined, null, { timeout: 10000 });
  first.push(await page.evaluate(() => window.__firstRows));
  next.push(await turn("next", "1"));
  next.push(await turn("next", "2"));
  back.push(await turn("prev", "1"));
  filtered.push(await filter(["QUEUED", "FAILED", "REJECTED"][i % 3]));
}

// Another client uploads; the open console shows the new row (measured by wall clock, the
// upload's start in this process to the row painted in the page).
await page.goto("about:blank");
await page.goto(BASE + "/console#/");
await page.waitForFunction(() => window.__firstRows !== undefined, null, { timeout: 10000 });
const live = [];
for (let i = 0; i < Math.min(RUNS, 10); i++) {
  await page.evaluate(() => {
    const seen = new Set([...document.querySelectorAll("#jobs tr[data-id]")].map((r) => r.dataset.id));
    window.__newRow = new Promise((resolve) => {
      const obs = new MutationObserver(() => {
        const fresh = [...document.querySelectorAll("#jobs tr[data-id]")].find((r) => !seen.has(r.dataset.id));
        if (fresh) { obs.disconnect(); window.__painted(() => resolve({ at: Date.now(), id: fresh.dataset.id })); }
      });
      obs.observe(document.getElementById("jobs"), { childList: true });
    });
  });
  const t0 = Date.now();
  const resp = await fetch(`${BASE}/v1/jobs?partner_ref=perf-${i}-${t0}`, {
    method: "POST",
    headers: { Authorization: `Bearer ${env("PARTNER_KEY")}`, "Content-Type": "application/octet-stream" },
    body: model,
  });
  if (resp.status !== 202) throw new Error(`upload: ${resp.status} ${await resp.text()}`);
  const accepted = await resp.json();
  const seen = await page.evaluate(() => window.__newRow);
  if (seen.id !== accepted.id) throw new Error(`a different row appeared: ${seen.id} != ${accepted.id}`);
  live.push(seen.at - t0);
}

await browser.close();
if (errors.length) throw new Error(`script errors: ${errors.join("; ")}`);
console.log("figures " + JSON.stringify({ first, next, back, filtered, live }));
