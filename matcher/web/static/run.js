// matcher ui, running page: polls the run's status once a second and shows the progress;
// reloads the page (which then shows the result) when the run is over.
(function () {
  "use strict";
  var box = document.getElementById("running");
  if (!box) { return; }
  var id = box.getAttribute("data-run");
  var stages = JSON.parse(box.getAttribute("data-stage-labels") || "{}");
  var statuses = JSON.parse(box.getAttribute("data-status-labels") || "{}");
  var active = { queued: true, running: true };
  function num(x) { return (x === null || x === undefined) ? "—" : Number(x).toLocaleString(); }
  function pct(x) { return (x === null || x === undefined) ? "—" : (100 * x).toFixed(2) + "%"; }
  function secs(x) { return (x === null || x === undefined) ? "—" : Number(x).toFixed(1) + " s"; }
  function set(name, text) { var el = document.getElementById(name); if (el) { el.textContent = text; } }
  function tick() {
    fetch("/api/runs/" + encodeURIComponent(id), { headers: { "Accept": "application/json" }, cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (run) {
        if (!active[run.status]) { window.location.reload(); return; }
        var p = run.progress || {};
        set("status", statuses[run.status] || run.status);
        set("stage", stages[p.stage] || p.stage || "—");
        set("elapsed", secs(p.elapsed_s) + (run.time_limit_s ? " / " + secs(run.time_limit_s) : ""));
        set("placed", num(p.placed) + (run.students ? " / " + num(run.students) : ""));
        set("best", num(p.best) + " / " + num(p.bound));
        set("gap", pct(p.gap));
        set("note", p.note || "—");
        var asked = document.getElementById("cancel-requested");
        if (asked) { asked.hidden = !p.cancel_requested; }
        box.setAttribute("data-stage", p.stage || "");
        window.setTimeout(tick, 1000);
      })
      .catch(function () { window.setTimeout(tick, 2000); });
  }
  tick();
})();
