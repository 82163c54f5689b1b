/* Event explorer: filters, paging (newest first), bounded by the server. */
"use strict";
(() => {
  const S = Sinkhole;
  const form = document.getElementById("filters");
  let offset = 0;

  function query() {
    const params = new URLSearchParams();
    for (const [name, value] of new FormData(form)) {
      if (!value) continue;
      params.set(name, (name === "since" || name === "until") ? `${value}Z` : value);
    }
    params.set("offset", String(offset));
    return params;
  }

  async function load() {
    const page = await S.get(`/api/events?${query()}`);
    const head = document.querySelector("#events thead");
    const body = document.querySelector("#events tbody");
    if (page.error) { S.setText("page-info", page.error); body.replaceChildren(); return; }
    head.replaceChildren(S.el("tr", {}, ...page.columns.map((c) => S.el("th", {}, c))));
    body.replaceChildren(...page.rows.map((row) => S.el("tr", {}, ...row.map((v, i) =>
      S.el("td", {}, v === null ? "" : page.columns[i] === "timestamp" ? v.replace("T", " ").slice(0, 23) : v)))));
    const first = page.rows.length ? page.offset + 1 : 0;
    S.setText("page-info", `events ${S.count(first)}–${S.count(page.offset + page.rows.length)}${page.more ? ", more older" : ""}`);
    document.getElementById("newer").disabled = page.offset === 0;
    document.getElementById("older").disabled = !page.more;
    S.setText("status", `updated ${new Date().toLocaleTimeString()}`);
  }

  form.addEventListener("submit", (event) => { event.preventDefault(); offset = 0; load().catch((e) => S.setText("page-info", e.message)); });
  document.getElementById("older").addEventListener("click", () => { offset += Number(form.limit.value); load(); });
  document.getElementById("newer").addEventListener("click", () => { offset = Math.max(0, offset - Number(form.limit.value)); load(); });
  load().catch((e) => S.setText("page-info", e.message));
})();
