/* Crisis board: ticking clock from the server's times, live fragments on server-sent events.
   No inline script (CSP script-src 'self'); nothing here reads or sends personal data. */
(function () {
  "use strict";
  var board = document.getElementById("tableau");
  if (!board) { return; }
  var crisisId = board.getAttribute("data-crise");
  var t0 = Date.parse(board.getAttribute("data-t0"));
  var deadline = Date.parse(board.getAttribute("data-echeance"));
  var offset = Date.parse(board.getAttribute("data-now")) - Date.now();
  var closed = board.hasAttribute("data-clos");

  function duration(ms) {
    var sign = ms < 0 ? "-" : "";
    var s = Math.floor(Math.abs(ms) / 1000);
    var sec = s % 60;
    return sign + Math.floor(s / 60) + " min " + (sec < 10 ? "0" : "") + sec + " s";
  }

  function tick() {
    var now = Date.now() + offset;
    var since = document.getElementById("depuis-t0");
    var left = document.getElementById("compte-a-rebours");
    if (since && !closed) { since.textContent = duration(now - t0); }
    if (left) { left.textContent = now < deadline ? duration(deadline - now) : "échéance passée"; }
  }
  tick();
  window.setInterval(tick, 1000);

  var pending = {};
  function refresh(part) {
    var name = part.getAttribute("data-fragment");
    if (part.contains(document.activeElement)) { pending[name] = true; return; }  // typing: later
    var url = "/crises/" + encodeURIComponent(crisisId) + "/fragments/" + name + window.location.search;
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) {
        if (r.status === 401) { window.location.assign("/connexion"); return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (html !== null) { part.innerHTML = html; delete pending[name]; }
      })
      .catch(function () { pending[name] = true; });
  }
  function refreshAll() {
    var parts = board.querySelectorAll("[data-fragment]");
    for (var i = 0; i < parts.length; i++) { refresh(parts[i]); }
    var notice = document.getElementById("annonce-maj");
    if (notice) { notice.textContent = "Tableau mis à jour."; }
  }

  if (!window.EventSource) { return; }
  var last = null;
  var source = new EventSource("/crises/" + encodeURIComponent(crisisId) + "/flux");
  source.onmessage = function (event) {
    if (last !== null && event.data !== last) { refreshAll(); }
    last = event.data;
    board.setAttribute("data-tete", last);
  };
  source.addEventListener("fin", function () { source.close(); });
  window.addEventListener("pagehide", function () { source.close(); });
})();
