/* World map: unique bot addresses per country, a choropleth over the bundled world shapes. */
"use strict";
(async () => {
  const S = Sinkhole;
  const G = window.ChartGeo;
  Chart.register(G.ChoroplethController, G.ProjectionScale, G.ColorScale, G.GeoFeature);
  const world = await (await fetch("/static/vendor/countries-110m.json", { credentials: "same-origin" })).json();
  const shapes = G.topojson.feature(world, world.objects.countries).features
    .filter((f) => f.properties.name !== "Antarctica");
  let chart = null;
  let shownAt = null;

  async function draw() {
    const result = await S.get("/api/countries");
    if (!result.data || result.computed_at === shownAt) return;
    shownAt = result.computed_at;
    const rows = result.data.countries;
    const byNumeric = new Map(rows.filter((c) => c.numeric).map((c) => [c.numeric, c]));
    const data = shapes.map((feature) => ({
      feature, value: byNumeric.has(feature.id) ? byNumeric.get(feature.id).unique_ips : 0,
    }));
    if (chart) chart.destroy();
    chart = new Chart(document.getElementById("chart-map"), {
      type: "choropleth",
      data: { labels: shapes.map((f) => f.properties.name), datasets: [{ label: "unique IPs", data, outline: shapes }] },
      options: {
        animation: false, maintainAspectRatio: false, showOutline: true,
        plugins: { legend: { display: false },
                   tooltip: { callbacks: { label: (ctx) => `${ctx.chart.data.labels[ctx.dataIndex]}: ${S.count(ctx.raw.value)} unique IPs` } } },
        scales: { projection: { axis: "x", projection: "equalEarth" },
                  color: { axis: "x", quantize: 6, legend: { position: "bottom-left" },
                           ticks: { callback: (v) => S.count(v) } } },
      },
    });
    const body = document.querySelector("#countries tbody");
    body.replaceChildren(...rows.map((c) => S.el("tr", { "data-country": c.country },
      S.el("td", {}, c.name), S.el("td", {}, c.country),
      S.el("td", { class: "num", "data-value": c.unique_ips }, S.count(c.unique_ips)),
      S.el("td", { class: "num", "data-value": c.events }, S.count(c.events)),
      S.el("td", { class: "num" }, S.count(c.networks)))));
  }
  S.every(15, draw);
})();
