/* Exercise follow page: refresh the run's state every 2 s while it runs (no inline script). */
(function () {
  "use strict";
  var part = document.getElementById("suivi-exercice");
  if (!part || !part.hasAttribute("data-actif")) { return; }
  var url = "/exercices/" + encodeURIComponent(part.getAttribute("data-exercice")) + "/etat";
  var timer = null;
  function refresh() {
    fetch(url, { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (r) {
        if (r.status === 401) { window.location.assign("/connexion"); return null; }
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (html === null) { return; }
        part.innerHTML = html;
        var state = part.querySelector(".etat-exercice");
        var text = state ? state.textContent : "";
        if (text !== "démarrage" && text !== "en cours" && text !== "en pause") {
          window.clearInterval(timer);
          window.location.reload();  // the run ended: show its REX and drop the controls
        }
      })
      .catch(function () { /* next time */ });
  }
  timer = window.setInterval(refresh, 2000);
})();
