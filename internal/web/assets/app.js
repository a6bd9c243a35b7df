// Ward dashboard: small progressive enhancements; every page works without it.
"use strict";
(function () {
  // "/" focuses the search-like field of the page (filters).
  document.addEventListener("keydown", function (e) {
    if (e.key !== "/" || e.ctrlKey || e.metaKey || e.altKey) return;
    var t = e.target;
    if (t && (t.tagName === "INPUT" || t.tagName === "TEXTAREA" || t.tagName === "SELECT")) return;
    var f = document.querySelector("[data-hotkey='/']");
    if (f) { e.preventDefault(); f.focus(); }
  });
  // Filter selects apply at once.
  document.querySelectorAll("form.filters select").forEach(function (s) {
    s.addEventListener("change", function () { s.form.submit(); });
  });
  // Live pages (data-refresh seconds) re-fetch themselves and swap the
  // [data-live] parts, while the tab is visible.
  var secs = parseInt(document.body.getAttribute("data-refresh") || "0", 10);
  if (secs > 0 && window.fetch && window.DOMParser) {
    var busy = false;
    setInterval(function () {
      if (busy || document.hidden) return;
      busy = true;
      fetch(location.href, { credentials: "same-origin", headers: { "X-Ward-Live": "1" } })
        .then(function (r) {
          if (r.redirected && new URL(r.url).pathname === "/login") { location.reload(); return null; }
          return r.ok ? r.text() : null;
        })
        .then(function (html) {
          if (!html) return;
          var doc = new DOMParser().parseFromString(html, "text/html");
          document.querySelectorAll("[data-live]").forEach(function (el) {
            var n = doc.querySelector("[data-live='" + el.getAttribute("data-live") + "']");
            if (n) el.replaceWith(document.importNode(n, true));
          });
          var st = doc.querySelector("[data-live-stamp]"), cur = document.querySelector("[data-live-stamp]");
          if (st && cur) cur.replaceWith(document.importNode(st, true));
        })
        .catch(function () { /* offline: try again next tick */ })
        .finally(function () { busy = false; });
    }, secs * 1000);
  }
})();
