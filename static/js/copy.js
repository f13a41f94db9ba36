/* Copy buttons: <button type="button" data-copy="#id" hidden>Copy</button> copies the text of
   the element #id (a token or secret that is shown once). Hidden until this script runs, so a
   page without JavaScript shows no button that does nothing. */
GenreWeb.onPage("button[data-copy]", function (button) {
  "use strict";
  var source = document.querySelector(button.dataset.copy);
  if (!source) return;
  var label = button.textContent;

  function done(text) {
    button.textContent = text;
    setTimeout(function () { button.textContent = label; }, 2000);
  }

  // Selecting the text lets the user copy it by hand where the clipboard is closed to pages
  // (plain http on another machine is not a secure context).
  function selectText() {
    var range = document.createRange();
    range.selectNodeContents(source);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
  }

  button.hidden = false;
  button.addEventListener("click", function () {
    var text = source.textContent.trim();
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(text).then(function () { done("Copied"); },
        function () { selectText(); done("Press Ctrl+C"); });
    } else {
      selectText();
      done("Press Ctrl+C");
    }
  });
});
