/* Draws the desk's charts from the JSON the page carries (no inline script: CSP-friendly). */
(function () {
  "use strict";
  var source = document.getElementById("desk-chart-data");
  if (!source || typeof Chart === "undefined") {
    return;
  }
  var data = JSON.parse(source.textContent);
  var palette = ["#417690", "#79aec8", "#e39d3b", "#8a5a9e", "#5b9a68", "#c0504d", "#4f81bd", "#9bbb59", "#7f7f7f"];

  var weekly = document.getElementById("chart-weekly");
  if (weekly && data.per_week) {
    var kinds = [];
    data.per_week.forEach(function (row) {
      if (kinds.indexOf(row.kind) === -1) {
        kinds.push(row.kind);
      }
    });
    var datasets = kinds.map(function (kind, index) {
      return {
        label: kind,
        backgroundColor: palette[index % palette.length],
        data: data.weeks.map(function (week) {
          var hit = data.per_week.find(function (row) { return row.week === week && row.kind === kind; });
          return hit ? hit.n : 0;
        })
      };
    });
    new Chart(weekly, {
      type: "bar",
      data: { labels: data.weeks, datasets: datasets },
      options: { animation: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true } } }
    });
  }

  var time = document.getElementById("chart-time");
  if (time && data.time_to_complete) {
    new Chart(time, {
      type: "bar",
      data: {
        labels: data.time_to_complete.map(function (b) { return b.label; }),
        datasets: [{ label: "Requests", backgroundColor: palette[0], data: data.time_to_complete.map(function (b) { return b.count; }) }]
      },
      options: { animation: false, plugins: { legend: { display: false } }, scales: { y: { beginAtZero: true } } }
    });
  }

  var consent = document.getElementById("chart-consent");
  if (consent && data.monthly) {
    var sum = function (month, key) {
      return data.monthly
        .filter(function (row) { return row.month === month; })
        .reduce(function (total, row) { return total + row[key]; }, 0);
    };
    new Chart(consent, {
      type: "line",
      data: {
        labels: data.months,
        datasets: [
          { label: "Granted", borderColor: palette[4], backgroundColor: palette[4], data: data.months.map(function (m) { return sum(m, "granted"); }) },
          { label: "Withdrawn", borderColor: palette[5], backgroundColor: palette[5], data: data.months.map(function (m) { return sum(m, "withdrawn"); }) }
        ]
      },
      options: { animation: false, scales: { y: { beginAtZero: true } } }
    });
  }
})();
