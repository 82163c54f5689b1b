/* Impact: the mail from bot addresses before and after the takedown (`sinkhole impact`). */
"use strict";
(() => {
  const S = Sinkhole;
  const HOUR = 3600000;
  let chart = null;
  let shownAt = null;

  const percent = (value) => (value === null || value === undefined ? "–" : `${(value * 100).toFixed(1)}%`);

  function rowsOf(table, rows) {
    document.querySelector(`#${table} tbody`).replaceChildren(...rows);
  }

  /* A red line at the takedown, between the hours it falls in. */
  const takedownLine = {
    id: "takedown",
    afterDatasetsDraw(c, _args, options) {
      if (options.at === null || options.at === undefined) return;
      const x = c.scales.x;
      const whole = Math.floor(options.at);
      const px = x.getPixelForValue(whole) + (options.at - whole) * (x.getPixelForValue(whole + 1) - x.getPixelForValue(whole));
      const { top, bottom } = c.chartArea;
      const ctx = c.ctx;
      ctx.save();
      ctx.strokeStyle = "#c0392b";
      ctx.lineWidth = 2;
      ctx.beginPath();
      ctx.moveTo(px, top);
      ctx.lineTo(px, bottom);
      ctx.stroke();
      ctx.fillStyle = "#c0392b";
      ctx.font = "12px system-ui, sans-serif";
      ctx.fillText("takedown", px + 4, top + 12);
      ctx.restore();
    },
  };

  /* Every hour from the first to the last (hours without mail show as zero). */
  function hourly(report) {
    const byHour = new Map(report.per_hour.map((h) => [new Date(h.hour).getTime(), h]));
    const first = new Date(report.per_hour[0].hour).getTime();
    const last = new Date(report.per_hour[report.per_hour.length - 1].hour).getTime();
    const hours = [];
    for (let t = first; t <= last; t += HOUR) hours.push(t);
    const pick = (key) => hours.map((t) => (byHour.get(t) || {})[key] || 0);
    const cut = new Date(report.takedown).getTime();
    const at = cut >= first && cut <= last + HOUR ? (cut - first) / HOUR : null;
    return { hours, all: pick("messages"), bots: pick("bot_messages"), family: pick("family_messages"), at };
  }

  function draw(report) {
    const h = hourly(report);
    const labels = h.hours.map((t) => new Date(t).toISOString().slice(5, 13).replace("T", " ") + "h");
    if (chart) chart.destroy();
    chart = new Chart(document.getElementById("chart-impact"), {
      type: "line",
      data: { labels, datasets: [
        { label: `all ${report.unit}`, data: h.all, borderColor: S.palette[0], backgroundColor: S.palette[0], pointRadius: 0, borderWidth: 1.5 },
        { label: "from addresses seen at the sinkhole", data: h.bots, borderColor: S.palette[1], backgroundColor: S.palette[1], pointRadius: 0, borderWidth: 1.5 },
        { label: "of them, the target family's", data: h.family, borderColor: S.palette[3], backgroundColor: S.palette[3], pointRadius: 0, borderWidth: 1.5, borderDash: [5, 4] },
      ] },
      options: { animation: false, maintainAspectRatio: false, interaction: { mode: "index", intersect: false },
                 plugins: { takedown: { at: h.at } },
                 scales: { x: { ticks: { maxTicksLimit: 16 } },
                           y: { beginAtZero: true, ticks: { callback: (v) => S.count(v) } } } },
      plugins: [takedownLine],
    });
  }

  function sides(report) {
    rowsOf("sides", ["before", "after"].map((name) => {
      const side = report[name];
      const rates = side.per_hour || {};
      return S.el("tr", {}, S.el("th", {}, name),
        S.el("td", { class: "num" }, S.rate(side.hours)),
        S.el("td", { class: "num", "data-value": rates.all ?? "" }, S.rate(rates.all)),
        S.el("td", { class: "num", "data-value": rates.bot ?? "" }, S.rate(rates.bot)),
        S.el("td", { class: "num" }, S.rate(rates.family)),
        S.el("td", { class: "num", "data-value": side.bot_share ?? "" }, percent(side.bot_share)),
        S.el("td", { class: "num" }, percent(side.family_share)));
    }));
  }

  function families(report) {
    const bots = report.bot_messages;
    const entries = Object.entries(report.per_family);
    rowsOf("families", entries.length ? entries.map(([name, n]) => S.el("tr", {},
      S.el("td", {}, name, report.targets.includes(name) ? " " : "", report.targets.includes(name) ? S.el("span", { class: "pill" }, "target") : ""),
      S.el("td", { class: "num" }, S.count(n)),
      S.el("td", { class: "num" }, percent(report.messages ? n / report.messages : null)),
      S.el("td", { class: "num" }, percent(bots ? n / bots : null))))
      : [S.el("tr", {}, S.el("td", { colSpan: 4, class: "muted" }, "no message from an address seen at the sinkhole"))]);
  }

  function files(report) {
    const malformed = report.files.reduce((n, f) => n + f.malformed, 0);
    const note = document.getElementById("malformed");
    note.className = malformed ? "error" : "muted";
    note.textContent = malformed
      ? `${S.count(malformed)} malformed lines or messages were skipped (counted, not read); examples below.`
      : "no malformed line: every line was read.";
    note.dataset.value = String(malformed);
    rowsOf("files", report.files.map((f) => S.el("tr", {},
      S.el("td", {}, f.path), S.el("td", {}, f.format + (f.note ? ` (${f.note})` : "")),
      S.el("td", { class: "num" }, S.count(f.lines)), S.el("td", { class: "num" }, S.count(f.messages)),
      S.el("td", { class: "num" }, S.count(f.rejected)), S.el("td", { class: "num" }, S.count(f.connections)),
      S.el("td", { class: "num" }, S.count(f.malformed)),
      S.el("td", { class: "wrap" }, ...f.examples.flatMap((e, i) => (i ? [S.el("br"), e] : [e]))))));
  }

  function show(report) {
    for (const el of document.querySelectorAll(".unit")) el.textContent = report.unit;
    S.setCount("drop", report.drop, percent);
    if (report.drop === null) S.setText("drop", "cannot compare");
    S.setText("all-drop", percent(report.all_drop));
    S.setText("share-before", percent(report.before.bot_share));
    S.setText("share-after", percent(report.after.bot_share));
    S.setText("family-before", percent(report.before.family_share));
    S.setText("family-after", percent(report.after.family_share));
    S.setCount("messages", report.messages);
    S.setCount("bot-messages", report.bot_messages);
    S.setText("takedown", S.when(report.takedown).replace(" UTC", ""));
    S.setText("tolerance", String(report.tolerance_hours));
    S.setText("blocklist", `blocklist: ${report.blocklist}; ${S.count(report.listed_messages)} ${report.unit} from addresses listed now`);
    const warnings = document.getElementById("warnings");
    warnings.hidden = !report.warnings.length;
    document.getElementById("warning-list").replaceChildren(...report.warnings.map((w) => S.el("li", {}, w)));
    sides(report);
    families(report);
    rowsOf("impact-networks", report.per_network.map((n) => S.el("tr", {},
      S.el("td", {}, n.asn === null ? "–" : `AS${n.asn}`), S.el("td", {}, n.network), S.el("td", {}, n.country),
      S.el("td", { class: "num" }, S.count(n.addresses)), S.el("td", { class: "num" }, S.count(n.before)),
      S.el("td", { class: "num" }, S.count(n.after)))));
    files(report);
    if (report.per_hour.length) draw(report);
  }

  S.every(15, async () => {
    const result = await S.get("/api/impact");
    const state = document.getElementById("impact-state");
    const body = document.getElementById("impact");
    if (!result.data) {
      state.textContent = result.state === "error" ? `the impact analysis failed: ${result.error}` : "not computed yet";
      state.className = result.state === "error" ? "panel error" : "panel muted";
      return;
    }
    const report = result.data;
    if (!report.available) {
      state.textContent = `${report.reason}. Give the dashboard the MTA logs or spam traps to compare the spam before and after the takedown.`;
      state.className = "panel muted";
      body.hidden = true;
      return;
    }
    const failed = result.state === "error" ? ` (the last refresh failed: ${result.error})` : "";
    state.textContent = `computed ${S.when(result.computed_at)} in ${S.rate(result.seconds)} s${failed}`;
    state.className = failed ? "panel error" : "panel muted";
    if (result.computed_at === shownAt) return;
    shownAt = result.computed_at;
    body.hidden = false;
    show(report);
  });
})();
