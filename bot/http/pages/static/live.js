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

  // A thread's page only needs its own thread: the event names the threads that
  // changed (an empty list means "the inbox changed", so every page looks again).
  var thread = /\/samtaler\/([^\/?#]+)/.exec(region.getAttribute("data-live-url") || "");

  function onInbox(event) {
    var changed = [];
    try { changed = JSON.parse(event.data).conversations || []; } catch (e) { changed = []; }
    if (thread && changed.length && changed.indexOf(decodeURIComponent(thread[1])) < 0) { return; }
    refresh();
  }

  source.addEventListener("inbox", onInbox);
  source.addEventListener("ended", function () { source.close(); });
})();
