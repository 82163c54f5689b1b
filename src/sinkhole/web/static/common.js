/* Shared by every page: fetching the API (the cookie carries the token), formatting, polling. */
"use strict";

const Sinkhole = (() => {
  const numbers = new Intl.NumberFormat("en-US");
  const decimals = new Intl.NumberFormat("en-US", { maximumFractionDigits: 1 });

  async function get(path) {
    const response = await fetch(path, { credentials: "same-origin", cache: "no-store" });
    const body = await response.json().catch(() => ({}));
    if (!response.ok && response.status !== 503) {
      throw new Error(body.error || `${path}: HTTP ${response.status}`);
    }
    return body;
  }

  async function post(path) {
    const csrf = document.querySelector('meta[name="csrf"]').content;
    const response = await fetch(path, {
      method: "POST", credentials: "same-origin", headers: { "X-CSRF-Token": csrf },
    });
    return response.json();
  }

  /* A whole number for people: 264,012. Null shows as a dash. */
  function count(value) {
    return value === null || value === undefined ? "–" : numbers.format(Math.round(value));
  }

  function rate(value) {
    return value === null || value === undefined ? "–" : decimals.format(value);
  }

  function when(iso) {
    if (!iso) return "–";
    const d = new Date(iso);
    return d.toISOString().replace("T", " ").replace(/\.\d+Z$|Z$/, "").slice(0, 16) + " UTC";
  }

  function ago(iso) {
    if (!iso) return "not yet";
    const seconds = Math.max(0, (Date.now() - new Date(iso).getTime()) / 1000);
    if (seconds < 90) return `${Math.round(seconds)} s ago`;
    if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
    return `${decimals.format(seconds / 3600)} h ago`;
  }

  /* Put a number in an element: formatted text, raw value in data-value (tests read both). */
  function setCount(id, value, format = count) {
    const el = document.getElementById(id);
    if (!el) return;
    el.textContent = format(value);
    el.dataset.value = value === null || value === undefined ? "" : String(value);
  }

  function setText(id, text) {
    const el = document.getElementById(id);
    if (el) el.textContent = text;
  }

  function el(tag, attrs = {}, ...children) {
    const node = document.createElement(tag);
    for (const [key, value] of Object.entries(attrs)) {
      if (key === "class") node.className = value;
      else if (key.startsWith("data-")) node.setAttribute(key, value);
      else node[key] = value;
    }
    for (const child of children) {
      node.append(child instanceof Node ? child : document.createTextNode(String(child)));
    }
    return node;
  }

  /* Run `work` now and every `seconds`, without reloading the page. */
  function every(seconds, work) {
    let running = false;
    const tick = async () => {
      if (running) return;
      running = true;
      try { await work(); setText("status", `updated ${new Date().toLocaleTimeString()}`); }
      catch (error) { setText("status", `error: ${error.message}`); }
      finally { running = false; }
    };
    tick();
    return setInterval(tick, seconds * 1000);
  }

  const palette = ["#1f6feb", "#e67e22", "#27ae60", "#8e44ad", "#c0392b", "#16a085", "#7f8c8d",
                   "#d4ac0d"];

  function markNav() {
    for (const a of document.querySelectorAll("header nav a")) {
      if (a.getAttribute("href") === location.pathname) a.classList.add("active");
    }
  }
  document.addEventListener("DOMContentLoaded", markNav);

  return { get, post, count, rate, when, ago, setCount, setText, el, every, palette };
})();
