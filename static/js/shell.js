/* The page shell. htmx (hx-boost on <body>) fetches each page a link or form leads to and swaps
   only its #page in, so the player bar outside #page keeps playing. This file decides which
   responses may be swapped in that way, and lets page scripts run once per page however the page
   arrived (a full load or a swap). */
(function () {
  "use strict";
  var GenreWeb = window.GenreWeb = window.GenreWeb || {};

  /* GenreWeb.onPage(selector, init): init(element) once for each element matching selector, in
     the page loaded in full and in every page swapped in later (htmx:load fires on new content).
     Page scripts are loaded once by base.html and bind through this, so nothing binds twice. */
  GenreWeb.onPage = function (selector, init) {
    var done = new WeakSet();
    function run(root) {
      var found = root.querySelectorAll ? Array.prototype.slice.call(root.querySelectorAll(selector)) : [];
      if (root.matches && root.matches(selector)) found.unshift(root);
      found.forEach(function (element) {
        if (done.has(element)) return;
        done.add(element);
        init(element);
      });
    }
    document.addEventListener("htmx:load", function (event) { run(event.target); });
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", function () { run(document); });
    } else {
      run(document);
    }
  };

  /* Show the current page again with fresh content (a track finished classifying). A full reload
     would stop the music, so only #page is fetched again when htmx is there. */
  GenreWeb.refreshPage = function () {
    if (window.htmx && document.getElementById("page")) {
      window.htmx.ajax("GET", window.location.pathname + window.location.search,
        { target: "#page", select: "#page", swap: "outerHTML" });
    } else {
      window.location.reload();
    }
  };

  // What base.html writes: <body ... data-user="{{ user.pk }}"> and <div id="page" ...>. Read from
  // the text (a DOMParser would apply the page's styles and scripts policy a second time).
  var BODY_USER = /<body\b[^>]*\sdata-user="([^"]*)"/;
  var PAGE = /<div id="page"[\s>]/;

  function shellUser(xhr, text) {
    if ((xhr.getResponseHeader("Content-Type") || "").indexOf("text/html") !== 0 || !PAGE.test(text)) return null;
    var match = BODY_USER.exec(text);
    return match ? match[1] : null;
  }

  /* A boosted response is swapped in only if it is a page of this shell for the same user.
     Anything else (the API docs, the admin, a file, a page after logging in or out, the plain
     500 page) is shown the ordinary way, so it looks exactly as it would without htmx. */
  document.addEventListener("htmx:beforeSwap", function (event) {
    var detail = event.detail;
    var page = document.getElementById("page");
    if (!page || !(detail.boosted || detail.target === page) || detail.xhr.status === 204) return;
    if (shellUser(detail.xhr, detail.serverResponse) === document.body.getAttribute("data-user")) {
      // Error pages (404, 403, a form sent back with its errors as 400) are pages too.
      detail.shouldSwap = true;
      detail.isError = false;
      detail.target = page;
      detail.selectOverride = "#page";
      detail.swapOverride = "outerHTML";
      return;
    }
    detail.shouldSwap = false;
    var url = detail.xhr.responseURL;
    if (detail.requestConfig.verb === "get" || (url && url !== new URL(detail.pathInfo.finalRequestPath, window.location.href).href)) {
      // A GET, or a POST that was redirected: the browser loads the final address itself.
      window.location.assign(url || detail.pathInfo.finalRequestPath);
    } else {
      // A POST answered with a page of its own (an error): show that page as it is.
      document.open();
      document.write(detail.serverResponse);
      document.close();
    }
  });

  /* Links and forms htmx must leave alone: downloads, and forms that send files (upload.js sends
     those itself, with progress; without JavaScript the browser posts them). */
  document.addEventListener("htmx:beforeProcessNode", function (event) {
    var element = event.target;
    if (element.matches("a[download], form[enctype='multipart/form-data']")) {
      element.setAttribute("hx-boost", "false");
    }
  });

  // A thin bar at the top while a page is on its way (styles in app.css).
  document.addEventListener("htmx:beforeRequest", function (event) {
    if (event.detail.boosted) document.documentElement.classList.add("page-loading");
  });
  document.addEventListener("htmx:afterRequest", function () {
    document.documentElement.classList.remove("page-loading");
  });

  // After moving to another page, keyboard and screen-reader users start at its content, as
  // they would after a full load.
  document.addEventListener("htmx:afterSettle", function (event) {
    if (!event.detail.boosted) return;
    var main = document.getElementById("main");
    if (main) main.focus({ preventScroll: true });
  });

  // On a phone the main navigation is one row that scrolls sideways: bring the page's own
  // section into view (only sideways; the page's scroll position stays where it is).
  GenreWeb.onPage(".site-nav [aria-current=page]", function (link) {
    var nav = link.closest(".site-nav");
    if (nav.scrollWidth > nav.clientWidth) nav.scrollLeft = link.offsetLeft - nav.offsetLeft - 16;
  });
})();
