/* Podium composer: enhancements of feeds/composer/compose.html. The form works fully without
   this file (the Preview and "Add the image" buttons re-render the page); with it:
     - the character count follows the text, and crossing the limit is announced;
     - the preview follows the text (debounced POST to data-preview-url, shown in an aria-live
       region; the server renders it with feeds.rendering, sanitised by nh3);
     - a chosen image uploads at once (POST to data-upload-url) and appears as a row with its
       own description field, copied from <template id="composer-attachment-template">.
   All user-visible texts come from data-*-text attributes, translated by the template. */
(function () {
  "use strict";

  var PREVIEW_DELAY_MS = 500;
  var NEAR_LIMIT_SHARE = 0.9;

  function fill(template, values) {
    return template.replace(/\{(\w+)\}/g, function (match, name) {
      return Object.prototype.hasOwnProperty.call(values, name) ? String(values[name]) : match;
    });
  }

  /* Characters as the server counts them: code points of the trimmed text, \n line ends. */
  function characters(text) {
    return Array.from(text.replace(/\r\n/g, "\n").trim()).length;
  }

  function csrfToken(form) {
    var input = form.querySelector("input[name=csrfmiddlewaretoken]");
    return input ? input.value : "";
  }

  function post(form, url, data) {
    return fetch(url, {
      method: "POST",
      body: data,
      credentials: "same-origin",
      headers: { "X-CSRFToken": csrfToken(form), "X-Requested-With": "fetch" }
    }).then(function (response) {
      return response.json().then(
        function (payload) {
          return { ok: response.ok, status: response.status, payload: payload };
        },
        function () {
          return { ok: false, status: response.status, payload: {} };
        }
      );
    });
  }

  function errorMessage(result, fallback) {
    var error = result.payload && result.payload.error;
    return (error && error.message) || fallback;
  }

  /* The character count --------------------------------------------------------------- */

  function setUpCount(form, body) {
    var count = document.getElementById("composer-body-count");
    var status = document.getElementById("composer-body-status");
    if (!count) {
      return;
    }
    var limit = parseInt(form.getAttribute("data-max-length"), 10);
    var lastZone = null;

    function update() {
      var used = characters(body.value);
      var zone = used > limit ? "over" : used >= limit * NEAR_LIMIT_SHARE ? "near" : "ok";
      count.textContent = fill(form.getAttribute("data-count-text"), { count: used, limit: limit });
      count.classList.toggle("composer-count--over", zone === "over");
      // Announce only when the zone changes, not on every keystroke.
      if (status && lastZone !== null && zone !== lastZone) {
        if (zone === "over") {
          status.textContent = fill(form.getAttribute("data-over-text"), {
            over: used - limit,
            limit: limit
          });
        } else if (zone === "near") {
          status.textContent = fill(form.getAttribute("data-near-text"), { left: limit - used });
        } else {
          status.textContent = "";
        }
      }
      lastZone = zone;
    }

    body.addEventListener("input", update);
    update();
  }

  /* The live preview ---------------------------------------------------------------------- */

  function setUpPreview(form, body) {
    var output = document.getElementById("composer-preview");
    var url = form.getAttribute("data-preview-url");
    if (!output || !url || !window.fetch) {
      return;
    }
    var timer = null;
    var sequence = 0;

    function format() {
      var checked = form.querySelector("input[name=body_format]:checked");
      return checked ? checked.value : "text";
    }

    function showHint(text) {
      var hint = document.createElement("p");
      hint.className = "hint";
      hint.textContent = text;
      output.replaceChildren(hint);
    }

    function refresh() {
      var mine = ++sequence;
      var data = new FormData();
      data.append("body", body.value);
      data.append("body_format", format());
      post(form, url, data).then(
        function (result) {
          if (mine !== sequence) {
            return; // a newer request is under way
          }
          if (!result.ok) {
            showHint(errorMessage(result, form.getAttribute("data-preview-failed-text")));
          } else if (result.payload.html) {
            // Sanitised server-side by nh3 (feeds.rendering.render_body).
            output.innerHTML = result.payload.html;
          } else {
            showHint(form.getAttribute("data-preview-empty-text"));
          }
        },
        function () {
          if (mine === sequence) {
            showHint(form.getAttribute("data-preview-failed-text"));
          }
        }
      );
    }

    function schedule() {
      window.clearTimeout(timer);
      timer = window.setTimeout(refresh, PREVIEW_DELAY_MS);
    }

    body.addEventListener("input", schedule);
    form.querySelectorAll("input[name=body_format]").forEach(function (radio) {
      radio.addEventListener("change", schedule);
    });
  }

  /* Uploads ------------------------------------------------------------------------------- */

  function setUpUploads(form) {
    var url = form.getAttribute("data-upload-url");
    var fileInput = document.getElementById("composer-new_image");
    var list = document.getElementById("composer-attachments");
    var template = document.getElementById("composer-attachment-template");
    var section = document.getElementById("composer-new-image");
    var status = document.getElementById("composer-upload-status");
    var altField = document.getElementById("composer-new-image-alt-field");
    var altInput = document.getElementById("composer-new_image_alt");
    var attachActions = document.getElementById("composer-attach-actions");
    if (!url || !fileInput || !list || !template || !section || !window.fetch) {
      return;
    }
    var limit = parseInt(form.getAttribute("data-max-attachments"), 10);

    // With uploads on choosing a file, each image gets its own description field in its row;
    // the single field and button of the plain form are not needed (unless already filled).
    if (altField && altInput && !altInput.value.trim() && !altField.querySelector(".errorlist")) {
      altField.hidden = true;
    }
    if (attachActions) {
      attachActions.hidden = true;
    }

    function rowCount() {
      return list.querySelectorAll(".composer-attachment").length;
    }

    function updateSection() {
      section.hidden = rowCount() >= limit;
    }

    function addRow(media) {
      var index = parseInt(list.getAttribute("data-next-index") || "0", 10);
      list.setAttribute("data-next-index", String(index + 1));
      var number = rowCount() + 1;
      var html = template.innerHTML
        .replace(/__index__/g, String(index))
        .replace(/__media__/g, String(media.id))
        .replace(/__number__/g, String(number));
      var holder = document.createElement("ol");
      holder.innerHTML = html.trim();
      var row = holder.firstElementChild;
      var image = row.querySelector("img");
      image.src = media.small_url;
      image.width = media.width;
      image.height = media.height;
      var alt = row.querySelector("textarea");
      if (altInput && altInput.value.trim()) {
        alt.value = altInput.value.trim();
        altInput.value = "";
      }
      list.appendChild(row);
      updateSection();
      return { alt: alt, number: number };
    }

    function report(text, isError) {
      if (!status) {
        return;
      }
      status.textContent = text;
      status.classList.toggle("composer-upload-status--error", Boolean(isError));
      fileInput.setAttribute("aria-invalid", isError ? "true" : "false");
    }

    fileInput.addEventListener("change", function () {
      var file = fileInput.files && fileInput.files[0];
      if (!file) {
        return;
      }
      var data = new FormData();
      data.append("image", file);
      fileInput.disabled = true;
      report(form.getAttribute("data-uploading-text"), false);
      post(form, url, data)
        .then(
          function (result) {
            if (!result.ok) {
              report(errorMessage(result, form.getAttribute("data-upload-failed-text")), true);
              return;
            }
            var added = addRow(result.payload);
            report(fill(form.getAttribute("data-uploaded-text"), { number: added.number }), false);
            added.alt.focus();
          },
          function () {
            report(form.getAttribute("data-upload-failed-text"), true);
          }
        )
        .then(function () {
          fileInput.disabled = false;
          fileInput.value = "";
        });
    });
  }

  function setUp() {
    var form = document.getElementById("composer-form");
    var body = document.getElementById("composer-body");
    if (!form || !body) {
      return;
    }
    setUpCount(form, body);
    setUpPreview(form, body);
    setUpUploads(form);
    var errors = document.getElementById("composer-errors");
    if (errors) {
      errors.focus();
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", setUp);
  } else {
    setUp();
  }
})();
