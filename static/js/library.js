// Library page: while some tracks on the page are still queued or being classified, ask for
// their status every few seconds and reload once one of them has finished, so the genre and
// confidence columns fill in by themselves.
(function () {
  "use strict";
  const rows = Array.from(document.querySelectorAll("tr[data-status-url][data-status='queued'], tr[data-status-url][data-status='processing']"));
  if (!rows.length || !window.fetch) return;
  let delay = 2000;

  function check() {
    Promise.all(rows.map(function (row) {
      return fetch(row.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .catch(function () { return null; });
    })).then(function (results) {
      const finished = results.some(function (r) { return r && (r.status === "done" || r.status === "failed"); });
      if (finished) { window.location.reload(); return; }
      delay = Math.min(delay * 1.5, 15000); // back off for long queues
      window.setTimeout(check, delay);
    });
  }
  window.setTimeout(check, delay);
})();
