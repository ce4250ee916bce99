// Reply templates: "Indsæt skabelon" fills the reply box in place (the server has
// already filled in the variables for this thread in each option's data-text).
// Without JavaScript the same form reloads the page with the box filled.
(function () {
  "use strict";
  document.querySelectorAll("form[data-template-picker]").forEach(function (form) {
    var area = document.getElementById(form.getAttribute("data-template-picker"));
    var select = form.querySelector("select");
    if (!area || !select) { return; }
    form.addEventListener("submit", function (event) {
      var option = select.options[select.selectedIndex];
      event.preventDefault();
      if (!option || !option.value) { select.focus(); return; }
      area.value = option.getAttribute("data-text") || "";
      // Let the live SMS count (sms-count.js) see the new text.
      area.dispatchEvent(new Event("input", { bubbles: true }));
      area.focus();
      area.setSelectionRange(area.value.length, area.value.length);
    });
  });
})();
