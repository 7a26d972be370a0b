/* The console's only script (no inline script: the Content-Security-Policy forbids it).
   Draws the charts from the page's JSON data block, and keeps the "now" panel fresh by
   polling /dashboard/live.json (no server-sent events: they would hold a worker each). */
"use strict";

function drawCharts() {
  const block = document.getElementById("chart-data");
  if (!block || typeof Plotly === "undefined") return;
  const charts = JSON.parse(block.textContent);
  const config = { displaylogo: false, responsive: true, displayModeBar: false };
  for (const [id, figure] of Object.entries(charts)) {
    const target = document.getElementById(id === "outcomes" ? "outcomes-chart" : id);
    if (!target || !figure.data.length) continue;
    const layout = Object.assign({ margin: { l: 40, r: 10, t: 40, b: 40 }, height: 340, template: "plotly_white" }, figure.layout);
    Plotly.newPlot(target, figure.data, layout, config);
  }
}

function cell(row, text, href) {
  const td = document.createElement("td");
  if (href) {
    const a = document.createElement("a");
    a.href = href;
    a.textContent = text;          // textContent: nothing a caller said becomes markup
    td.appendChild(a);
  } else {
    td.textContent = text;
  }
  row.appendChild(td);
}

function minutes(seconds) {
  const m = Math.floor(seconds / 60), s = seconds % 60;
  return m ? `${m} min ${s} s` : `${s} s`;
}

function showLive(panel, answer) {
  const body = panel.querySelector("tbody");
  const rows = answer.calls.map((call) => {
    const tr = document.createElement("tr");
    tr.dataset.callSid = call.call_sid;
    cell(tr, call.caller, call.url);
    cell(tr, call.station);
    cell(tr, call.step);
    cell(tr, minutes(call.seconds));
    cell(tr, call.language);
    return tr;
  });
  if (!rows.length) {
    const tr = document.createElement("tr");
    const td = document.createElement("td");
    td.colSpan = 5;
    td.textContent = "Nobody is on the line.";
    tr.appendChild(td);
    rows.push(tr);
  }
  body.replaceChildren(...rows);
  document.getElementById("live-status").textContent =
    `(${answer.calls.length} now, updated ${new Date(answer.at).toLocaleTimeString()})`;
}

function pollLive() {
  const panel = document.getElementById("now");
  if (!panel) return;
  let every = 5000;
  const tick = () => {
    fetch(panel.dataset.url, { credentials: "same-origin", cache: "no-store" })
      .then((r) => r.json())
      .then((answer) => { showLive(panel, answer); every = (answer.poll_seconds || 5) * 1000; })
      .catch(() => { document.getElementById("live-status").textContent = "(cannot update right now)"; })
      .finally(() => setTimeout(tick, document.hidden ? every * 4 : every));
  };
  tick();
}

document.addEventListener("DOMContentLoaded", () => { drawCharts(); pollLive(); });
