// Trail's pages work without this script; it only makes them nicer:
// local times, filters that apply themselves, copying a link to a moment, and live updates.
(function () {
  "use strict";

  document.documentElement.classList.add("js");

  // ------------------------------------------------------------------ local times
  var dateTime = new Intl.DateTimeFormat(undefined, {
    year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit",
  });

  function localizeTimes(root) {
    root.querySelectorAll("time[data-local]").forEach(function (el) {
      var when = new Date(el.getAttribute("datetime"));
      if (!isNaN(when)) {
        el.textContent = dateTime.format(when);
        el.title = el.getAttribute("datetime");
      }
    });
  }

  // ------------------------------------------------------------------ filters
  function autosubmit(root) {
    root.querySelectorAll("form[data-autosubmit]").forEach(function (form) {
      form.querySelectorAll("select, input[type=date]").forEach(function (input) {
        input.addEventListener("change", function () { form.requestSubmit(); });
      });
    });
  }

  // ------------------------------------------------------------------ copy a link
  function copyLinks(root) {
    root.querySelectorAll("[data-copy-link]").forEach(function (link) {
      link.addEventListener("click", function (event) {
        if (!navigator.clipboard) { return; }
        event.preventDefault();
        var url = new URL(link.getAttribute("href"), location.href).href;
        navigator.clipboard.writeText(url).then(function () {
          announce("Link copied: " + url);
          link.textContent = "Link copied";
        });
      });
    });
  }

  function announce(text) {
    var region = document.getElementById("live-status");
    if (region) { region.textContent = text; }
  }

  // Error summaries take the focus, so a keyboard or screen-reader user hears what is wrong.
  function focusErrors(root) {
    var summary = root.querySelector("#error-summary");
    if (summary) { summary.focus(); }
  }

  function enhance(root) {
    localizeTimes(root);
    autosubmit(root);
    copyLinks(root);
  }

  document.addEventListener("DOMContentLoaded", function () {
    enhance(document);
    focusErrors(document);
    window.Trail && window.Trail.live && window.Trail.live();
  });
  document.addEventListener("htmx:afterSettle", function (event) {
    enhance(event.detail.elt || document);
  });

  window.Trail = window.Trail || {};
  window.Trail.announce = announce;
  window.Trail.enhance = enhance;
})();
