// Charts drawn with the vendored ECharts from data the page embeds with json_script (no network needed).
// Tooltips are drawn inside the chart ("richText"): ECharts' HTML tooltips carry inline style attributes,
// which the Content-Security-Policy refuses.
(function () {
  "use strict";
  var RED = ["#b71c1c", "#e57373", "#ef9a9a", "#8e1212", "#ff8a65", "#ffb74d", "#a1887f", "#90a4ae", "#ce93d8", "#80cbc4", "#c5e1a5", "#fff59d", "#bcaaa4"];
  var builders = {
    exits: function (data) {
      return {
        color: RED, tooltip: { trigger: "axis", renderMode: "richText" }, grid: { left: 48, right: 16, top: 16, bottom: 32 },
        xAxis: { type: "category", data: data.exits.years }, yAxis: { type: "value" },
        series: [{ type: "bar", data: data.exits.counts, barMaxWidth: 36 }]
      };
    },
    causes: function (data) {
      return {
        color: RED, tooltip: { trigger: "item", renderMode: "richText", formatter: "{b}：{c}（{d}%）" },
        series: [{ type: "pie", radius: ["35%", "70%"], data: data.causes, label: { formatter: "{b} {d}%" } }]
      };
    }
  };
  function draw() {
    if (!window.echarts) { return; }
    document.querySelectorAll("[data-chart]").forEach(function (el) {
      var source = document.getElementById(el.dataset.source);
      var build = builders[el.dataset.chart];
      if (!source || !build) { return; }
      var chart = echarts.init(el, null, { renderer: "svg" });
      chart.setOption(build(JSON.parse(source.textContent)));
      window.addEventListener("resize", function () { chart.resize(); });
    });
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", draw); } else { draw(); }
})();
