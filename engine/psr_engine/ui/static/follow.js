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
  // The new run's page taken into the <main> on screen around its DAG, which stays where it
  // is: moving a thousand nodes out of the document and back would build their boxes again.
  function around(shown, next) {
    var wrap = shown.querySelector(".dag-wrap"), theirs = next.querySelector(".dag-wrap");
    var list = function (x) { return Array.prototype.slice.call(x); };
    list(shown.children).forEach(function (c) { if (c !== wrap) c.remove(); });
    var before = true;
    list(next.children).forEach(function (c) {
      if (c === theirs) before = false;
      else if (before) shown.insertBefore(c, wrap);
      else shown.appendChild(c);
    });
    list(shown.attributes).forEach(function (a) { if (!next.hasAttribute(a.name)) shown.removeAttribute(a.name); });
    list(next.attributes).forEach(function (a) { shown.setAttribute(a.name, a.value); });
    return shown;
  }
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
        if (kept) {
          psr.clearDag(kept);
          next = around(old, next);
        } else {
          next = document.adoptNode(next);
          old.replaceWith(next);
        }
        shownStart = Number(next.dataset.started);
        current = psr.runPage(next);
        document.title = workflow + " " + runId.slice(0, 8) + " (live) · psr-engine";
      });
  }
})();
