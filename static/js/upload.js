/* Upload page: each chosen or dropped file goes up in its own request, with its own progress bar.
   Without JavaScript the form posts all files at once and the server renders the results. */
(function () {
  "use strict";
  if (!window.FormData || !window.XMLHttpRequest) return;
  document.documentElement.classList.add("js");
  // A file dropped anywhere but the drop zone would otherwise replace the page (and stop the
  // player) with the file itself.
  window.addEventListener("dragover", function (event) { event.preventDefault(); });
  window.addEventListener("drop", function (event) { event.preventDefault(); });
  GenreWeb.onPage("#upload-form", setUp);

  function setUp(form) {
    var input = form.querySelector('input[type="file"]');
    var zone = document.getElementById("drop-zone");
    var list = document.getElementById("upload-list");
    var csrf = form.querySelector('input[name="csrfmiddlewaretoken"]').value;
    var maxBytes = parseInt(form.dataset.maxBytes, 10) || 0;
    var PARALLEL = 2; // enough to keep the line busy without starving each bar
    var waiting = [];
    var running = 0;
    var classifying = {}; // track id -> its upload item, until the worker is done with it
    var pollTimer = null;
    var pollDelay = 2000;
    var MAX_IDS = 100; // what tracks/status.json answers for at once

    function el(tag, className, text) {
      var node = document.createElement(tag);
      if (className) node.className = className;
      if (text) node.textContent = text;
      return node;
    }

    function addItem(file) {
      var li = el("li", "upload-item");
      li.appendChild(el("span", "upload-name", file.name));
      var progress = el("progress");
      progress.max = 100;
      progress.value = 0;
      progress.setAttribute("aria-label", "Uploading " + file.name);
      li.appendChild(progress);
      li.appendChild(el("span", "upload-message", "Waiting…"));
      list.appendChild(li); // in the order chosen, as the page without JavaScript lists them
      return li;
    }

    function finish(li, ok, message, url, created) {
      var progress = li.querySelector("progress");
      if (progress) progress.remove();
      li.classList.add(ok ? "ok" : "error");
      if (created) li.dataset.created = "true";
      li.querySelector(".upload-message").textContent = message;
      if (url) {
        var link = el("a", null, "View track");
        link.href = url;
        li.appendChild(link);
      }
    }

    function percent(probability) {
      return (Math.round(probability * 1000) / 10).toFixed(1) + "%"; // as the track page writes it
    }

    // What the track page would say: the genre, or its top two when the model was unsure.
    function outcome(track) {
      if (track.status === "failed") return "Could not be classified: " + (track.failure_reason || "unknown error");
      if (track.status === "queued") return "Queued for classification…";
      if (track.status === "processing") return "Classifying…";
      if (track.status === "gone") return "No longer in your library.";
      if (track.status !== "done") return "Looking up its result…"; // a duplicate, until the first answer
      var prediction = track.prediction;
      if (!prediction) return "Genre: " + (track.genre || "none");
      if (prediction.uncertain && prediction.top_genres.length > 1) {
        var top = prediction.top_genres;
        return "Uncertain — maybe " + top[0].genre + " (" + percent(top[0].probability) + ") or " +
          top[1].genre + " (" + percent(top[1].probability) + ")";
      }
      return "Genre: " + prediction.genre + " (" + percent(prediction.confidence) + ")";
    }

    function showStatus(li, track) {
      var line = li.querySelector(".upload-status");
      if (!line) {
        line = el("span", "upload-status");
        li.insertBefore(line, li.querySelector("a"));
      }
      line.textContent = outcome(track);
      li.dataset.status = track.status;
      // "... and queued for classification" was true when it arrived; the line above now says more.
      if (li.dataset.created && ["done", "failed", "gone"].indexOf(track.status) !== -1) {
        li.querySelector(".upload-message").textContent = li.querySelector(".upload-name").textContent + " is uploaded.";
      }
    }

    function watch(li, trackId, status) {
      classifying[trackId] = li;
      showStatus(li, { status: status === "queued" || status === "processing" ? status : "unknown" });
      if (!pollTimer) pollTimer = setTimeout(poll, pollDelay);
    }

    // One request for every track still being classified, until none is left or the page is gone.
    function poll() {
      pollTimer = null;
      var ids = Object.keys(classifying).slice(0, MAX_IDS);
      if (!ids.length || !form.isConnected || !window.fetch) return;
      fetch(form.dataset.statusesUrl + "?ids=" + ids.join(","),
        { headers: { Accept: "application/json" }, credentials: "same-origin", cache: "no-store" })
        .then(function (response) {
          if (!response.ok) throw new Error("HTTP " + response.status);
          return response.json();
        })
        .then(function (data) {
          pollDelay = 2000;
          var answered = {};
          data.tracks.forEach(function (track) {
            answered[track.id] = true;
            var li = classifying[track.id];
            if (!li) return;
            showStatus(li, track);
            if (track.status === "done" || track.status === "failed") delete classifying[track.id];
          });
          // Deleted meanwhile (from another tab): nothing more will come for it.
          ids.forEach(function (id) {
            if (answered[id] || !classifying[id]) return;
            showStatus(classifying[id], { status: "gone" });
            delete classifying[id];
          });
        })
        .catch(function () {
          pollDelay = Math.min(pollDelay * 2, 30000); // the server or the network is away: back off
        })
        .then(function () {
          if (Object.keys(classifying).length && !pollTimer) pollTimer = setTimeout(poll, pollDelay);
        });
    }

    function fallbackMessage(status) {
      if (status === 0) return "The connection was lost. Check your network and try again.";
      if (status === 413) return "This file is larger than the upload limit.";
      if (status === 403) return "Your session has expired. Reload the page and try again.";
      return "The upload failed (HTTP " + status + "). Please try again.";
    }

    // The storage line and bar as the server counts them after this upload.
    function showStorage(storage) {
      var box = document.getElementById("storage-usage");
      if (!box || !storage) return;
      box.querySelector(".storage-text").textContent = storage.text;
      var fill = box.querySelector(".bar-fill");
      if (fill) fill.style.setProperty("--width", String(storage.percent));
      box.querySelector(".storage-full").hidden = !storage.full;
    }

    function send(file, li) {
      var xhr = new XMLHttpRequest();
      var data = new FormData();
      data.append("csrfmiddlewaretoken", csrf);
      data.append("files", file, file.name);
      li.querySelector(".upload-message").textContent = "Uploading…";
      xhr.upload.addEventListener("progress", function (event) {
        if (event.lengthComputable) li.querySelector("progress").value = (event.loaded / event.total) * 100;
      });
      xhr.addEventListener("loadend", function () {
        running -= 1;
        var result = null;
        try {
          result = JSON.parse(xhr.responseText).files[0];
        } catch (e) {
          result = null;
        }
        if (result) {
          finish(li, result.ok, result.message, result.url, result.created);
          if (result.ok && result.track_id) watch(li, result.track_id, result.status);
          showStorage(JSON.parse(xhr.responseText).storage);
        } else if (xhr.responseURL && xhr.responseURL.indexOf("/accounts/login") !== -1) {
          finish(li, false, "You have been logged out. Log in again and retry this file.");
        } else {
          finish(li, false, fallbackMessage(xhr.status));
        }
        next();
      });
      xhr.open("POST", form.action);
      xhr.setRequestHeader("Accept", "application/json");
      xhr.setRequestHeader("X-CSRFToken", csrf);
      xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
      xhr.send(data);
    }

    function next() {
      while (running < PARALLEL && waiting.length) {
        var job = waiting.shift();
        running += 1;
        send(job.file, job.li);
      }
    }

    function addFiles(files) {
      Array.prototype.forEach.call(files, function (file) {
        var li = addItem(file);
        // Known too big: say so now instead of sending the whole file to be refused.
        if (maxBytes && file.size > maxBytes) {
          finish(li, false, file.name + " is larger than the " + form.dataset.maxSize + " upload limit.");
          return;
        }
        waiting.push({ file: file, li: li });
      });
      next();
    }

    input.addEventListener("change", function () {
      addFiles(input.files);
      input.value = ""; // choosing the same file again fires change again
    });
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      addFiles(input.files);
      input.value = "";
    });

    ["dragenter", "dragover"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        event.preventDefault();
        zone.classList.add("dragover");
      });
    });
    ["dragleave", "drop"].forEach(function (type) {
      zone.addEventListener(type, function (event) {
        event.preventDefault();
        zone.classList.remove("dragover");
      });
    });
    zone.addEventListener("drop", function (event) {
      if (event.dataTransfer && event.dataTransfer.files.length) addFiles(event.dataTransfer.files);
    });
    // Until now a chosen file would go nowhere (the JS page hides the submit button); a boosted
    // page is bound only after htmx settles it, so browser tests wait for this mark.
    form.dataset.ready = "true";
  }
})();
