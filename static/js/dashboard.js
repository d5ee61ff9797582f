// The dashboard charts: each <canvas data-chart="ID"> is drawn from the JSON in the element
// with that ID (Django's json_script), so the page carries no inline script. The same
// figures are in the table beside each chart; the canvas only repeats them as a picture.
(() => {
  "use strict";
  if (typeof window.Chart === "undefined") return; // the tables stay: nothing is lost

  // Okabe & Ito's palette, told apart with the common colour-vision deficiencies.
  const SERIES = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#000000", "#F0E442"];
  const NAMED = {
    good: "#009E73",
    bad: "#D55E00",
    none: "#8C8C8C",
    neutral: "#56B4E9",
    info: "#0072B2",
  };
  // A second cue beside colour: line series differ in dash and point shape too.
  const DASHES = [[], [6, 4], [2, 3], [10, 3, 2, 3]];
  const POINTS = ["circle", "rectRot", "triangle", "rect"];

  const lang = document.documentElement.lang || undefined;
  Chart.defaults.font.family = getComputedStyle(document.body).fontFamily;
  Chart.defaults.color = "#1c2430";
  Chart.defaults.locale = lang;

  // Long category names (job titles, case types) broken into lines rather than cut off.
  function wrap(label, width) {
    const words = String(label).split(" ");
    const lines = [];
    let line = "";
    for (const word of words) {
      if (line && (line + " " + word).length > width) {
        lines.push(line);
        line = word;
      } else {
        line = line ? line + " " + word : word;
      }
    }
    if (line) lines.push(line);
    return lines.length > 1 ? lines : lines[0] || "";
  }

  function colour(spec, index) {
    const name = spec.colors && spec.colors[index];
    return (name && NAMED[name]) || SERIES[index % SERIES.length];
  }

  function draw(canvas) {
    const source = document.getElementById(canvas.dataset.chart);
    if (!source) return;
    const spec = JSON.parse(source.textContent);
    const line = spec.type === "line";
    const datasets = spec.datasets.map((set, index) => {
      const c = colour(spec, index);
      return {
        label: set.label,
        data: set.data,
        backgroundColor: c,
        borderColor: c,
        borderWidth: line ? 2 : 0,
        borderDash: line ? DASHES[index % DASHES.length] : undefined,
        pointStyle: line ? POINTS[index % POINTS.length] : undefined,
        pointRadius: line ? 3 : undefined,
        tension: 0,
        maxBarThickness: 48,
      };
    });
    const narrow = canvas.parentElement.clientWidth < 420;
    const width = spec.horizontal ? (narrow ? 16 : 24) : narrow ? 10 : 16;
    const labels = line ? spec.labels : spec.labels.map((label) => wrap(label, width));
    const valueAxis = { beginAtZero: true, stacked: spec.stacked, ticks: { precision: 0 } };
    const categoryAxis = {
      stacked: spec.stacked,
      display: !spec.single,
      ticks: line ? { autoSkip: true, maxRotation: 0 } : { autoSkip: false },
    };
    new Chart(canvas, {
      type: spec.type,
      data: { labels, datasets },
      options: {
        indexAxis: spec.horizontal ? "y" : "x",
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        interaction: { mode: line ? "index" : "nearest", intersect: !line },
        plugins: {
          legend: { display: spec.legend, position: "bottom", labels: { usePointStyle: line } },
        },
        scales: spec.horizontal ? { x: valueAxis, y: categoryAxis } : { x: categoryAxis, y: valueAxis },
      },
    });
  }

  document.querySelectorAll("canvas[data-chart]").forEach(draw);
})();
