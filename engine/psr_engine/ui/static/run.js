// The run page: nodes change status live (SSE), edges drawn between the laid-out nodes, the
// attempts' timeline, a side panel per task with its log (tail, then follow), and actions.
// psr.runPage(main) brings one run's <main id="run"> to life and returns what stops it: the
// follow page (follow.js) stops one and starts the next when it swaps in a new run.
"use strict";
(function () {
  function start(root) {
    var stopped = false, source = null, ganttWatch = null, resized = null;
    var runId = root.dataset.run;
    var api = "/api/runs/" + encodeURIComponent(runId);
    var dag = document.getElementById("dag");
    var svg = document.getElementById("edges");
    var gantt = document.getElementById("gantt");
    var panel = document.getElementById("panel");
    var doc = null, selected = null, follow = null;
    var NS = "http://www.w3.org/2000/svg";

    // Looked up once: a run of a thousand tasks gets thousands of changes.
    var nodes = {}, shown = {}, needsOf = {}, critical = {};
    dag.querySelectorAll(".node[data-task]").forEach(function (n) {
      var task = n.dataset.task;
      nodes[task] = n;
      shown[task] = n.dataset.status;
      if (n.dataset.needs && n.dataset.needs !== "[]") needsOf[task] = JSON.parse(n.dataset.needs);
      if (n.classList.contains("critical")) critical[task] = true;
    });
    var big = Object.keys(nodes).length > 300;
    var attemptsBy = {};  // task -> its attempts, as the last document or event had them
    function nodeOf(task) {
      return Object.prototype.hasOwnProperty.call(nodes, task) ? nodes[task] : null;
    }
    function allAttempts() {
      var out = [];
      Object.keys(attemptsBy).forEach(function (k) { out = out.concat(attemptsBy[k]); });
      return out;
    }
    function useDoc(d) {
      doc = d;
      attemptsBy = {};
      d.attempts.forEach(function (a) { (attemptsBy[a.task] = attemptsBy[a.task] || []).push(a); });
    }
    function anchor(node) {
      // a node inside a collapsed matrix group is reached through the group's summary
      var group = node.closest("details.group");
      if (group && !group.open) return group.querySelector("summary");
      return node;
    }

    // -- edges ----------------------------------------------------------------------------
    // Drawn when the geometry changes (load, resize, a group folded, a column resized): a
    // change of status moves no node, and the critical path only restyles the edges drawn.
    var edges = [];  // {from, to, path}
    var edgesDue = null;
    function drawEdges() {
      if (edgesDue) return;
      edgesDue = requestAnimationFrame(function () { edgesDue = null; drawEdgesNow(); });
    }
    function drawEdgesNow() {
      // Every read first (one layout), then every write.
      var box = dag.getBoundingClientRect();
      var width = dag.scrollWidth, height = dag.scrollHeight, left = dag.scrollLeft, top = dag.scrollTop;
      var seen = {}, lines = [];
      Object.keys(needsOf).forEach(function (task) {
        var node = nodes[task];
        needsOf[task].forEach(function (need) {
          var from = nodeOf(need);
          if (!from) return;
          var a = anchor(from).getBoundingClientRect(), b = anchor(node).getBoundingClientRect();
          var key = [a.left, a.top, b.left, b.top].join();
          if (seen[key]) return;
          seen[key] = true;
          lines.push({ from: need, to: task, x1: a.right - box.left + left, y1: a.top + a.height / 2 - box.top + top,
                       x2: b.left - box.left + left, y2: b.top + b.height / 2 - box.top + top });
        });
      });
      while (svg.firstChild) svg.removeChild(svg.firstChild);
      svg.setAttribute("width", width);
      svg.setAttribute("height", height);
      edges = lines.map(function (l) {
        var mid = (l.x1 + l.x2) / 2;
        var path = document.createElementNS(NS, "path");
        path.setAttribute("d", "M" + l.x1 + "," + l.y1 + " C" + mid + "," + l.y1 + " " + mid + "," + l.y2 + " " + l.x2 + "," + l.y2);
        svg.appendChild(path);
        var edge = { from: l.from, to: l.to, path: path, on: false };
        styleEdge(edge);
        return edge;
      });
    }
    function styleEdge(edge) {
      var on = critical[edge.from] === true && critical[edge.to] === true;
      if (on !== edge.on) { edge.on = on; edge.path.setAttribute("class", on ? "critical" : ""); }
    }

    // -- timeline -------------------------------------------------------------------------
    // Redrawn at most once a second, less often the more attempts it holds (5 s at 1,000): a
    // run of a thousand tasks sends hundreds of changes a second, and the browser must not
    // compete with the engine for the CPU. A large run's timeline is drawn only while it is on
    // screen (or near): below a DAG of hundreds of nodes it seldom is.
    var ganttDue = null, ganttAt = 0, ganttSeen = true, ganttStale = false;
    if (big && window.IntersectionObserver) {
      ganttSeen = false;
      ganttWatch = new IntersectionObserver(function (entries) {
        ganttSeen = entries[entries.length - 1].isIntersecting;
        if (ganttSeen && ganttStale) drawGantt();
      }, { rootMargin: "300px" }).observe(gantt);
    }
    function drawGantt() {
      ganttStale = true;
      if (ganttDue || !ganttSeen) return;
      var every = Math.max(1000, Object.keys(attemptsBy).length * 5);
      var wait = Math.max(0, every - (Date.now() - ganttAt));
      ganttDue = setTimeout(function () {
        ganttDue = null;
        if (!ganttSeen) return;
        ganttAt = Date.now();
        ganttStale = false;
        drawGanttNow();
      }, wait);
    }
    function drawGanttNow() {
      if (!doc) return;
      var sec = psr.seconds;
      var attempts = allAttempts().filter(function (a) { return a.startedAt; }).map(function (a) {
        return { task: a.task, attempt: a.attempt, status: a.status, exitCode: a.exitCode,
                 durationS: a.durationS, startedAt: sec(a.startedAt), endedAt: sec(a.endedAt) };
      });
      if (!attempts.length) return;
      var start = sec(doc.run.startedAt);
      var now = Date.now() / 1000;
      var end = sec(doc.run.endedAt) || now;
      attempts.forEach(function (a) { end = Math.max(end, a.endedAt || now); });
      // One row a task, in the order they started; a run of thousands shows its latest 200.
      attempts.sort(function (a, b) { return a.startedAt - b.startedAt; });
      var rowOf = {}, tasks = [];
      attempts.forEach(function (a) { if (!(a.task in rowOf)) { rowOf[a.task] = tasks.length; tasks.push(a.task); } });
      var hidden = Math.max(0, tasks.length - 200);
      if (hidden) {
        tasks = tasks.slice(hidden);
        rowOf = {};
        tasks.forEach(function (t, i) { rowOf[t] = i; });
        attempts = attempts.filter(function (a) { return a.task in rowOf; });
      }
      var labelW = 180, width = Math.max(gantt.clientWidth - 20, 400), rowH = 18;
      var scale = (width - labelW - 10) / Math.max(end - start, 0.001);
      var s = document.createElementNS(NS, "svg");
      s.setAttribute("width", width);
      s.setAttribute("height", tasks.length * rowH + 20);
      tasks.forEach(function (task, i) {
        var t = document.createElementNS(NS, "text");
        t.setAttribute("x", 0); t.setAttribute("y", i * rowH + 13);
        t.textContent = task.length > 26 ? task.slice(0, 25) + "…" : task;
        s.appendChild(t);
      });
      attempts.forEach(function (a) {
        var i = rowOf[a.task];
        var r = document.createElementNS(NS, "rect");
        var x = labelW + (a.startedAt - start) * scale;
        var w = Math.max(2, ((a.endedAt || now) - a.startedAt) * scale);
        r.setAttribute("x", x.toFixed(1)); r.setAttribute("y", i * rowH + 3);
        r.setAttribute("width", w.toFixed(1)); r.setAttribute("height", rowH - 6);
        r.setAttribute("data-status", a.endedAt ? a.status : "running");
        r.setAttribute("data-attempt-of", a.task);
        var title = document.createElementNS(NS, "title");
        title.textContent = a.task + " attempt " + a.attempt + ": " + a.status +
          (a.exitCode !== null ? " (exit " + a.exitCode + ")" : "") + " " + psr.duration(a.durationS);
        r.appendChild(title);
        s.appendChild(r);
      });
      var axis = document.createElementNS(NS, "text");
      axis.setAttribute("x", labelW); axis.setAttribute("y", tasks.length * rowH + 16);
      axis.textContent = "0 … " + psr.duration(end - start) + (hidden ? " (" + hidden + " earlier tasks not drawn)" : "");
      s.appendChild(axis);
      gantt.textContent = "";
      gantt.appendChild(s);
    }

    // -- the document and live events -----------------------------------------------------
    // Changes are applied together, once a frame at most, writes only (no layout read in
    // between): a batch costs one style and layout pass. A run of hundreds of tasks is
    // applied at most every 400 ms (still well within the second a change may take to show),
    // so that the page does not take the CPU from the engine. A hidden tab gets no frames:
    // its changes wait (one per task) until it shows again.
    var EVERY_MS = big ? 400 : 0;
    var pending = {}, pendingAny = false, pendingPath = null, tickedAt = 0;
    var running = {};  // task -> its start, for the nodes shown running
    var flushDue = false, flushedAt = 0;
    Object.keys(shown).forEach(function (t) { if (shown[t] === "running") running[t] = null; });

    function schedule() {
      if (flushDue) return;
      flushDue = true;
      var wait = Math.max(0, EVERY_MS - (Date.now() - flushedAt));
      var frame = function () { requestAnimationFrame(flush); };
      if (wait) setTimeout(frame, wait); else frame();
    }
    function flush() {
      flushDue = false;
      if (stopped) return;
      flushedAt = Date.now();
      var groups = [];
      if (pendingAny) {
        var batch = pending;
        pending = {};
        pendingAny = false;
        Object.keys(batch).forEach(function (id) {
          var group = applyTask(batch[id]);
          if (group && groups.indexOf(group) < 0) groups.push(group);
        });
        groups.forEach(function (group) { group.dataset.status = groupStatus(group); });
        if (selected && batch[selected]) renderPanel(selected);
        drawGantt();
      }
      if (pendingPath) { markCritical(pendingPath); pendingPath = null; }
      if (ticking() && Date.now() - tickedAt >= 1000) { tickedAt = Date.now(); tickNow(); }
    }
    function part(node, name) {
      var key = "_" + name;
      return node[key] || (node[key] = node.querySelector("." + name));
    }
    function applyTask(task) {
      // Only what changed is written: the node's status (its colours follow from CSS), its
      // state and duration texts. Returns the matrix group it sits in when its status moved.
      var id = task.task, node = nodeOf(id);
      if (!node) return null;
      var group = null;
      if (shown[id] !== task.status) {
        shown[id] = task.status;
        node.dataset.status = task.status;
        node.title = id + ": " + task.status + (task.reason ? " (" + task.reason + ")" : "");
        part(node, "state").textContent = task.status;
        if (task.status === "running") running[id] = task.startedAt; else delete running[id];
        group = node.closest("details.group");
      }
      if (task.reason === "reused" && node.dataset.reused !== "true") node.dataset.reused = "true";
      if (task.status !== "running" && task.status !== "pending") {
        var text = psr.duration(task.durationS);
        var dur = part(node, "dur");
        if (dur.textContent !== text) dur.textContent = text;
      }
      return group;
    }
    function groupStatus(group) {
      var order = ["running", "retrying", "crashed", "failed", "timed_out", "cancelled", "pending", "skipped"];
      var seen = {};
      group.querySelectorAll(".node").forEach(function (n) { seen[shown[n.dataset.task]] = true; });
      for (var i = 0; i < order.length; i++) if (seen[order[i]]) return order[i];
      return "succeeded";
    }
    function markCritical(path) {
      var on = {}, moved = false;
      path.forEach(function (t) { on[t] = true; });
      Object.keys(critical).forEach(function (t) {
        if (!on[t]) { moved = true; if (nodes[t]) nodes[t].classList.remove("critical"); }
      });
      path.forEach(function (t) {
        if (!critical[t]) { moved = true; if (nodes[t]) nodes[t].classList.add("critical"); }
      });
      critical = on;
      if (moved) edges.forEach(styleEdge);
    }
    function setRun(run) {
      root.dataset.runStatus = run.status;
      var badge = document.querySelector("#run-badge .badge");
      if (badge) { badge.dataset.status = run.status; badge.textContent = run.status; }
      if (doc) doc.run = run;
      var cancel = document.getElementById("cancel-run"), resume = document.getElementById("resume-run");
      if (cancel) cancel.hidden = run.status !== "running";
      if (resume) resume.hidden = run.status === "running" || run.status === "succeeded";
    }
    // Once a second while the run goes, the running tasks' and the run's durations: in the
    // pass of a batch when one comes, in a pass of their own only when none did for a second.
    function ticking() { return doc && (!doc.run.endedAt || Object.keys(running).length); }
    function tick() { if (ticking() && Date.now() - tickedAt >= 1000) schedule(); }
    function tickNow() {
      var now = Date.now() / 1000;
      Object.keys(running).forEach(function (id) {
        var t = doc && doc.tasks[id];
        var start = psr.seconds(t ? t.startedAt : running[id]);
        if (start) part(nodes[id], "dur").textContent = psr.duration(now - start);
      });
      if (doc && !doc.run.endedAt) {
        document.getElementById("run-duration").textContent = psr.duration(now - psr.seconds(doc.run.startedAt));
        drawGantt();
      }
    }

    function listen() {
      if (!window.EventSource) return;
      source = new EventSource(api + "/events");
      // One `tasks` event per look of the server: each entry names its task and carries the
      // fields that changed since the stream last sent it (all of them the first time).
      source.addEventListener("tasks", function (e) {
        JSON.parse(e.data).forEach(function (change) {
          var id = change.task, task = doc.tasks[id];
          if (task) { for (var k in change) task[k] = change[k]; } else { task = doc.tasks[id] = change; }
          if (change.attempts) attemptsBy[id] = change.attempts;
          pending[id] = task;
          pendingAny = true;
        });
        schedule();
      });
      source.addEventListener("critical", function (e) { pendingPath = JSON.parse(e.data); schedule(); });
      source.addEventListener("run", function (e) {
        var run = JSON.parse(e.data);
        doc.run = run;
        flush();  // what came before the run's event shows with it
        setRun(run);
        if (run.status !== "running") {
          // The stream sent every task's final state and the critical path before this.
          source.close();
          drawGantt();
        }
      });
    }

    // -- the side panel -------------------------------------------------------------------
    function row(table, key, value) {
      var tr = psr.el("tr");
      tr.appendChild(psr.el("th", {}, key));
      tr.appendChild(psr.el("td", {}, value));
      table.appendChild(tr);
    }
    var whole = null;  // the run's document, fetched once for a task the stream has not sent
    function renderPanel(taskId) {
      if (!doc) return;
      var t = doc.tasks[taskId];
      if (!t) {
        // A task still pending when the page opened: the stream sends it once it moves.
        whole = whole || fetch(api, { credentials: "same-origin" }).then(function (r) { return r.json(); })
          .then(function (d) { Object.keys(d.tasks).forEach(function (k) { doc.tasks[k] = doc.tasks[k] || d.tasks[k]; }); });
        whole.then(function () { if (selected === taskId && doc.tasks[taskId]) renderPanel(taskId); });
        return;
      }
      document.getElementById("panel-title").textContent = taskId;
      var body = document.getElementById("panel-body");
      body.textContent = "";
      var facts = psr.el("table", { "class": "facts-table" });
      row(facts, "status", t.status + (t.reason ? " (" + t.reason + ")" : ""));
      row(facts, "attempts", t.attempt);
      row(facts, "exit code", t.exitCode === null ? "-" : t.exitCode);
      row(facts, "duration", psr.duration(t.durationS));
      row(facts, "CPU", "user " + psr.duration(t.cpuUserS) + ", sys " + psr.duration(t.cpuSysS));
      row(facts, "peak RSS", psr.bytes(t.maxRssBytes));
      if (t.needs && t.needs.length) row(facts, "needs", t.needs.join(", "));
      Object.keys(t.matrix || {}).forEach(function (k) { row(facts, "matrix " + k, JSON.stringify(t.matrix[k])); });
      if (t.cost) row(facts, "cost", (t.cost.used !== undefined ? t.cost.used : "?") + " " + (t.cost.currency || "") + " used");
      if (t.message) row(facts, "message", t.message);
      body.appendChild(facts);
      var outputs = Object.keys(t.outputs || {});
      if (outputs.length) {
        body.appendChild(psr.el("h3", {}, "Outputs"));
        var ot = psr.el("table");
        outputs.forEach(function (k) { row(ot, k, t.outputs[k]); });
        body.appendChild(ot);
      }
      var attempts = attemptsBy[taskId] || [];
      if (attempts.length) {
        body.appendChild(psr.el("h3", {}, "Attempts"));
        var at = psr.el("table");
        var head = psr.el("tr");
        ["#", "status", "exit", "reason", "duration"].forEach(function (h) { head.appendChild(psr.el("th", {}, h)); });
        at.appendChild(head);
        attempts.forEach(function (a) {
          var tr = psr.el("tr");
          [a.attempt, a.status, a.exitCode === null ? "-" : a.exitCode, a.reason || "", psr.duration(a.durationS)].forEach(function (v) {
            tr.appendChild(psr.el("td", {}, v));
          });
          at.appendChild(tr);
        });
        body.appendChild(at);
      }
    }

    function logUrl(taskId) { return api + "/tasks/" + encodeURIComponent(taskId) + "/logs"; }

    function openLog(taskId) {
      stopFollow();
      var pre = document.getElementById("log");
      pre.textContent = "";
      document.getElementById("log-whole").setAttribute("href", logUrl(taskId));
      fetch(logUrl(taskId) + "?tail=200", { credentials: "same-origin" }).then(function (r) {
        if (!r.ok) { pre.textContent = r.status === 404 ? "(no log yet)" : "(log unavailable)"; return { size: 0 }; }
        var size = Number(r.headers.get("X-Log-Size") || 0);
        return r.text().then(function (text) { pre.textContent = text; pre.scrollTop = pre.scrollHeight; return { size: size }; });
      }).then(function (state) { startFollow(taskId, state.size); });
    }
    function startFollow(taskId, offset) {
      follow = setInterval(function () {
        var t = doc && doc.tasks[taskId];
        if (!document.getElementById("log-follow").checked) return;
        fetch(logUrl(taskId), { credentials: "same-origin", headers: { Range: "bytes=" + offset + "-" } }).then(function (r) {
          if (r.status === 404) return "";
          if (r.status === 416) return "";
          var size = r.headers.get("X-Log-End");
          if (size !== null) offset = Number(size);
          return r.text();
        }).then(function (text) {
          if (!text) {
            if (t && t.status !== "running" && t.status !== "retrying" && t.status !== "pending") stopFollow();
            return;
          }
          var pre = document.getElementById("log");
          if (pre.textContent === "(no log yet)") pre.textContent = "";
          var atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
          pre.textContent += text;
          if (atEnd) pre.scrollTop = pre.scrollHeight;
        });
      }, 500);
    }
    function stopFollow() { if (follow) { clearInterval(follow); follow = null; } }

    function select(taskId) {
      dag.querySelectorAll(".node.selected").forEach(function (n) { n.classList.remove("selected"); });
      var node = nodeOf(taskId);
      if (node) node.classList.add("selected");
      selected = taskId;
      panel.hidden = false;
      panel.dataset.selected = taskId;
      renderPanel(taskId);
      openLog(taskId);
    }

    dag.addEventListener("click", function (e) {
      var node = e.target.closest(".node");
      if (node) select(node.dataset.task);
    });
    dag.addEventListener("toggle", drawEdges, true);
    // A column that changes size moves the nodes after it: the edges follow. (Fired once at
    // the start too: the first drawing.)
    if (window.ResizeObserver) {
      resized = new ResizeObserver(function () { drawEdges(); });
      dag.querySelectorAll(".level").forEach(function (level) { resized.observe(level); });
    }
    document.getElementById("panel-close").addEventListener("click", function () {
      panel.hidden = true; selected = null; stopFollow();
      dag.querySelectorAll(".node.selected").forEach(function (n) { n.classList.remove("selected"); });
    });
    function onResize() { drawEdges(); drawGantt(); }
    window.addEventListener("resize", onResize);

    // -- actions --------------------------------------------------------------------------
    function note(text) { var n = document.getElementById("action-note"); if (n) n.textContent = text; }
    function followNewRun() {
      // the resumed run records this one as resumedFrom; go to it once it is there
      var tries = 0;
      var timer = setInterval(function () {
        tries++;
        fetch("/api/runs?limit=20&workflow=" + encodeURIComponent(root.dataset.workflow), { credentials: "same-origin" })
          .then(function (r) { return r.json(); }).then(function (page) {
            var found = page.runs.filter(function (r) { return r.resumedFrom === runId; })[0];
            if (found) { clearInterval(timer); window.location.assign("/runs/" + encodeURIComponent(found.runId)); }
            else if (tries > 60) { clearInterval(timer); note("the new run did not show up; see the runs list"); }
          });
      }, 300);
    }
    function act(url, what) {
      note(what + "…");
      psr.post(url).then(function (res) {
        if (!res.ok) { note(res.body.error || ("failed: " + res.status)); return; }
        if (res.body.action === "cancel") note("cancel sent to the engine (pid " + res.body.pid + ")");
        else { note("started (pid " + res.body.pid + "); opening its run…"); followNewRun(); }
      });
    }
    var cancel = document.getElementById("cancel-run");
    if (cancel) cancel.addEventListener("click", function () { act(api + "/cancel", "cancelling"); });
    var resume = document.getElementById("resume-run");
    if (resume) resume.addEventListener("click", function () { act(api + "/resume", "resuming"); });
    var rerun = document.getElementById("rerun-from");
    if (rerun) rerun.addEventListener("click", function () {
      if (selected) act(api + "/rerun?from=" + encodeURIComponent(selected), "rerunning from " + selected);
    });

    // -- start ----------------------------------------------------------------------------
    if (!window.ResizeObserver) drawEdges();
    if (root.dataset.runStatus === "running") {
      // The event stream's first message holds every task with its attempts: no need to fetch
      // the whole run besides (for a run of thousands, a megabyte parsed twice).
      useDoc({ run: { runId: runId, status: "running", startedAt: Number(root.dataset.started), endedAt: null },
               tasks: {}, attempts: [] });
      listen();
    } else {
      fetch(api, { credentials: "same-origin" }).then(function (r) { return r.json(); }).then(function (d) {
        useDoc(d);
        drawGantt();
        setRun(d.run);
      });
    }
    var ticker = setInterval(tick, 1000);
    return {
      runId: runId,
      stop: function () {
        // Everything that would still fire: the stream, the timers, the observers.
        stopped = true;
        if (source) source.close();
        clearInterval(ticker);
        stopFollow();
        if (ganttDue) clearTimeout(ganttDue);
        if (edgesDue) cancelAnimationFrame(edgesDue);
        if (ganttWatch) ganttWatch.disconnect();
        if (resized) resized.disconnect();
        window.removeEventListener("resize", onResize);
      }
    };
  }
  // A DAG kept for the next run of the same plan (the follow page): every node pending, as
  // the server draws a run that has just started; the new run's stream then moves them.
  function clearDag(dag) {
    dag.querySelectorAll(".node").forEach(function (n) {
      if (n.dataset.status !== "pending") {
        n.dataset.status = "pending";
        n.title = n.dataset.task + ": pending";
        n.querySelector(".state").textContent = "pending";
      }
      var dur = n.querySelector(".dur");
      if (dur.textContent) dur.textContent = "";
      n.classList.remove("critical", "selected");
      if (n.dataset.reused) delete n.dataset.reused;
    });
    dag.querySelectorAll("details.group").forEach(function (g) { g.dataset.status = "pending"; });
  }
  psr.runPage = start;
  psr.clearDag = clearDag;
  var main = document.getElementById("run");
  if (main && !document.getElementById("follow")) start(main);
})();
