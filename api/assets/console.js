// The operators' console: sign-in, the start page (newest jobs, filters, paging, live changes,
// taking jobs), a job's page, queues and workers, and the ETA-truth chart. Everything shown comes
// from the JSON API with the session cookie; the CSRF token lives in this script's memory only.
"use strict";

(() => {
  const { el, append, clear, api, seconds, since, time, count } = window.Dom;
  const STATUSES = ["SUBMITTED", "QUEUED", "CALCULATING", "PRICE_CALCULATED", "REJECTED", "FAILED"];
  const FINAL = new Set(["PRICE_CALCULATED", "REJECTED", "FAILED"]);
  const PAGE = 50;

  const state = {
    me: null, // {role, tenant, actor, csrf_token, expires_at}
    filters: { statuses: [], tenant: "", mine: false },
    cursors: [null], // cursors[i] opens page i
    page: 0,
    stale: false, // live rows pushed older ones off the first page
    rows: new Map(), // job id -> <tr> on the start page
    feed: null,
    timers: [],
    renders: 0, // a page that loaded after a newer render started shows nothing
  };

  const $ = (id) => document.getElementById(id);
  const view = $("view");

  function toast(text, isError) {
    const p = el("p", { class: isError ? "error" : "" }, text);
    $("toast").append(p);
    setTimeout(() => p.remove(), 6000);
  }

  // ---- session -------------------------------------------------------------------------------

  async function boot() {
    try {
      state.me = await api("GET", "/v1/session");
    } catch (_) {
      state.me = null;
    }
    render();
  }

  $("sign-in-form").addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const input = $("key");
    $("sign-in-error").textContent = "";
    try {
      state.me = await api("POST", "/v1/session", { body: { key: input.value } });
      input.value = "";
      render();
      $("main").focus();
    } catch (e) {
      input.value = "";
      $("sign-in-error").textContent = e.message;
    }
  });

  $("sign-out").addEventListener("click", async () => {
    try {
      await api("DELETE", "/v1/session", { csrf: state.me && state.me.csrf_token });
    } catch (e) {
      toast(e.message, true);
    }
    signedOut();
  });

  function signedOut() {
    state.me = null;
    if (state.feed) state.feed.close();
    state.feed = null;
    render();
  }

  // Every call the console makes; a 401 means the session ended (expired, signed out elsewhere,
  // key revoked): back to the sign-in form.
  async function call(method, path, opts) {
    try {
      return await api(method, path, Object.assign({ csrf: state.me && state.me.csrf_token }, opts || {}));
    } catch (e) {
      if (e.status === 401) {
        signedOut();
        $("sign-in-error").textContent = "Your session ended; sign in again.";
      }
      throw e;
    }
  }

  // ---- routing -------------------------------------------------------------------------------

  window.addEventListener("hashchange", render);

  function render() {
    state.renders += 1;
    for (const t of state.timers) clearInterval(t);
    state.timers = [];
    const signed = !!state.me;
    $("sign-in").hidden = signed;
    $("nav").hidden = !signed;
    $("sign-out").hidden = !signed;
    $("who").textContent = signed ? `${state.me.actor} (${state.me.role})` : "";
    clear(view);
    state.rows.clear();
    if (!signed) {
      $("key").focus();
      return;
    }
    openFeed();
    const hash = location.hash || "#/";
    const job = hash.match(/^#\/jobs\/([0-9a-f-]{36})$/);
    const name = job ? "job" : hash === "#/queues" ? "queues" : hash === "#/eta" ? "eta" : "jobs";
    for (const a of document.querySelectorAll("#nav a")) {
      if (a.dataset.view === name) a.setAttribute("aria-current", "page");
      else a.removeAttribute("aria-current");
    }
    if (job) jobPage(job[1]);
    else if (name === "queues") queuesPage();
    else if (name === "eta") etaPage();
    else jobsPage();
  }

  // ---- the live feed -------------------------------------------------------------------------

  const listeners = new Set();

  function openFeed() {
    if (state.feed) return;
    // EventSource resumes with Last-Event-ID by itself after a dropped connection.
    const es = new EventSource("/v1/changes");
    es.addEventListener("change", (ev) => {
      let change;
      try { change = JSON.parse(ev.data); } catch (_) { return; }
      for (const fn of listeners) fn(change);
    });
    es.addEventListener("error", () => {
      if (es.readyState === EventSource.CLOSED) {
        state.feed = null;
        // Closed for good (e.g. the session ended): check the session, reopen if still live.
        setTimeout(() => { if (state.me) boot(); }, 2000);
      }
    });
    state.feed = es;
  }

  function onChange(fn) {
    listeners.clear();
    listeners.add(fn);
  }

  // ---- the start page ------------------------------------------------------------------------

  function query(cursor) {
    const q = new URLSearchParams();
    if (state.filters.statuses.length) q.set("status", state.filters.statuses.join(","));
    if (state.filters.tenant) q.set("tenant", state.filters.tenant);
    if (state.filters.mine) q.set("claimed_by", "me");
    q.set("limit", String(PAGE));
    if (cursor) q.set("cursor", cursor);
    return "/v1/jobs?" + q.toString();
  }

  function matches(job) {
    const f = state.filters;
    if (f.statuses.length && !f.statuses.includes(job.status)) return false;
    if (f.tenant && job.tenant !== f.tenant) return false;
    if (f.mine && job.claimed_by !== state.me.actor) return false;
    return true;
  }

  function total(job) {
    const alloys = job.quote && job.quote.alloys;
    if (!alloys || !alloys.length) return "—";
    const a = alloys[0];
    return a.total ? `${a.total} ${a.currency || ""}`.trim() : a.status || "—";
  }

  function timing(job) {
    if (FINAL.has(job.status) && job.finished_at) {
      return "took " + seconds((Date.parse(job.finished_at) - Date.parse(job.created_at)) / 1000);
    }
    if (job.eta && job.eta.at) {
      const left = (Date.parse(job.eta.at) - Date.now()) / 1000;
      return left > 0 ? "ETA " + seconds(left) : "due " + seconds(-left) + " ago";
    }
    return "—";
  }

  function takeButton(job) {
    if (!job.claimed_by) {
      return el("button", { type: "button", class: "take", on: { click: () => take(job.id) } }, "Take");
    }
    if (job.claimed_by === state.me.actor) {
      return el("button", { type: "button", class: "secondary release", on: { click: () => release(job.id) } }, "Release");
    }
    return null;
  }

  function jobRow(job, fresh) {
    const tr = el("tr", { "data-id": job.id, "data-status": job.status, class: fresh ? "fresh" : "" },
      el("td", { class: "age", title: time(job.created_at) }, since(job.created_at)),
      el("td", {}, job.tenant),
      el("td", { class: "ref" }, job.partner_ref || "—"),
      el("td", {}, job.format),
      el("td", { class: "num" }, count(job.triangles)),
      el("td", {}, job.lane),
      el("td", {}, el("span", { class: "status " + job.status }, job.status)),
      el("td", { class: "timing" }, timing(job)),
      el("td", { class: "num total" }, total(job)),
      el("td", { class: "holder" }, job.claimed_by ? (job.claimed_by === state.me.actor ? "me" : job.claimed_by) : "—"),
      el("td", {}, takeButton(job), " ", el("a", { href: "#/jobs/" + job.id, class: "open" }, "Open")),
    );
    tr.job = job;
    return tr;
  }

  // Swaps a row for its new version; keyboard focus inside it stays in the row (on the same
  // control when it still exists, else on the row's first one).
  function replaceRow(old, fresh) {
    const focused = old.contains(document.activeElement) ? document.activeElement : null;
    old.replaceWith(fresh);
    state.rows.set(fresh.dataset.id, fresh);
    if (focused) {
      const same = focused.classList.length ? fresh.querySelector("." + focused.classList[0]) : null;
      const target = same || fresh.querySelector("button, a");
      if (target) target.focus();
    }
  }

  function jobsPage() {
    const f = state.filters;
    const statusBoxes = STATUSES.map((s) =>
      el("label", {}, el("input", {
        type: "checkbox", value: s, checked: f.statuses.includes(s),
        on: { change: (ev) => {
          f.statuses = ev.target.checked ? [...f.statuses, s] : f.statuses.filter((x) => x !== s);
          reset();
        } },
      }), " ", s));
    const tenant = el("input", { type: "text", id: "tenant", value: f.tenant, placeholder: "any", size: 14 });
    tenant.addEventListener("change", () => { f.tenant = tenant.value.trim(); reset(); });
    const mine = el("input", { type: "checkbox", id: "mine", checked: f.mine,
      on: { change: (ev) => { f.mine = ev.target.checked; reset(); } } });
    const body = el("tbody", { id: "jobs" });
    const status = el("span", { class: "muted", id: "page-status" });
    const prev = el("button", { type: "button", class: "secondary", id: "prev", on: { click: () => go(state.page - 1) } }, "← Newer");
    const next = el("button", { type: "button", class: "secondary", id: "next", on: { click: () => go(state.page + 1) } }, "Older →");
    view.append(
      el("h2", {}, "Jobs in work, newest first"),
      el("div", { class: "card filters" },
        el("fieldset", {}, el("legend", {}, "Status"), statusBoxes),
        el("label", { for: "tenant" }, "Tenant "), tenant,
        el("label", {}, mine, " Taken by me")),
      el("table", { "aria-label": "Jobs" },
        el("thead", {}, el("tr", {},
          ["Age", "Tenant", "Reference", "Format", "Triangles", "Lane", "Status", "ETA / time", "Total", "Taken by", ""]
            .map((h) => el("th", { class: h === "Triangles" || h === "Total" ? "num" : "" }, h)))),
        body),
      el("div", { class: "pager" }, prev, next, status),
    );

    function reset() {
      state.cursors = [null];
      go(0);
    }

    async function go(page) {
      if (page < 0 || page >= state.cursors.length) return;
      let list;
      try {
        if (state.stale && page === 1) {
          // Live rows pushed older ones off the first page: its end moved, so ask again.
          const first = await call("GET", query(null));
          state.cursors = first.next_cursor ? [null, first.next_cursor] : [null];
          state.stale = false;
          if (page >= state.cursors.length) return go(0);
        }
        list = await call("GET", query(state.cursors[page]));
      } catch (e) {
        toast(e.message, true);
        return;
      }
      state.page = page;
      if (page === 0) state.stale = false;
      state.cursors.length = page + 1;
      if (list.next_cursor) state.cursors.push(list.next_cursor);
      clear(body);
      state.rows.clear();
      for (const job of list.jobs) {
        const tr = jobRow(job, false);
        state.rows.set(job.id, tr);
        body.append(tr);
      }
      if (!list.jobs.length) body.append(el("tr", {}, el("td", { colspan: 11, class: "muted" }, "No jobs match.")));
      prev.disabled = page === 0;
      next.disabled = !list.next_cursor;
      status.textContent = `Page ${page + 1} · ${list.jobs.length} jobs`;
      // Tests wait for this: the page whose rows are on screen.
      document.body.dataset.page = String(page);
    }

    onChange((change) => {
      const job = change.job;
      const tr = state.rows.get(job.id);
      if (tr) {
        replaceRow(tr, jobRow(job, true));
      } else if (state.page === 0 && change.kind === "status" && change.from_status === null && matches(job)) {
        const placeholder = body.querySelector("td[colspan]");
        if (placeholder) placeholder.parentElement.remove();
        const fresh = jobRow(job, true);
        body.prepend(fresh);
        state.rows.set(job.id, fresh);
        while (body.children.length > PAGE) {
          const last = body.lastElementChild;
          state.rows.delete(last.dataset.id);
          last.remove();
          state.stale = true;
          if (state.cursors.length < 2) state.cursors.push(null);
          next.disabled = false;
        }
      }
    });
    state.timers.push(setInterval(() => {
      for (const tr of state.rows.values()) {
        tr.querySelector(".age").textContent = since(tr.job.created_at);
        tr.querySelector(".timing").textContent = timing(tr.job);
      }
    }, 5000));
    go(state.page < state.cursors.length ? state.page : 0);
  }

  async function take(id) {
    try {
      const job = await call("POST", `/v1/jobs/${id}/claim`);
      updateRow(job);
      toast("You took the job.");
    } catch (e) {
      if (e.code === "claim_conflict") {
        toast(`Already taken by ${e.details && e.details.claimed_by}.`, true);
        try { updateRow(await call("GET", `/v1/jobs/${id}`)); } catch (_) { /* shown by toast */ }
      } else {
        toast(e.message, true);
      }
    }
  }

  async function release(id) {
    try {
      updateRow(await call("DELETE", `/v1/jobs/${id}/claim`));
      toast("Released.");
    } catch (e) {
      toast(e.message, true);
    }
  }

  function updateRow(job) {
    const tr = state.rows.get(job.id);
    if (tr) {
      replaceRow(tr, jobRow(job, false));
    }
    if (location.hash === "#/jobs/" + job.id) render();
  }

  // ---- a job's page --------------------------------------------------------------------------

  function facts(pairs) {
    return el("dl", { class: "facts" }, pairs.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v === null || v === undefined || v === "" ? "—" : v)]));
  }

  function reasons(list) {
    if (!list || !list.length) return el("p", { class: "muted" }, "No warnings.");
    return el("ul", { class: "reasons" }, list.map((r) =>
      el("li", { class: r.severity }, el("strong", {}, `${r.severity}: `), r.message)));
  }

  function quoteCards(quote) {
    if (!quote || !quote.alloys) return [];
    return quote.alloys.map((a) => el("div", { class: "card alloy" },
      el("h3", {}, a.name || a.alloy, " ", el("span", { class: "status" }, a.status)),
      el("p", { class: "price" }, a.total ? `${a.total} ${a.currency}` : "not priced"),
      a.weight_g ? el("p", { class: "muted" }, `${a.weight_g} g`) : null,
      a.lines && a.lines.length ? el("table", {}, el("tbody", {}, a.lines.map((l) =>
        el("tr", {}, el("td", {}, l.kind), el("td", { class: "muted" }, l.detail), el("td", { class: "num" }, `${l.amount}`))))) : null,
      reasons(a.reasons)));
  }

  async function jobPage(id) {
    const mine = state.renders;
    let rec;
    try {
      rec = await call("GET", `/v1/jobs/${id}/record`);
    } catch (e) {
      if (mine === state.renders) view.append(el("p", { class: "error" }, e.message));
      return;
    }
    if (mine !== state.renders) return;
    const job = rec.job;
    const m = job.quote && job.quote.measurements;
    const t = job.quote && job.quote.thickness;
    const actions = el("p", {}, takeButton(job),
      job.status === "FAILED" ? el("button", { type: "button", id: "retry", on: { click: () => retry(job.id) } }, "Retry") : null,
      " ", el("a", { href: "#/" }, "← Jobs"));
    // Dom.append skips the absent parts (the DOM's own append would print "null").
    append(view, [
      el("h2", {}, "Job ", el("code", {}, job.id), " ", el("span", { class: "status " + job.status, id: "job-status" }, job.status)),
      actions,
      el("div", { class: "grid2" },
        el("div", { class: "card" }, el("h3", {}, "Order"), facts([
          ["Tenant", job.tenant], ["Channel", job.channel], ["Reference", job.partner_ref],
          ["Taken by", job.claimed_by], ["Created", time(job.created_at)], ["Started", time(job.started_at)],
          ["Finished", time(job.finished_at)], ["Attempts", job.attempts], ["ETA", timing(job)],
          ["Rules version", rec.rules_version],
        ])),
        el("div", { class: "card" }, el("h3", {}, "Model"), facts([
          ["Format", job.format], ["Triangles", count(job.triangles)], ["Lane", job.lane],
          ["Predicted compute", seconds(job.predicted_seconds)], ["Alloys", job.alloys.join(", ")],
          ["Volume", m ? `${m.volume_mm3.toFixed(1)} mm³` : null], ["Area", m ? `${m.area_mm2.toFixed(1)} mm²` : null],
          ["Shells", m ? m.shells : null], ["Watertight", m ? (m.watertight ? "yes" : "no") : null],
          ["Thinnest wall", t && t.min_mm !== null ? `${t.min_mm.toFixed(2)} mm` : null],
        ]))),
      job.error ? el("div", { class: "card" }, el("h3", {}, "Why"), el("p", { class: "error" }, `${job.error.code}: ${job.error.message}`)) : null,
      el("div", { class: "alloys" }, quoteCards(job.quote)),
      el("h3", {}, "History"),
      el("table", { id: "history" }, el("thead", {}, el("tr", {}, ["When", "From", "To", "By", "Note"].map((h) => el("th", {}, h)))),
        el("tbody", {}, rec.history.map((h) => el("tr", {}, el("td", {}, time(h.at)), el("td", {}, h.from_status || "—"),
          el("td", {}, h.to_status), el("td", {}, h.actor), el("td", {}, h.note || ""))),
        rec.claims.map((c) => el("tr", {}, el("td", {}, time(c.at)), el("td", {}, "—"),
          el("td", {}, c.claimed_by ? "taken" : "released"), el("td", {}, c.actor), el("td", {}, ""))))),
      el("h3", {}, "Messages"),
      el("table", { id: "messages" }, el("thead", {}, el("tr", {}, ["Message id", "To", "Type", "Routing key", "Written", "Sent"].map((h) => el("th", {}, h)))),
        el("tbody", {}, rec.messages.length ? rec.messages.map((msg) => el("tr", {},
          el("td", {}, el("code", {}, msg.message_id || "—")), el("td", {}, msg.destination), el("td", {}, msg.message_type || "—"),
          el("td", {}, msg.routing_key), el("td", {}, time(msg.created_at)), el("td", {}, msg.sent_at ? time(msg.sent_at) : "pending")))
          : el("tr", {}, el("td", { colspan: 6, class: "muted" }, "No messages.")))),
    ]);
    onChange((change) => { if (change.job_id === id) render(); });
  }

  async function retry(id) {
    try {
      await call("POST", `/v1/jobs/${id}/retry`);
      toast("Queued again.");
      render();
    } catch (e) {
      toast(e.message, true);
    }
  }

  // ---- queues and workers --------------------------------------------------------------------

  async function queuesPage() {
    const lanes = el("tbody", {});
    const workers = el("tbody", {});
    const failed = el("tbody", { id: "failed" });
    view.append(
      el("h2", {}, "Queues and workers"),
      el("table", { "aria-label": "Lanes" }, el("thead", {}, el("tr", {},
        ["Lane", "Broker depth", "Queued", "In flight", "Consumers", "Done / min", "Oldest waiting", "Dead letters"].map((h) => el("th", {}, h)))), lanes),
      el("h3", {}, "Workers"),
      el("table", { "aria-label": "Workers" }, el("thead", {}, el("tr", {},
        ["Worker", "Lanes", "Doing", "Last heartbeat"].map((h) => el("th", {}, h)))), workers),
      el("h3", {}, "Failed jobs"),
      el("table", { "aria-label": "Failed jobs" }, el("thead", {}, el("tr", {},
        ["Age", "Tenant", "Reference", "Reason", ""].map((h) => el("th", {}, h)))), failed),
    );
    async function refresh() {
      try {
        const [q, w, f] = await Promise.all([
          call("GET", "/v1/queues"), call("GET", "/v1/workers"), call("GET", "/v1/jobs?status=FAILED&limit=50"),
        ]);
        clear(lanes).append(...q.lanes.map((l) => el("tr", {}, el("td", {}, l.lane), el("td", { class: "num" }, count(l.depth)),
          el("td", { class: "num" }, count(l.queued)), el("td", { class: "num" }, count(l.in_flight)), el("td", { class: "num" }, count(l.consumers)),
          el("td", { class: "num" }, l.throughput_per_minute.toFixed(1)), el("td", {}, seconds(l.oldest_age_seconds)),
          el("td", { class: "num" }, count(l.dead_letters)))));
        clear(workers).append(...(w.workers.length ? w.workers.map((x) => el("tr", {}, el("td", {}, x.worker_id), el("td", {}, x.lanes.join(", ")),
          el("td", {}, x.current_job ? el("a", { href: "#/jobs/" + x.current_job }, x.current_job) : "idle"), el("td", {}, since(x.last_seen) + " ago")))
          : [el("tr", {}, el("td", { colspan: 4, class: "muted" }, "No live workers."))]));
        clear(failed).append(...(f.jobs.length ? f.jobs.map((j) => el("tr", { "data-id": j.id }, el("td", {}, since(j.created_at)), el("td", {}, j.tenant),
          el("td", {}, j.partner_ref || "—"), el("td", {}, j.error ? `${j.error.code}: ${j.error.message}` : "—"),
          el("td", {}, el("button", { type: "button", class: "retry", on: { click: async () => { await retry(j.id); } } }, "Retry"), " ",
            el("a", { href: "#/jobs/" + j.id }, "Open"))))
          : [el("tr", {}, el("td", { colspan: 5, class: "muted" }, "No failed jobs."))]));
      } catch (e) {
        toast(e.message, true);
      }
    }
    onChange(() => {});
    await refresh();
    state.timers.push(setInterval(refresh, 5000));
  }

  // ---- ETA truth -----------------------------------------------------------------------------

  function etaPage() {
    const stamp = Date.now();
    view.append(
      el("h2", {}, "ETA truth: promised against actual time to final"),
      el("p", { class: "muted" }, "One dot per finished job; on the dashed line the promise was exact, above it the job was late."),
      el("div", { class: "grid2 chart" },
        el("img", { src: `/v1/eta-truth.svg?window=hour&t=${stamp}`, alt: "ETA truth over the last hour" }),
        el("img", { src: `/v1/eta-truth.svg?window=day&t=${stamp}`, alt: "ETA truth over the last 24 hours" })),
    );
    onChange(() => {});
  }

  boot();
})();
