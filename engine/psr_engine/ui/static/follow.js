// The follow page (/workflows/{name}/latest): the workflow's newest run, live (run.js), and
// when a newer run of it starts, that run's page body takes this one's place: no reload, no
// new page for the browser to build while the engine is busiest.
"use strict";
(function () {
  var box = document.getElementById("follow");
  if (!box) return;
  var workflow = box.dataset.follow;
  var main = document.getElementById("run");
  var current = main ? psr.runPage(main) : null;
  var shownStart = main ? Number(main.dataset.started) : 0;
  var loading = null;
  if (!window.EventSource) return;
  // The runs stream: every run that starts (or changes status) after the page opened.
  var runs = new EventSource("/api/events");
  runs.addEventListener("run", function (e) {
    var run = JSON.parse(e.data);
    if (run.workflow !== workflow || loading === run.runId) return;
    if (current && current.runId === run.runId) return;  // its own stream follows it
    if (psr.seconds(run.startedAt) < shownStart) return;  // an older run changed status
    swap(run.runId);
  });
  // The new run's page body, asked with the plan of the DAG on screen: when the new run's
  // plan is the same (the next run of an unchanged workflow), the server leaves its DAG out
  // and the page keeps its own, statuses cleared: a thousand nodes neither rendered by the
  // server nor parsed and laid out by the browser again, just as the engine starts.
  function swap(runId, whole) {
    loading = runId;
    var shown = document.getElementById("run");
    var plan = shown && !whole ? shown.dataset.plan : "";
    var url = "/runs/" + encodeURIComponent(runId) + (plan ? "?plan=" + encodeURIComponent(plan) : "");
    fetch(url, { credentials: "same-origin" })
      .then(function (r) { return r.ok ? r.text() : null; })
      .then(function (html) {
        if (!html || loading !== runId) return;
        var next = new DOMParser().parseFromString(html, "text/html").getElementById("run");
        var old = document.getElementById("run") || document.getElementById("run-waiting");
        if (!next || !old) return;
        var kept = next.dataset.dagKept === "true" ? old.querySelector("#dag") : null;
        if (next.dataset.dagKept === "true" && !kept) { swap(runId, true); return; }
        if (current) current.stop();
        next = document.adoptNode(next);
        if (kept) {
          psr.clearDag(kept);
          next.querySelector("#dag").replaceWith(kept);
        }
        old.replaceWith(next);
        shownStart = Number(next.dataset.started);
        current = psr.runPage(next);
        document.title = workflow + " " + runId.slice(0, 8) + " (live) · psr-engine";
      });
  }
})();
