/* Plan coverage: names held per day against what the sinkhole answered, and the gaps. */
"use strict";
(() => {
  const S = Sinkhole;
  let chart = null;
  let shownAt = null;

  function rowsOf(table, rows) {
    document.querySelector(`#${table} tbody`).replaceChildren(...rows);
  }

  S.every(15, async () => {
    const result = await S.get("/api/coverage");
    if (!result.data || result.computed_at === shownAt) return;
    shownAt = result.computed_at;
    const c = result.data;
    if (!c.available) { S.setText("plan-window", c.reason); return; }
    S.setCount("plan-domains", c.domains);
    S.setCount("plan-addresses", c.addresses);
    S.setText("plan-window", `${c.window.start} → ${c.window.end}`);
    S.setCount("unplanned-total", c.per_day.reduce((n, d) => n + d.unplanned_queries, 0));
    S.setCount("gap-count", c.gaps.length);
    const labels = c.per_day.map((d) => d.day);
    if (chart) chart.destroy();
    chart = new Chart(document.getElementById("chart-coverage"), {
      data: { labels, datasets: [
        { type: "line", label: "names held (plan)", data: c.per_day.map((d) => d.held), borderColor: S.palette[0], backgroundColor: S.palette[0], stepped: true, yAxisID: "names" },
        { type: "bar", label: "names answered", data: c.per_day.map((d) => d.names_answered), backgroundColor: S.palette[2], yAxisID: "names" },
        { type: "bar", label: "unplanned queries", data: c.per_day.map((d) => d.unplanned_queries), backgroundColor: S.palette[4], yAxisID: "names" },
      ] },
      options: { animation: false, maintainAspectRatio: false,
                 scales: { names: { position: "left", beginAtZero: true, ticks: { callback: (v) => S.count(v) } } } },
    });
    rowsOf("gaps", c.gaps.length ? c.gaps.map((g) => S.el("tr", {}, S.el("td", {}, S.el("span", { class: "pill bad" }, g.kind)),
      S.el("td", {}, g.family), S.el("td", {}, g.subject), S.el("td", {}, g.detail)))
      : [S.el("tr", {}, S.el("td", { colSpan: 4, class: "ok" }, "no gap found"))]);
    rowsOf("unplanned", c.unplanned_names.map((n) => S.el("tr", {}, S.el("td", {}, n.name), S.el("td", {}, n.family ?? ""),
      S.el("td", { class: "num" }, S.count(n.queries)), S.el("td", {}, S.when(n.first_seen)), S.el("td", {}, S.when(n.last_seen)))));
    rowsOf("days", c.per_day.map((d) => S.el("tr", {}, S.el("td", {}, d.day),
      S.el("td", { class: "num", "data-value": d.held ?? "" }, S.count(d.held)),
      S.el("td", { class: "num" }, S.count(d.names_answered)), S.el("td", { class: "num" }, S.count(d.dns_queries)),
      S.el("td", { class: "num" }, S.count(d.checkins)), S.el("td", { class: "num" }, S.count(d.unplanned_queries)))));
  });
})();
