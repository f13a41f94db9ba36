// Library page: while some tracks on the page are still queued or being classified, ask for
// their status every few seconds and show the page afresh once one of them has finished, so the
// genre and confidence columns fill in by themselves (without stopping the player).
GenreWeb.onPage(".lib-table", function (table) {
  "use strict";
  const rows = Array.from(table.querySelectorAll("tr[data-status-url][data-status='queued'], tr[data-status-url][data-status='processing']"));
  if (!rows.length || !window.fetch) return;
  let delay = 2000;

  function check() {
    if (!table.isConnected) return; // the user went to another page
    Promise.all(rows.map(function (row) {
      return fetch(row.dataset.statusUrl, { headers: { Accept: "application/json" }, credentials: "same-origin" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .catch(function () { return null; });
    })).then(function (results) {
      if (!table.isConnected) return;
      const finished = results.some(function (r) { return r && (r.status === "done" || r.status === "failed"); });
      if (finished) { GenreWeb.refreshPage(); return; }
      delay = Math.min(delay * 1.5, 15000); // back off for long queues
      window.setTimeout(check, delay);
    });
  }
  window.setTimeout(check, delay);
});
