// The runs list: rows change status live, runs started after the page opened appear on top.
"use strict";
(function () {
  var root = document.getElementById("runs");
  if (!root || !window.EventSource) return;
  var rows = document.getElementById("run-rows");
  var first = root.dataset.firstPage === "true";
  var wantWorkflow = root.dataset.filterWorkflow, wantStatus = root.dataset.filterStatus;
  var filtered = root.dataset.filtered === "true";

  function badge(status) {
    return psr.el("span", { "class": "badge", "data-status": status }, status);
  }
  function update(row, run) {
    row.dataset.status = run.status;
    var cell = row.querySelector("td.status");
    cell.textContent = "";
    cell.appendChild(badge(run.status));
    var d = row.querySelector("td.duration");
    if (d) d.textContent = psr.duration(run.durationS !== null ? run.durationS : Date.now() / 1000 - psr.seconds(run.startedAt));
  }
  function newRow(run) {
    var tr = psr.el("tr", { "data-run-id": run.runId, "data-status": run.status });
    var td = psr.el("td", { "class": "status" }); tr.appendChild(td);
    var idCell = psr.el("td"), a = psr.el("a", { href: "/runs/" + encodeURIComponent(run.runId) });
    a.appendChild(psr.el("code", {}, run.runId)); idCell.appendChild(a); tr.appendChild(idCell);
    var wf = psr.el("td"), wa = psr.el("a", { href: "/workflows/" + encodeURIComponent(run.workflow) }, run.workflow);
    wf.appendChild(wa); tr.appendChild(wf);
    tr.appendChild(psr.el("td", {}, psr.when(run.startedAt)));
    tr.appendChild(psr.el("td", { "class": "duration" }));
    var trig = psr.el("td");
    if (run.ciJobUrl && /^https?:\/\//.test(run.ciJobUrl)) {
      trig.appendChild(psr.el("a", { href: run.ciJobUrl, rel: "noopener noreferrer" }, "CI job"));
    } else { trig.textContent = (run.user || "") + "@" + (run.host || ""); }
    tr.appendChild(trig);
    tr.appendChild(psr.el("td", { "class": "cost" }));
    var labels = psr.el("td");
    Object.keys(run.labels || {}).forEach(function (k) {
      labels.appendChild(psr.el("span", { "class": "label" }, k + "=" + run.labels[k]));
      labels.appendChild(document.createTextNode(" "));
    });
    tr.appendChild(labels);
    update(tr, run);
    return tr;
  }
  var source = new EventSource("/api/events");
  source.addEventListener("run", function (e) {
    var run = JSON.parse(e.data);
    var row = rows.querySelector('tr[data-run-id="' + CSS.escape(run.runId) + '"]');
    if (row) { update(row, run); return; }
    if (!first) return;
    if (filtered && (wantWorkflow && run.workflow !== wantWorkflow || wantStatus && run.status !== wantStatus)) return;
    if (filtered && !wantWorkflow && !wantStatus) return;  // label or text filters: reload to see
    var empty = rows.querySelector("tr.empty");
    if (empty) empty.remove();
    rows.insertBefore(newRow(run), rows.firstChild);
  });
  setInterval(function () {
    rows.querySelectorAll('tr[data-status="running"]').forEach(function (row) {
      // durations of running runs tick without a server round trip
      var started = row.dataset.started;
      if (started) row.querySelector("td.duration").textContent = psr.duration(Date.now() / 1000 - Number(started));
    });
  }, 1000);
})();
