// Live SMS segment count for a textarea with data-sms-count="<id of the output>".
// Mirrors channels/smstext.py: GSM-7 (160 / 153 per part, extension chars count 2)
// or UCS-2 (70 / 67 UTF-16 units per part) as soon as one character needs it.
(function () {
  "use strict";
  var BASIC = "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?" +
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà";
  var EXTENSION = "\f^{}\\[~]|€";
  var SECURE = "sendes i den sikre indbakke; SMS'en er kun en besked med link";

  function segments(text) {
    var units = 0, gsm = true, i, ch;
    for (i = 0; i < text.length; i++) {
      ch = text.charAt(i);
      if (BASIC.indexOf(ch) >= 0) { units += 1; }
      else if (EXTENSION.indexOf(ch) >= 0) { units += 2; }
      else { gsm = false; break; }
    }
    if (!gsm) {
      units = text.length; // UTF-16 code units
      return { units: units, parts: units <= 70 ? 1 : Math.ceil(units / 67), gsm: false };
    }
    return { units: units, parts: units <= 160 ? 1 : Math.ceil(units / 153), gsm: true };
  }

  function attach(area) {
    var out = document.getElementById(area.getAttribute("data-sms-count"));
    if (!out) { return; }
    // "Følsomt": the text stays in the secure inbox, the SMS is only a notice with a link.
    var box = document.getElementById(area.getAttribute("data-sensitive") || "");
    var label = document.querySelector('label[for="' + area.id + '"] [data-sms-label]');
    function update() {
      var s = segments(area.value);
      var chars = area.value.length;
      var secure = !!(box && box.checked);
      if (label) { label.textContent = secure ? SECURE : "sendes som SMS"; }
      if (secure) {
        out.textContent = chars + " tegn · står i den sikre indbakke, ikke i SMS'en";
        return;
      }
      out.textContent = chars + (chars === 1 ? " tegn" : " tegn") + " · " +
        s.parts + (s.parts === 1 ? " SMS" : " SMS'er") +
        (s.gsm ? "" : " (specialtegn: færre tegn pr. SMS)");
    }
    area.addEventListener("input", update);
    if (box) { box.addEventListener("change", update); }
    update();
  }

  document.querySelectorAll("textarea[data-sms-count]").forEach(attach);
})();
