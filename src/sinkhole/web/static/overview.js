/* Overview: live check-ins, the machine estimate, channels, sensors. */
"use strict";
(() => {
  const S = Sinkhole;
  let minutes = null;
  let hours = null;

  /* The last hour as sixty one-minute slots (minutes without contacts show as zero). */
  function minuteChart(perMinute) {
    const seen = new Map(perMinute.map(([t, n]) => [t.slice(0, 16), n]));
    const now = Math.floor(Date.now() / 60000) * 60000;
    const slots = Array.from({ length: 60 }, (_, i) => new Date(now - (59 - i) * 60000).toISOString().slice(0, 16));
    const labels = slots.map((t) => t.slice(11, 16));
    const values = slots.map((t) => seen.get(t) || 0);
    if (!minutes) {
      minutes = new Chart(document.getElementById("chart-minutes"), {
        type: "bar",
        data: { labels, datasets: [{ label: "bot contacts", data: values, backgroundColor: S.palette[0] }] },
        options: { animation: false, maintainAspectRatio: false, plugins: { legend: { display: false } },
                   scales: { y: { beginAtZero: true, suggestedMax: 1, ticks: { precision: 0, callback: (v) => S.count(v) } } } },
      });
    } else {
      minutes.data.labels = labels;
      minutes.data.datasets[0].data = values;
      minutes.update("none");
    }
  }

  function hourChart(series) {
    const datasets = Object.entries(series.contacts_per_channel).map(([name, data], i) => ({
      label: name, data, backgroundColor: S.palette[i % S.palette.length], stack: "c",
    }));
    const labels = series.hours.map((h) => h.slice(5, 13).replace("T", " ") + "h");
    if (hours) hours.destroy();
    hours = new Chart(document.getElementById("chart-hours"), {
      type: "bar",
      data: { labels, datasets },
      options: { animation: false, maintainAspectRatio: false,
                 scales: { x: { stacked: true, ticks: { maxTicksLimit: 14 } },
                           y: { stacked: true, ticks: { callback: (v) => S.count(v) } } } },
    });
  }

  async function live() {
    const now = await S.get("/api/live");
    S.setCount("events-per-s", now.events_per_s, S.rate);
    const rates = Object.entries(now.listener_rates || {})
      .map(([name, r]) => `${name} ${S.rate(r)}/s`).join(" · ");
    S.setText("listener-rates", rates || "no sensor running");
    const today = (now.today && now.today.data) || null;
    S.setCount("today-unique-ips", today ? today.unique_ips : null);
    S.setCount("today-events", today ? today.events : null);
    if (today) minuteChart(today.per_minute);
    const body = document.querySelector("#sensors tbody");
    body.replaceChildren(...(now.sensors || []).map((s) => S.el("tr", {},
      S.el("td", {}, s.sensor), S.el("td", {}, S.el("span", { class: `pill ${s.state === "running" ? "good" : ""}` }, s.state)),
      S.el("td", { class: "num" }, S.rate(s.events_per_s)), S.el("td", { class: "num" }, S.count(s.dropped)))));
    if (!body.children.length) body.append(S.el("tr", {}, S.el("td", { colSpan: 4, class: "muted" }, "no running sensor writes to this store")));
  }

  let shownAt = null;
  async function analyses() {
    const summary = await S.get("/api/summary");
    S.setText("computed-at", summary.computed_at ? `${S.when(summary.computed_at)} (${S.ago(summary.computed_at)})` : summary.state);
    if (summary.events === null) return;
    S.setCount("events", summary.events);
    S.setCount("unique-ips", summary.unique_ips);
    S.setCount("bot-ids", summary.bot_ids);
    S.setCount("stored-events", summary.store.events);
    const m = summary.machines;
    S.setCount("machines", m.estimate);
    if (m.estimate === null) S.setText("machines", `${S.count(m.low)}–${S.count(m.high)}`);
    S.setCount("machines-low", m.low);
    S.setCount("machines-high", m.high);
    S.setText("first-seen", S.when(summary.first_seen));
    S.setText("last-seen", S.when(summary.last_seen));
    const days = (new Date(summary.last_seen) - new Date(summary.first_seen)) / 86400000;
    S.setText("window-days", `${S.rate(days)} days`);
    const body = document.querySelector("#channels tbody");
    body.replaceChildren(...Object.entries(summary.per_channel).map(([name, n]) =>
      S.el("tr", {}, S.el("td", {}, name), S.el("td", { class: "num", "data-value": n }, S.count(n)))));
    if (shownAt === summary.computed_at) return;
    shownAt = summary.computed_at;
    const series = await S.get("/api/series");
    if (series.data) hourChart(series.data);
    const notes = await S.get("/api/notifications");
    const n = notes.data;
    S.setText("notify-status", !n ? "notifications: not computed yet" : !n.available ? `notifications: ${n.reason}` :
      `notifications: ${S.count(n.reports)} reports covering ${S.count(n.addresses)} addresses — ` +
      Object.entries(n.per_state).map(([k, v]) => `${k} ${S.count(v)}`).join(", "));
    const lists = await S.get("/api/listings");
    const l = lists.data;
    S.setText("listing-status", !l ? "" : !l.available ? `listings: ${l.reason}` :
      `listings: ${S.count(l.listed)} addresses listed (serial ${l.serial}) — ` +
      Object.entries(l.per_family).map(([k, v]) => `${k || "other"} ${S.count(v)}`).join(", "));
  }

  document.getElementById("refresh").addEventListener("click", async (event) => {
    event.target.disabled = true;
    await S.post("/api/refresh");
    setTimeout(() => { event.target.disabled = false; }, 3000);
  });
  S.every(2, live);
  S.every(10, analyses);
})();
