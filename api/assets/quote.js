// The customer's quote page: pick or drop a model → the instant estimate (price range per alloy
// and ETA, from the file's box) while the upload runs → live progress → the quote per alloy with
// its line items and what the customer can do about each warning. The page holds no key: the
// server answers it as the website (`serve --open`), or with the console session if one is open.
"use strict";

(() => {
  const { el, clear, api, seconds, count } = window.Dom;
  const ALLOYS = [
    ["au750y", "18 ct yellow gold"],
    ["au585w", "14 ct white gold"],
    ["ag925", "Sterling silver"],
    ["pt950", "Platinum 950"],
  ];
  const STAGES = {
    SUBMITTED: "Received; checking the file…",
    QUEUED: "Waiting for a pricing worker…",
    CALCULATING: "Measuring and pricing your model…",
    PRICE_CALCULATED: "Your quote is ready.",
    REJECTED: "We cannot price this model as it is.",
    FAILED: "Pricing failed; our operators have been told.",
  };
  // The estimate answers with codes; the customer reads the names the checkboxes show.
  const ALLOY_NAMES = new Map(ALLOYS);
  const $ = (id) => document.getElementById(id);
  let csrf = null;
  let events = null;

  for (const [code, name] of ALLOYS) {
    $("alloys").append(el("label", {}, el("input", { type: "checkbox", value: code, checked: code === "au750y" || code === "ag925" }), " ", name));
  }

  // A console session in the same browser needs its CSRF token on uploads too.
  api("GET", "/v1/session").then((s) => { csrf = s.csrf_token; }, () => {});

  function params() {
    const q = new URLSearchParams();
    const alloys = [...document.querySelectorAll("#alloys input:checked")].map((i) => i.value);
    if (alloys.length) q.set("alloys", alloys.join(","));
    if ($("units").value) q.set("units", $("units").value);
    return q.toString();
  }

  function reasons(list) {
    if (!list || !list.length) return null;
    return el("ul", { class: "reasons" }, list.map((r) => el("li", { class: r.severity }, r.message)));
  }

  function showEstimate(e) {
    $("estimate").hidden = false;
    $("estimate-facts").textContent =
      `${e.format}, ${count(e.triangles)} triangles, read in ${e.units}${e.units_inferred ? " (guessed)" : ""} · ` +
      `ready in about ${seconds(e.eta.seconds)}`;
    clear($("estimate-alloys")).append(...e.prices.map((p) => el("div", { class: "card", "data-alloy": p.alloy },
      el("h3", {}, ALLOY_NAMES.get(p.alloy) || p.alloy),
      el("p", { class: "price" }, p.low && p.high ? `${p.low} – ${p.high} ${p.currency}` : "not priceable"),
      reasons(p.reasons))));
  }

  function showQuote(job) {
    $("quote").hidden = false;
    const alloys = (job.quote && job.quote.alloys) || [];
    clear($("quote-alloys")).append(...alloys.map((a) => el("div", { class: "card", "data-alloy": a.alloy },
      el("h3", {}, a.name || a.alloy),
      el("p", { class: "price total" }, a.total ? `${a.total} ${a.currency}` : "not priced"),
      a.weight_g ? el("p", { class: "muted" }, `${a.weight_g} g of metal`) : null,
      a.lines && a.lines.length ? el("table", {}, el("tbody", {}, a.lines.map((l) => el("tr", {},
        el("td", {}, l.kind.replace(/_/g, " ")), el("td", { class: "muted" }, l.detail), el("td", { class: "num" }, l.amount))))) : null,
      reasons(a.reasons))));
  }

  function follow(id) {
    if (events) events.close();
    events = new EventSource(`/v1/jobs/${id}/events`);
    events.addEventListener("status", (ev) => {
      let job;
      try { job = JSON.parse(ev.data); } catch (_) { return; }
      $("stage").textContent = STAGES[job.status] || job.status;
      document.body.dataset.status = job.status;
      if (job.status === "PRICE_CALCULATED") showQuote(job);
      if (job.status === "REJECTED" || job.status === "FAILED") {
        $("error").textContent = job.error ? job.error.message : STAGES[job.status];
        if (job.quote) showQuote(job);
      }
      if (["PRICE_CALCULATED", "REJECTED", "FAILED"].includes(job.status)) events.close();
    });
  }

  function upload(file, query) {
    return new Promise((resolve, reject) => {
      const xhr = new XMLHttpRequest();
      xhr.open("POST", "/v1/jobs?" + query);
      xhr.setRequestHeader("Content-Type", "application/octet-stream");
      // A retried upload (flaky network) is the same job, not a second one.
      xhr.setRequestHeader("Idempotency-Key", crypto.randomUUID());
      if (csrf) xhr.setRequestHeader("X-CSRF-Token", csrf);
      xhr.upload.addEventListener("progress", (ev) => {
        if (ev.lengthComputable) $("upload-bar").value = Math.round((100 * ev.loaded) / ev.total);
      });
      xhr.addEventListener("load", () => {
        let body = null;
        try { body = JSON.parse(xhr.responseText); } catch (_) { body = null; }
        if (xhr.status >= 200 && xhr.status < 300) resolve(body);
        else reject(new window.Dom.ApiError(xhr.status, body));
      });
      xhr.addEventListener("error", () => reject(new Error("The upload was interrupted; try again.")));
      xhr.send(file);
    });
  }

  async function start(file) {
    $("error").textContent = "";
    $("quote").hidden = true;
    $("estimate").hidden = true;
    $("progress").hidden = false;
    $("file-name").textContent = file.name;
    $("upload-bar").value = 0;
    $("stage").textContent = `Uploading ${(file.size / 1048576).toFixed(1)} MB…`;
    delete document.body.dataset.status;
    const query = params();
    const headers = csrf ? { "X-CSRF-Token": csrf } : {};
    // The estimate and the upload run side by side; the estimate usually lands first.
    const estimate = api("POST", "/v1/estimate?" + query, { body: file, headers })
      .then(showEstimate, (e) => { $("error").textContent = e.message; });
    try {
      const accepted = await upload(file, query);
      $("upload-bar").value = 100;
      $("stage").textContent = STAGES[accepted.status] || accepted.status;
      follow(accepted.id);
    } catch (e) {
      await estimate;
      $("error").textContent = e.message;
      $("stage").textContent = "Not accepted.";
    }
  }

  $("file").addEventListener("change", (ev) => { if (ev.target.files[0]) start(ev.target.files[0]); });
  const drop = $("drop");
  drop.addEventListener("dragover", (ev) => { ev.preventDefault(); drop.classList.add("over"); });
  drop.addEventListener("dragleave", () => drop.classList.remove("over"));
  drop.addEventListener("drop", (ev) => {
    ev.preventDefault();
    drop.classList.remove("over");
    if (ev.dataTransfer.files[0]) start(ev.dataTransfer.files[0]);
  });
})();
