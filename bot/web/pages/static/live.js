// New messages without reloading: listen to the inbox's event stream and, when it
// says something changed, fetch this page's fresh fragment into [data-live-region].
(function () {
  "use strict";
  var region = document.querySelector("[data-live-region]");
  var status = document.getElementById("live-status");
  if (!region || !window.EventSource || !window.fetch) { return; }
  var source = new EventSource("/sagsbehandler/begivenheder");
  var busy = false;

  function refresh() {
    if (busy) { return; }
    busy = true;
    fetch(region.getAttribute("data-live-url"), { credentials: "same-origin", headers: { "Accept": "text/html" } })
      .then(function (resp) { return resp.ok ? resp.text() : null; })
      .then(function (html) {
        if (html !== null) {
          region.innerHTML = html; // server-rendered, escaped HTML from our own origin
          if (status) { status.textContent = "Der er kommet nye beskeder."; }
          region.setAttribute("data-live-updated", String(Date.now()));
        }
      })
      .catch(function () { /* the next event tries again */ })
      .then(function () { busy = false; });
  }

  source.addEventListener("inbox", refresh);
  source.addEventListener("ended", function () { source.close(); });
})();
