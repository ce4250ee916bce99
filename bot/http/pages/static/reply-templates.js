// Reply templates: "Indsæt skabelon" fills the message box in place (the server has
// already filled in the variables in each option's data-text, and on Ny besked once per
// recipient in data-for-<recipient>). Typed text is only replaced after asking; a
// template left untouched follows a change of recipient. Without JavaScript the same
// form reloads the page with the box filled.
(function () {
  "use strict";
  var ASK = "Vil du erstatte den tekst, du har skrevet, med skabelonen?";
  document.querySelectorAll("form[data-template-picker]").forEach(function (form) {
    var area = document.getElementById(form.getAttribute("data-template-picker"));
    var select = form.elements.namedItem("skabelon");
    var til = form.elements.namedItem("til");
    if (!area || !select) { return; }
    var inserted = null;
    function recipient() {
      var checked = area.form && area.form.querySelector('input[name="to"]:checked');
      return checked ? checked.value : (til ? til.value : "");
    }
    function textOf(option) {
      return option.getAttribute("data-for-" + recipient()) ||
        option.getAttribute("data-text") || "";
    }
    function put(text) {
      area.value = text;
      inserted = text;
      // Let the live SMS count (sms-count.js) see the new text.
      area.dispatchEvent(new Event("input", { bubbles: true }));
    }
    form.addEventListener("submit", function (event) {
      var option = select.options[select.selectedIndex];
      event.preventDefault();
      if (!option || !option.value) { select.focus(); return; }
      var text = textOf(option);
      var typed = area.value.trim() && area.value !== inserted && area.value !== text;
      if (typed && !window.confirm(ASK)) { area.focus(); return; }
      put(text);
      area.focus();
      area.setSelectionRange(area.value.length, area.value.length);
    });
    if (area.form) {
      area.form.addEventListener("change", function (event) {
        if (event.target.name !== "to") { return; }
        if (til) { til.value = event.target.value; }
        var option = select.options[select.selectedIndex];
        if (option && option.value && inserted !== null && area.value === inserted) {
          put(textOf(option));
        }
      });
    }
  });
})();
