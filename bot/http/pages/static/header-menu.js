// The phone header menu (<details class="header-menu">) opens and closes without
// JavaScript; this only adds Esc: close an open menu and put focus back on its button.
(function () {
  "use strict";
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" && event.key !== "Esc") { return; }
    document.querySelectorAll("details.header-menu[open]").forEach(function (menu) {
      menu.removeAttribute("open");
      var button = menu.querySelector("summary");
      if (button && menu.contains(document.activeElement)) { button.focus(); }
    });
  });
})();
