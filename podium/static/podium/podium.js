/* Podium: small enhancements of the signed-in pages. Every page works without this file. */
(function () {
  "use strict";

  /* Copy buttons: <button data-copy-target="input-id" data-copied-text="Copied" hidden>.
     They stay hidden without JavaScript or without clipboard access. */
  function setUpCopyButtons() {
    if (!navigator.clipboard) {
      return;
    }
    document.querySelectorAll("[data-copy-target]").forEach(function (button) {
      var target = document.getElementById(button.getAttribute("data-copy-target"));
      if (!target) {
        return;
      }
      var label = button.textContent;
      button.hidden = false;
      button.addEventListener("click", function () {
        navigator.clipboard.writeText(target.value || target.textContent).then(function () {
          button.textContent = button.getAttribute("data-copied-text") || label;
          window.setTimeout(function () {
            button.textContent = label;
          }, 2000);
        });
      });
    });
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUpCopyButtons);
  } else {
    setUpCopyButtons();
  }
})();
