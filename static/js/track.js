/* Track page while queued/processing: poll the status JSON and show the page afresh once the
   result is in (GenreWeb.refreshPage keeps the player playing). */
GenreWeb.onPage("#track[data-status='queued'], #track[data-status='processing']", function (track) {
  "use strict";
  if (!window.fetch) return;
  var url = track.dataset.statusUrl;
  var badge = document.getElementById("track-status-badge");
  var title = document.getElementById("pending-title");
  var text = document.getElementById("pending-text");
  var delay = 1500;
  var TITLES = { queued: "Waiting for the classifier…", processing: "Listening to your track…" };

  function poll() {
    if (!track.isConnected) return; // the user went to another page
    fetch(url, { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      })
      .then(function (data) {
        delay = 1500;
        if (data.status === "done" || data.status === "failed") {
          // The server renders the result (bars, timeline, spectrogram); one refresh shows it.
          GenreWeb.refreshPage();
          return;
        }
        badge.textContent = data.status_display;
        badge.className = "status status-" + data.status;
        if (title && TITLES[data.status]) title.textContent = TITLES[data.status];
        if (text) text.textContent = "This page updates by itself when the result is ready.";
        setTimeout(poll, delay);
      })
      .catch(function () {
        // Keep trying, but back off while the server or the network is away.
        delay = Math.min(delay * 2, 30000);
        if (text) text.textContent = "Lost contact with the server; retrying…";
        setTimeout(poll, delay);
      });
  }

  setTimeout(poll, delay);
});
