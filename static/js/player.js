// Plays a genre playlist one track after another: previous/next buttons, auto-advance when a
// track ends, and the current track marked with aria-current so screen readers and CSS see it.
(function () {
  "use strict";
  const audio = document.getElementById("player-audio");
  const list = document.getElementById("playlist-tracks");
  if (!audio || !list) return;
  const items = Array.from(list.querySelectorAll("li[data-src]"));
  const title = document.getElementById("now-playing-title");
  const playButton = document.getElementById("player-play");
  let current = 0;

  function select(index, autoplay) {
    if (index < 0 || index >= items.length) return false;
    items[current].removeAttribute("aria-current");
    current = index;
    const item = items[current];
    item.setAttribute("aria-current", "true");
    audio.src = item.dataset.src;
    if (title) title.textContent = item.dataset.title;
    if (autoplay) play();
    return true;
  }

  function play() {
    // play() rejects when the browser blocks autoplay or the file cannot load; the controls stay usable.
    const attempt = audio.play();
    if (attempt && attempt.catch) attempt.catch(function () {});
  }

  document.getElementById("player-next").addEventListener("click", function () { select(current + 1, true); });
  document.getElementById("player-prev").addEventListener("click", function () {
    // Like most players: "previous" restarts a track that has played a few seconds.
    if (audio.currentTime > 3) { audio.currentTime = 0; return; }
    select(current - 1, true);
  });
  playButton.addEventListener("click", function () { if (audio.paused) play(); else audio.pause(); });
  audio.addEventListener("play", function () { playButton.textContent = "⏸ Pause"; playButton.setAttribute("aria-label", "Pause"); });
  audio.addEventListener("pause", function () { playButton.textContent = "▶ Play"; playButton.setAttribute("aria-label", "Play"); });
  audio.addEventListener("ended", function () { select(current + 1, true); });
  list.addEventListener("click", function (event) {
    const button = event.target.closest(".playlist-play");
    if (button) select(Number(button.dataset.index), true);
  });
})();
