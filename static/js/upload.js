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
      list.insertBefore(li, list.firstChild);
      return li;
    }

    function finish(li, ok, message, url) {
      var progress = li.querySelector("progress");
      if (progress) progress.remove();
      li.classList.add(ok ? "ok" : "error");
      li.querySelector(".upload-message").textContent = message;
      if (url) {
        var link = el("a", null, "View track");
        link.href = url;
        li.appendChild(link);
      }
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
          finish(li, result.ok, result.message, result.url);
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
