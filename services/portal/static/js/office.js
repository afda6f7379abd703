// GECC portal, an office's completeness page: its numbers renewed every few seconds while the
// page is visible, without a reload (portal.js's renewEvery, loaded before this file). The
// page works without this file (its "refresh" link).
// Screen readers are told only of new reports ("n new reports"), at most every 30 seconds,
// never of each renewal.
"use strict";

(function () {
  var ANNOUNCE_AT_MOST_EVERY = 30000;

  function submittedIn(element) {
    var live = element.querySelector("[data-submitted]");
    return live ? parseInt(live.getAttribute("data-submitted"), 10) || 0 : 0;
  }

  function renewing(box) {
    var announce = document.getElementById("live-announce");
    var asOf = document.getElementById("live-updated");
    var told = submittedIn(box);
    var toldAt = 0;

    function tell() {
      var now = submittedIn(box);
      if (now <= told) { told = Math.min(told, now); return; }
      if (!announce || Date.now() - toldAt < ANNOUNCE_AT_MOST_EVERY) return; // told later
      var n = now - told;
      told = now;
      toldAt = Date.now();
      announce.textContent = n === 1
        ? announce.getAttribute("data-new-one")
        : announce.getAttribute("data-new-many").replace("{n}", String(n));
    }

    function swap(html) {
      var focused = document.activeElement;
      var href = focused && box.contains(focused) ? focused.getAttribute("href") : null;
      box.innerHTML = html;
      if (href) {
        box.querySelectorAll("a[href]").forEach(function (link) {
          if (link.getAttribute("href") === href) link.focus();
        });
      }
      tell();
    }

    window.geccRenewEvery(box, box.getAttribute("data-live"), asOf, swap);
  }

  document.addEventListener("DOMContentLoaded", function () {
    var box = document.getElementById("office-live");
    if (box && window.fetch) renewing(box);
  });
})();
