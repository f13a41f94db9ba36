/* Values a template computes for CSS (a genre's hue, a bar's width, a segment's start) come as
   data-hue, data-width and data-left attributes, because the Content-Security-Policy refuses
   style="" attributes. This sets them as the custom properties --hue, --width and --left that
   static/css uses, on the page as loaded and on any content htmx swaps in later. */
(function () {
  "use strict";
  var NAMES = ["hue", "width", "left"];
  var SELECTOR = NAMES.map(function (name) { return "[data-" + name + "]"; }).join(",");

  function apply(root) {
    var elements = root.querySelectorAll ? Array.prototype.slice.call(root.querySelectorAll(SELECTOR)) : [];
    if (root.matches && root.matches(SELECTOR)) elements.push(root);
    elements.forEach(function (element) {
      NAMES.forEach(function (name) {
        var value = element.dataset[name];
        // Plain numbers only: anything else would be a template bug, not something to style with.
        if (value !== undefined && /^-?\d+(\.\d+)?$/.test(value)) element.style.setProperty("--" + name, value);
      });
    });
  }

  document.addEventListener("htmx:load", function (event) { apply(event.target); });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { apply(document); });
  } else {
    apply(document);
  }
})();
