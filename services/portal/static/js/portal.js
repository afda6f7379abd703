// GECC portal: small enhancements; every page works without this file.
// - the report form: each question's percentage as it is typed, and the draft saved as one goes;
// - a warning before the session ends;
// - a submit button pressed once (the server keeps one version whatever the clicks);
// - the receipt's print button;
// - evidence files: each chosen file uploaded at once with a progress bar, removed in place;
// - the citizen survey's tally renewed every few seconds while the page is visible.
"use strict";

(function () {
  function percentOf(counts) {
    var total = 0, weighted = 0;
    for (var i = 0; i < counts.length; i++) {
      total += counts[i];
      weighted += (i + 1) * counts[i];
    }
    if (total === 0) return null;
    return Math.round((weighted / total) / 5 * 10000) / 100;
  }

  function whole(text) {
    text = (text || "").trim().replace(/,/g, "");
    if (text === "") return 0;
    return /^[0-9]+$/.test(text) ? parseInt(text, 10) : NaN;
  }

  function show(value) {
    return value === null || isNaN(value) ? "\u2013" : value.toFixed(2) + " %";
  }

  function livePercentages(form) {
    var questions = form.querySelectorAll("[data-question]");
    function update() {
      var pooled = [0, 0, 0, 0, 0], broken = false;
      questions.forEach(function (fieldset) {
        var code = fieldset.getAttribute("data-question");
        var counts = [];
        for (var r = 1; r <= 5; r++) {
          var input = document.getElementById("count-" + code + "-" + r);
          counts.push(whole(input ? input.value : ""));
        }
        var bad = counts.some(function (c) { return isNaN(c); });
        if (bad) broken = true; else counts.forEach(function (c, i) { pooled[i] += c; });
        var output = document.getElementById("percent-" + code);
        if (output) output.textContent = bad ? "\u2013" : show(percentOf(counts));
      });
      var overall = document.getElementById("percent-overall");
      if (overall) overall.textContent = broken ? "\u2013" : show(percentOf(pooled));
    }
    form.addEventListener("input", function (event) {
      if (event.target && /^count-/.test(event.target.name || "")) update();
    });
  }

  function autosave(form) {
    var url = form.getAttribute("data-autosave");
    var status = document.getElementById("autosave-status");
    var timer = null, sending = false, again = false;
    function save() {
      if (sending) { again = true; return; }
      sending = true;
      var data = new FormData(form);
      fetch(url, {
        method: "POST",
        body: new URLSearchParams(data),
        headers: { "X-CSRF-Token": data.get("csrf_token") || "" },
        credentials: "same-origin"
      }).then(function (response) {
        return response.json().then(function (body) {
          if (status) status.textContent = body.saved ? body.saved_at : (status.getAttribute("data-ended") || "");
          if (!body.saved) document.body.setAttribute("data-session-ended", "true");
        });
      }).catch(function () {
        // offline for a moment: the next change tries again, and the buttons still post
      }).finally(function () {
        sending = false;
        if (again) { again = false; save(); }
      });
    }
    form.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(save, 1500);
    });
    form.addEventListener("change", function () {
      clearTimeout(timer);
      timer = setTimeout(save, 300);
    });
  }

  var MAX_FILE = 10 * 1024 * 1024;

  function evidence(form) {
    var token = function () { return (form.querySelector("input[name=csrf_token]") || {}).value || ""; };
    function parts(box) {
      return {
        input: box.querySelector("input[type=file]"),
        progress: box.querySelector("progress"),
        error: box.querySelector("[data-upload-error]"),
        status: box.querySelector("[data-upload-status]")
      };
    }
    function showError(box, text) {
      var p = parts(box);
      if (text) p.status.textContent = "";
      p.error.textContent = text;
      p.error.hidden = !text;
      if (text) p.input.setAttribute("aria-invalid", "true"); else p.input.removeAttribute("aria-invalid");
    }
    function replaceList(box, html) {
      var list = box.querySelector("[data-files-for]");
      if (!list || !html) return;
      var holder = document.createElement("div");
      holder.innerHTML = html;
      list.replaceWith(holder.firstElementChild);
    }
    function send(box, url, body, onProgress) {
      return new Promise(function (resolve) {
        var xhr = new XMLHttpRequest();
        xhr.open("POST", url);
        xhr.setRequestHeader("Accept", "application/json");
        xhr.setRequestHeader("X-CSRF-Token", token());
        if (onProgress) xhr.upload.addEventListener("progress", onProgress);
        xhr.onload = function () {
          var answer = null;
          try { answer = JSON.parse(xhr.responseText); } catch (e) { answer = null; }
          resolve({ status: xhr.status, body: answer });
        };
        xhr.onerror = function () { resolve({ status: 0, body: null }); };
        xhr.send(body);
      });
    }
    function answered(box, result) {
      var p = parts(box);
      if (result.body && result.body.html) replaceList(box, result.body.html);
      if (result.status === 401) {
        showError(box, form.getAttribute("data-session-ended"));
        document.body.setAttribute("data-session-ended", "true");
        return false;
      }
      if (!result.body) { showError(box, form.getAttribute("data-failed")); return false; }
      if (result.body.error) { showError(box, result.body.error); return false; }
      showError(box, "");
      p.status.textContent = result.body.message || "";
      return true;
    }
    async function upload(box) {
      var p = parts(box);
      var files = Array.prototype.slice.call(p.input.files || []);
      if (!files.length) return;
      var url = box.getAttribute("data-upload-url");
      var added = 0;
      showError(box, "");
      for (var i = 0; i < files.length; i++) {
        var file = files[i];
        if (file.size > MAX_FILE) { showError(box, file.name + ": " + form.getAttribute("data-too-large")); break; }
        var data = new FormData();
        data.append("csrf_token", token());
        data.append(p.input.name, file, file.name);
        p.progress.hidden = false;
        p.progress.value = 0;
        p.status.textContent = form.getAttribute("data-uploading") + " " + file.name;
        var result = await send(box, url, data, function (event) {
          if (event.lengthComputable) p.progress.value = Math.round(event.loaded / event.total * 100);
        });
        p.progress.value = 100;
        if (!answered(box, result)) break;
        added += 1;
      }
      if (added > 1) p.status.textContent = form.getAttribute("data-added").replace("{n}", added);
      p.progress.hidden = true;
      p.input.value = "";
    }
    form.querySelectorAll("[data-upload-url]").forEach(function (box) {
      var p = parts(box);
      var button = box.querySelector("[data-upload]");
      if (button) button.hidden = true; // a chosen file goes at once
      p.input.addEventListener("input", function (event) { event.stopPropagation(); });
      p.input.addEventListener("change", function (event) {
        event.stopPropagation(); // not a change of the report: no autosave of the form
        upload(box);
      });
    });
    form.addEventListener("click", function (event) {
      var button = event.target.closest ? event.target.closest("[data-remove]") : null;
      if (!button) return;
      event.preventDefault();
      var box = button.closest("[data-upload-url]");
      var input = parts(box).input;
      send(box, button.getAttribute("formaction"), new FormData()).then(function (result) {
        answered(box, result);
        input.focus(); // the removed file's button is gone: focus stays in the item
      });
    });
  }

  // Renews `box`, a part of a page, every `data-seconds` while the page is visible: `swap`
  // puts in the fragment the server renders at `url`, then the time it was drawn goes into
  // `asOf` and `data-renewed` counts the renewals. A 4xx or a redirect (signed out, session
  // ended) stops it and the page stays as it is; a failed fetch (offline a moment) tries
  // again. The live tally here uses it, and the office's completeness (office.js).
  function renewEvery(box, url, asOf, swap) {
    var every = secondsOf(box);
    var timer = null, busy = false, stopped = false;
    function swapped(html) {
      swap(html);
      var stamp = box.querySelector("[data-as-of]");
      if (asOf && stamp) asOf.textContent = stamp.getAttribute("data-as-of");
      box.setAttribute("data-renewed", String((parseInt(box.getAttribute("data-renewed") || "0", 10)) + 1));
    }
    function later() {
      clearTimeout(timer);
      if (!stopped && document.visibilityState === "visible") timer = setTimeout(renew, every);
    }
    function renew() {
      if (busy || stopped) return;
      busy = true;
      fetch(url, { credentials: "same-origin", redirect: "manual", headers: { Accept: "text/html" } })
        .then(function (response) {
          if (response.type === "opaqueredirect" || (response.status >= 400 && response.status < 500)) {
            stopped = true;
            return null;
          }
          return response.ok ? response.text() : null;
        })
        .then(function (html) { if (html) swapped(html); })
        .catch(function () { /* the next turn tries again */ })
        .finally(function () { busy = false; later(); });
    }
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "visible") renew(); else clearTimeout(timer);
    });
    later();
  }
  window.geccRenewEvery = renewEvery;

  function secondsOf(box) {
    return (parseInt(box.getAttribute("data-seconds") || "5", 10) || 5) * 1000;
  }

  function liveTally(box) {
    // The page shows the tally as it was when loaded; this renews it in place, never
    // announcing each renewal to screen readers.
    var asOf = box.parentNode.querySelector("[data-live-as-of]");
    renewEvery(box, box.getAttribute("data-live-tally"), asOf, function (html) {
      var focused = document.activeElement;
      var hadFocus = focused && box.contains(focused) ? focused.getAttribute("value") : null;
      box.innerHTML = html;
      if (hadFocus) {
        var again = box.querySelector("button[value='" + hadFocus + "']");
        if (again) again.focus();
      }
    });
  }

  function sessionWarning() {
    var ends = document.body.getAttribute("data-session-ends");
    var box = document.getElementById("session-warning");
    if (!ends || !box) return;
    var end = new Date(ends).getTime();
    var warnBefore = parseInt(document.body.getAttribute("data-warning-minutes") || "10", 10) * 60000;
    function tick() {
      var left = end - Date.now();
      if (left <= 0) {
        box.hidden = false;
        box.textContent = box.getAttribute("data-over");
        return;
      }
      if (left <= warnBefore) {
        var minutes = Math.max(1, Math.ceil(left / 60000));
        box.hidden = false;
        box.textContent = box.getAttribute("data-ending").replace("{minutes}", minutes);
      }
      setTimeout(tick, 30000);
    }
    tick();
  }

  function submitOnce(form) {
    form.addEventListener("submit", function () {
      var button = form.querySelector("button[type=submit]");
      if (button) setTimeout(function () { button.disabled = true; }, 0);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    var report = document.getElementById("report-form");
    if (report) { livePercentages(report); autosave(report); evidence(report); }
    document.querySelectorAll("form[data-once]").forEach(submitOnce);
    if (window.fetch) document.querySelectorAll("[data-live-tally]").forEach(liveTally);
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.hidden = false;
      button.addEventListener("click", function () { window.print(); });
    });
    var summary = document.getElementById("error-summary");
    if (summary) summary.focus();
    sessionWarning();
  });
})();
