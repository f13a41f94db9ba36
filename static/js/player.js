/* The player bar (templates/includes/player.html): one <audio> element that lives outside the
   #page that htmx swaps (shell.js), so the music goes on from page to page; a queue kept in
   sessionStorage, so a full reload picks up where it was; keyboard shortcuts; and the Media
   Session API, so media keys and the lock screen show and control what plays.

   Any page queues music with a button (templates/includes/play_buttons.html):
     <button type="button" data-player="play|next|add" data-player-src="{JSON list of tracks}"
             data-player-start="2">
   play: the queue becomes these tracks and the one at data-player-start (default 0) plays;
   next: they play after the current track; add: they join the end of the queue. */
(function () {
  "use strict";
  var STORE = "genreweb.player.";
  var bar = document.getElementById("player");
  if (!bar) {
    // Logged out: the next person at this browser tab must not find the last one's queue.
    try {
      Object.keys(window.sessionStorage).forEach(function (key) {
        if (key.indexOf(STORE) === 0) window.sessionStorage.removeItem(key);
      });
    } catch (e) { /* storage disabled */ }
    return;
  }

  var KEY = STORE + bar.dataset.user;
  var VOLUME_KEY = "genreweb.volume";
  var SEEK_STEP = 10; // seconds per arrow key
  var VOLUME_STEP = 0.1;
  var RESTART_AFTER = 3; // "previous" restarts a track that has played this long, as most players do
  var audio = document.getElementById("player-audio");
  var ui = {};
  ["play", "prev", "next", "title", "artist", "cover", "cover-genre", "seek", "time", "duration", "volume", "mute",
    "queue-toggle", "queue", "queue-list", "queue-count", "clear", "status"].forEach(function (name) {
    ui[name.replace(/-(\w)/g, function (_, c) { return c.toUpperCase(); })] = document.getElementById("player-" + name);
  });
  var placeholder = bar.dataset.placeholder;
  var idleHint = ui.artist.textContent; // what the empty bar says, worded once in player.html
  var queue = [];
  var current = -1;
  var seeking = false;
  var lastSaved = 0;

  // --- Queue state ------------------------------------------------------------------------

  function save() {
    lastSaved = Date.now();
    try {
      window.sessionStorage.setItem(KEY, JSON.stringify({
        items: queue, index: current, time: audio.currentTime || 0, playing: current >= 0 && !audio.paused,
      }));
    } catch (e) { /* storage full or disabled: the queue just lasts as long as the page */ }
  }

  function restore() {
    var saved = null;
    try { saved = JSON.parse(window.sessionStorage.getItem(KEY) || "null"); } catch (e) { saved = null; }
    if (!saved || !Array.isArray(saved.items) || !saved.items.length) return;
    // A queue saved by an older version of the page lacks fields the bar now reads: start afresh.
    if (!saved.items.every(function (item) { return item && item.audio_url && item.placeholder; })) return;
    queue = saved.items;
    var index = Math.min(Math.max(saved.index | 0, 0), queue.length - 1);
    load(index, { play: !!saved.playing, at: Number(saved.time) || 0 });
  }

  function load(index, options) {
    if (index < 0 || index >= queue.length) return false;
    options = options || {};
    current = index;
    audio.src = queue[current].audio_url;
    if (options.at > 0) {
      audio.addEventListener("loadedmetadata", function () { audio.currentTime = options.at; }, { once: true });
    }
    render();
    updateMediaSession();
    if (options.play) play();
    save();
    return true;
  }

  function play() {
    if (current < 0) return;
    var attempt = audio.play();
    // Rejected when the browser wants a click first (autoplay after a reload) or the file cannot
    // be played; the bar then shows "paused" and the play button works.
    if (attempt && attempt.catch) attempt.catch(function () { renderPlaying(); });
  }

  function togglePlay() {
    if (current < 0) return;
    if (audio.paused) play(); else audio.pause();
  }

  function next() {
    return load(current + 1, { play: true });
  }

  function previous() {
    if (audio.currentTime > RESTART_AFTER || current <= 0) {
      audio.currentTime = 0;
      return;
    }
    load(current - 1, { play: true });
  }

  function seekTo(seconds) {
    if (current < 0 || !isFinite(audio.duration)) return;
    audio.currentTime = Math.min(Math.max(seconds, 0), audio.duration);
  }

  function setVolume(value) {
    audio.volume = Math.min(Math.max(value, 0), 1);
    audio.muted = audio.volume === 0;
  }

  function remove(index) {
    var wasPlaying = !audio.paused;
    queue.splice(index, 1);
    if (index < current) {
      current -= 1;
    } else if (index === current) {
      // The removed track was playing: the one after it takes its place.
      if (!load(Math.min(index, queue.length - 1), { play: wasPlaying })) clear();
      return;
    }
    render();
    save();
  }

  function clear() {
    queue = [];
    current = -1;
    audio.pause();
    audio.removeAttribute("src");
    audio.load();
    render();
    updateMediaSession();
    save();
  }

  function enqueue(items, how, start) {
    if (!items.length) {
      announce("There is nothing to play here yet.");
      return;
    }
    if (how === "play" || current < 0) {
      if (how === "play") queue = items.slice(); else queue = queue.concat(items);
      load(how === "play" ? Math.min(start, items.length - 1) : 0, { play: how === "play" });
    } else if (how === "next") {
      Array.prototype.splice.apply(queue, [current + 1, 0].concat(items));
      render();
      save();
    } else {
      queue = queue.concat(items);
      render();
      save();
    }
    var what = items.length === 1 ? "“" + items[0].title + "”" : items.length + " tracks";
    if (how === "next") announce(what + (items.length === 1 ? " plays next." : " play next."));
    else if (how === "add") announce("Added " + what + " to the queue.");
  }

  // --- Drawing the bar --------------------------------------------------------------------

  function mmss(seconds) {
    if (!isFinite(seconds) || seconds < 0) return "0:00";
    var total = Math.floor(seconds);
    var secs = total % 60;
    return Math.floor(total / 60) + ":" + (secs < 10 ? "0" : "") + secs;
  }

  function announce(text) {
    ui.status.textContent = text;
  }

  function render() {
    var item = queue[current];
    bar.classList.toggle("is-empty", !item);
    ui.title.textContent = item ? item.title : "Nothing playing";
    if (item) ui.title.setAttribute("href", item.url); else ui.title.removeAttribute("href");
    ui.artist.textContent = item ? [item.artist, item.album].filter(Boolean).join(" · ") : idleHint;
    // A track without a cover shows the placeholder that says its genre, as the album grid does;
    // the generic picture is only for the empty bar.
    var genreOnly = !!item && !item.cover_url;
    var cover = item && item.cover_url ? item.cover_url : placeholder;
    if (!genreOnly && ui.cover.getAttribute("src") !== cover) ui.cover.setAttribute("src", cover);
    ui.cover.hidden = genreOnly;
    ui.coverGenre.hidden = !genreOnly;
    if (genreOnly) {
      ui.coverGenre.firstChild.textContent = item.placeholder.text;  // worded by the server, as on the pages
      ui.coverGenre.style.setProperty("--hue", String(item.hue || 0));  // CSSOM: allowed by the CSP
      ui.coverGenre.setAttribute("aria-label", item.placeholder.label);
    }
    ui.prev.disabled = ui.play.disabled = ui.seek.disabled = !item;
    ui.next.disabled = !item || current >= queue.length - 1;
    ui.queueCount.textContent = queue.length;
    renderQueue();
    renderPlaying();
    renderTime();
    markPlaying();
  }

  function renderQueue() {
    var list = ui.queueList;
    while (list.firstChild) list.removeChild(list.firstChild);
    queue.forEach(function (item, index) {
      var li = document.createElement("li");
      li.dataset.trackId = item.id;
      if (index === current) li.setAttribute("aria-current", "true");
      var jump = document.createElement("button");
      jump.type = "button";
      jump.className = "player-queue-title";
      jump.dataset.queueIndex = index;
      jump.textContent = item.title;
      li.appendChild(jump);
      if (item.artist) {
        var artist = document.createElement("span");
        artist.className = "muted";
        artist.textContent = item.artist;
        li.appendChild(artist);
      }
      var drop = document.createElement("button");
      drop.type = "button";
      drop.className = "player-queue-remove";
      drop.dataset.queueRemove = index;
      drop.setAttribute("aria-label", "Remove " + item.title + " from the queue");
      drop.textContent = "×";
      li.appendChild(drop);
      list.appendChild(li);
    });
  }

  function renderPlaying() {
    var playing = current >= 0 && !audio.paused;
    bar.classList.toggle("state-playing", playing);
    ui.play.setAttribute("aria-label", playing ? "Pause" : "Play");
    if ("mediaSession" in navigator) navigator.mediaSession.playbackState = current < 0 ? "none" : playing ? "playing" : "paused";
  }

  function renderTime() {
    var duration = isFinite(audio.duration) ? audio.duration : (queue[current] && queue[current].duration) || 0;
    ui.seek.max = duration || 0;
    if (!seeking) ui.seek.value = audio.currentTime || 0;
    ui.seek.setAttribute("aria-valuetext", mmss(Number(ui.seek.value)) + " of " + mmss(duration));
    ui.seek.style.setProperty("--progress", duration ? (Number(ui.seek.value) / duration * 100) + "%" : "0%");
    ui.time.textContent = mmss(Number(ui.seek.value));
    ui.duration.textContent = mmss(duration);
  }

  function renderVolume() {
    var level = audio.muted ? 0 : audio.volume;
    ui.volume.value = level;
    ui.volume.style.setProperty("--progress", level * 100 + "%");
    ui.mute.setAttribute("aria-label", audio.muted ? "Unmute" : "Mute");
    bar.classList.toggle("state-muted", level === 0);
  }

  // Rows and cards for the playing track, wherever a page lists it, are marked for CSS.
  function markPlaying(root) {
    var id = queue[current] ? queue[current].id : null;
    Array.prototype.forEach.call((root || document).querySelectorAll("#page [data-track-id]"), function (element) {
      element.classList.toggle("is-playing", element.dataset.trackId === id);
    });
  }

  // --- Media Session: media keys, headset buttons, the lock screen -------------------------

  function updateMediaSession() {
    if (!("mediaSession" in navigator) || !window.MediaMetadata) return;
    var item = queue[current];
    navigator.mediaSession.metadata = item ? new window.MediaMetadata({
      title: item.title,
      artist: item.artist || "",
      album: item.album || "",
      // Without a cover, the generic picture: the lock screen needs an image, not the bar's placeholder.
      artwork: [{ src: new URL(item.cover_url || placeholder, window.location.href).href }],
    }) : null;
  }

  function updatePositionState() {
    if (!("mediaSession" in navigator) || !navigator.mediaSession.setPositionState) return;
    if (!isFinite(audio.duration) || audio.duration <= 0) return;
    try {
      navigator.mediaSession.setPositionState({
        duration: audio.duration, playbackRate: audio.playbackRate,
        position: Math.min(audio.currentTime, audio.duration),
      });
    } catch (e) { /* a position the browser will not take: leave the old one */ }
  }

  if ("mediaSession" in navigator) {
    var handlers = {
      play: play,
      pause: function () { audio.pause(); },
      stop: function () { audio.pause(); },
      previoustrack: previous,
      nexttrack: next,
      seekto: function (details) { seekTo(details.seekTime); },
      seekbackward: function (details) { seekTo(audio.currentTime - (details.seekOffset || SEEK_STEP)); },
      seekforward: function (details) { seekTo(audio.currentTime + (details.seekOffset || SEEK_STEP)); },
    };
    Object.keys(handlers).forEach(function (action) {
      try { navigator.mediaSession.setActionHandler(action, handlers[action]); } catch (e) { /* unsupported action */ }
    });
  }

  // --- Events -----------------------------------------------------------------------------

  audio.addEventListener("play", function () { renderPlaying(); save(); });
  audio.addEventListener("pause", function () { renderPlaying(); save(); });
  audio.addEventListener("ended", function () {
    if (!next()) { renderPlaying(); save(); }
  });
  audio.addEventListener("loadedmetadata", function () { renderTime(); updatePositionState(); });
  audio.addEventListener("seeked", updatePositionState);
  audio.addEventListener("timeupdate", function () {
    renderTime();
    if (Date.now() - lastSaved > 2000) save();
  });
  audio.addEventListener("volumechange", function () {
    renderVolume();
    try { window.localStorage.setItem(VOLUME_KEY, JSON.stringify({ volume: audio.volume, muted: audio.muted })); } catch (e) { /* ignore */ }
  });
  audio.addEventListener("error", function () {
    if (current >= 0 && audio.getAttribute("src")) announce("“" + queue[current].title + "” could not be played.");
  });

  ui.play.addEventListener("click", togglePlay);
  ui.prev.addEventListener("click", previous);
  ui.next.addEventListener("click", next);
  ui.seek.addEventListener("input", function () { seeking = true; renderTime(); });
  ui.seek.addEventListener("change", function () { seeking = false; seekTo(Number(ui.seek.value)); });
  ui.volume.addEventListener("input", function () { setVolume(Number(ui.volume.value)); });
  ui.mute.addEventListener("click", function () {
    if (audio.muted && audio.volume === 0) audio.volume = 0.5;
    audio.muted = !audio.muted;
  });
  ui.queueToggle.addEventListener("click", function () { showQueue(ui.queue.hidden); });
  ui.clear.addEventListener("click", function () { clear(); announce("The queue is empty."); });
  ui.queueList.addEventListener("click", function (event) {
    var jump = event.target.closest("[data-queue-index]");
    var drop = event.target.closest("[data-queue-remove]");
    if (jump) load(Number(jump.dataset.queueIndex), { play: true });
    if (drop) remove(Number(drop.dataset.queueRemove));
  });

  function showQueue(open) {
    ui.queue.hidden = !open;
    ui.queueToggle.setAttribute("aria-expanded", String(open));
  }

  // Play buttons anywhere on any page. The tracks are fetched at once but added in the order
  // the buttons were pressed, so "add A, add B" queues A before B however the answers arrive.
  var applied = Promise.resolve();
  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-player][data-player-src]");
    if (!button) return;
    event.preventDefault();
    var how = button.dataset.player;
    var start = Number(button.dataset.playerStart) || 0;
    var request = fetch(button.dataset.playerSrc, { headers: { Accept: "application/json" }, credentials: "same-origin" })
      .then(function (response) {
        if (!response.ok) throw new Error("HTTP " + response.status);
        return response.json();
      });
    applied = applied.then(function () {
      return request.then(function (data) { enqueue(data.tracks, how, start); }, function () {
        announce("These tracks could not be loaded. Please try again.");
      });
    });
  });

  // Space plays and pauses, ←/→ seek, Shift+←/→ go to the previous/next track, Shift+↑/↓ set
  // the volume; never while typing, and Space never while on a button or link it would press.
  var TYPING = "input, textarea, select, [contenteditable]:not([contenteditable='false'])";
  var PRESSABLE = TYPING + ", button, a[href], summary, [role='button']";
  document.addEventListener("keydown", function (event) {
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || current < 0) return;
    var target = event.target instanceof Element ? event.target : document.body;
    if (target.closest(TYPING)) return;
    switch (event.key) {
      case " ":
        if (target.closest(PRESSABLE)) return;
        togglePlay();
        break;
      case "ArrowLeft":
        if (event.shiftKey) previous(); else seekTo(audio.currentTime - SEEK_STEP);
        break;
      case "ArrowRight":
        if (event.shiftKey) next(); else seekTo(audio.currentTime + SEEK_STEP);
        break;
      case "ArrowUp":
      case "ArrowDown":
        if (!event.shiftKey) return; // plain ↑/↓ keep scrolling the page
        setVolume((audio.muted ? 0 : audio.volume) + (event.key === "ArrowUp" ? VOLUME_STEP : -VOLUME_STEP));
        break;
      case "Escape":
        if (ui.queue.hidden) return;
        showQueue(false);
        ui.queueToggle.focus();
        break;
      default:
        return;
    }
    event.preventDefault();
  });

  window.addEventListener("pagehide", save);
  document.addEventListener("htmx:load", function (event) { markPlaying(event.target); });

  try {
    var volume = JSON.parse(window.localStorage.getItem(VOLUME_KEY) || "null");
    if (volume) {
      audio.volume = Math.min(Math.max(Number(volume.volume), 0), 1);
      audio.muted = !!volume.muted;
    }
  } catch (e) { /* ignore */ }
  renderVolume();
  restore();
  render();
  bar.dataset.ready = "true"; // listening, and the saved queue is back (browser tests wait for it)
})();
