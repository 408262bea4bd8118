// relaybox console: draws the charts (Chart.js) from the JSON the server puts in their data-chart, again after
// each htmx swap of the live progress. No inline scripts: the pages' CSP allows only these files.
(function () {
  "use strict";
  var charts = {};
  var colours = {
    delivered: "#1c7c3a", read: "#14532d", sent: "#5b8fc7", sending: "#8db5e0", accepted: "#a9c4e4",
    scheduled: "#c5d5e8", failed: "#b3261e", undelivered: "#d0553f", expired: "#8a5a00", unknown: "#6b7280",
    not_service_user: "#9c6b98", moderation: "#c5d5e8"
  };

  function readJson(id) {
    var node = document.getElementById(id);
    if (!node || !node.dataset.chart) { return null; }
    try { return JSON.parse(node.dataset.chart); } catch (e) { return null; }
  }

  function bar(canvasId, labels, values, fill, label, xTitle) {
    var canvas = document.getElementById(canvasId);
    if (!canvas || typeof Chart === "undefined") { return; }
    if (charts[canvasId]) { charts[canvasId].destroy(); }
    charts[canvasId] = new Chart(canvas, {
      type: "bar",
      data: { labels: labels, datasets: [{ label: label, data: values, backgroundColor: fill }] },
      options: {
        responsive: true, maintainAspectRatio: false, animation: false,
        plugins: { legend: { display: false } },
        scales: {
          x: { title: { display: Boolean(xTitle), text: xTitle || "" } },
          y: { beginAtZero: true, ticks: { precision: 0 }, title: { display: Boolean(xTitle), text: label } }
        }
      }
    });
  }

  function draw() {
    var status = readJson("status-chart");
    if (status) {
      bar("status-chart", status.labels, status.values,
          status.statuses.map(function (s) { return colours[s] || "#5b8fc7"; }), "Messages");
    }
    var delivery = readJson("delivery-chart");
    if (delivery) {
      bar("delivery-chart", delivery.map(function (b) { return b.label; }),
          delivery.map(function (b) { return b.count; }), "#0b5cad", "Delivered messages",
          "Time from sent to delivered");
    }
  }

  // the statistics page: a job list that changed state is announced through a live region that stays in place
  function announce() {
    var state = document.getElementById("jobs-state");
    var live = document.getElementById("jobs-announce");
    if (state && live && live.textContent !== state.textContent) { live.textContent = state.textContent; }
  }

  document.addEventListener("DOMContentLoaded", draw);
  document.addEventListener("htmx:afterSettle", function () { draw(); announce(); });
})();
