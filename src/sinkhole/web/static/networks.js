/* Networks: sortable, searchable, exportable; the top ten as a bar chart. */
"use strict";
(() => {
  const S = Sinkhole;
  let rows = [];
  let key = "unique_ips";
  let descending = true;
  let chart = null;
  let shownAt = null;
  const search = document.getElementById("search");

  function render() {
    const needle = search.value.trim().toLowerCase();
    const shown = rows.filter((r) => !needle ||
      [r.asn, r.as_name, r.country, r.abuse_contact].some((v) => String(v ?? "").toLowerCase().includes(needle)));
    shown.sort((a, b) => {
      const x = a[key] ?? "", y = b[key] ?? "";
      const order = typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
      return descending ? -order : order;
    });
    const body = document.querySelector("#networks tbody");
    body.replaceChildren(...shown.map((r) => S.el("tr", { "data-asn": r.asn ?? "" },
      S.el("td", {}, r.asn === null ? "–" : `AS${r.asn}`), S.el("td", {}, r.as_name), S.el("td", {}, r.country),
      S.el("td", {}, r.abuse_contact),
      S.el("td", { class: "num", "data-value": r.unique_ips }, S.count(r.unique_ips)),
      S.el("td", { class: "num", "data-value": r.bot_ids }, S.count(r.bot_ids)),
      S.el("td", { class: "num", "data-value": r.events }, S.count(r.events)),
      S.el("td", {}, S.when(r.last_seen)))));
    S.setText("shown", `${S.count(shown.length)} of ${S.count(rows.length)} networks`);
    for (const th of document.querySelectorAll("th.sortable")) {
      th.classList.toggle("sorted-asc", th.dataset.key === key && !descending);
      th.classList.toggle("sorted-desc", th.dataset.key === key && descending);
    }
  }

  function drawChart() {
    const top = [...rows].sort((a, b) => b.unique_ips - a.unique_ips).slice(0, 10);
    if (chart) chart.destroy();
    chart = new Chart(document.getElementById("chart-networks"), {
      type: "bar",
      data: { labels: top.map((r) => r.asn === null ? r.as_name : `AS${r.asn} ${r.as_name}`),
              datasets: [{ label: "unique IPs", data: top.map((r) => r.unique_ips), backgroundColor: S.palette[0] }] },
      options: { indexAxis: "y", animation: false, maintainAspectRatio: false, plugins: { legend: { display: false } },
                 scales: { x: { ticks: { callback: (v) => S.count(v) } } } },
    });
  }

  for (const th of document.querySelectorAll("th.sortable")) {
    th.addEventListener("click", () => {
      descending = th.dataset.key === key ? !descending : ["unique_ips", "bot_ids", "events", "last_seen"].includes(th.dataset.key);
      key = th.dataset.key;
      render();
    });
  }
  search.addEventListener("input", render);
  S.every(15, async () => {
    const result = await S.get("/api/networks");
    if (!result.data || result.computed_at === shownAt) return;
    shownAt = result.computed_at;
    rows = result.data.networks;
    drawChart();
    render();
  });
})();
