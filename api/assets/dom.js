// Small DOM and HTTP helpers shared by the console and the quote page. Text only ever enters the
// page through textContent or attribute setters, never as HTML.
"use strict";

window.Dom = (() => {
  // el("td", {class: "num", dataset: {id}}, "text", childNode, ...)
  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "dataset") Object.assign(node.dataset, v);
      else if (k === "on") for (const [ev, fn] of Object.entries(v)) node.addEventListener(ev, fn);
      else if (k === "class") node.className = v;
      else if (v === true) node.setAttribute(k, "");
      else node.setAttribute(k, String(v));
    }
    append(node, children);
    return node;
  }

  function append(node, children) {
    for (const c of children.flat()) {
      if (c === undefined || c === null || c === false) continue;
      node.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return node;
  }

  function clear(node) {
    while (node.firstChild) node.removeChild(node.firstChild);
    return node;
  }

  // The API's error shape: {code, message, details}.
  class ApiError extends Error {
    constructor(status, body) {
      super((body && body.message) || `HTTP ${status}`);
      this.status = status;
      this.code = (body && body.code) || "http_" + status;
      this.details = (body && body.details) || null;
    }
  }

  // Same-origin request with the session cookie; `csrf` is sent on every change.
  async function api(method, path, { body, csrf, headers } = {}) {
    const h = Object.assign({}, headers || {});
    if (csrf && method !== "GET") h["X-CSRF-Token"] = csrf;
    let payload = body;
    if (body !== undefined && !(body instanceof Blob) && typeof body !== "string") {
      h["Content-Type"] = "application/json";
      payload = JSON.stringify(body);
    }
    const resp = await fetch(path, { method, headers: h, body: payload, credentials: "same-origin" });
    const text = await resp.text();
    let json = null;
    if (text) {
      try { json = JSON.parse(text); } catch (_) { json = null; }
    }
    if (!resp.ok) throw new ApiError(resp.status, json);
    return json;
  }

  function seconds(s) {
    if (s === null || s === undefined || !isFinite(s)) return "—";
    s = Math.max(0, s);
    if (s < 1) return `${(s * 1000).toFixed(0)} ms`;
    if (s < 90) return `${s.toFixed(s < 10 ? 1 : 0)} s`;
    if (s < 5400) return `${Math.round(s / 60)} min`;
    if (s < 172800) return `${(s / 3600).toFixed(1)} h`;
    return `${Math.round(s / 86400)} d`;
  }

  function since(iso, now) {
    return seconds(((now || Date.now()) - Date.parse(iso)) / 1000);
  }

  function time(iso) {
    if (!iso) return "—";
    const d = new Date(iso);
    return d.toLocaleString(undefined, { dateStyle: "short", timeStyle: "medium" });
  }

  function count(n) {
    return n === null || n === undefined ? "—" : Number(n).toLocaleString("en");
  }

  return { el, append, clear, api, ApiError, seconds, since, time, count };
})();
