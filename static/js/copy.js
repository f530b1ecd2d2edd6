// "Copy" buttons beside citations and embed snippets: shown only where the browser can copy, so
// without script (or without the Clipboard API) the text stays in its <pre>, selectable.
(function () {
  "use strict";
  if (!navigator.clipboard || !window.isSecureContext) return;
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    var source = document.getElementById(button.getAttribute("data-copy"));
    if (!source) return;
    var status = button.parentNode.querySelector(".copy-status");
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(source.textContent).then(
        function () { if (status) status.textContent = "Copied."; },
        function () {
          // Refused (no permission): select the text, so one keystroke copies it.
          var range = document.createRange();
          range.selectNodeContents(source);
          var selection = window.getSelection();
          selection.removeAllRanges();
          selection.addRange(range);
          if (status) status.textContent = "Selected: press Ctrl+C (⌘C) to copy.";
        }
      );
    });
  });
})();
