/* Progressive enhancement only: the page answers without JavaScript.
   Brings the answer into view and keeps the live-code field to digits. */
(function () {
  "use strict";
  var answer = document.querySelector("#lookup-answer, #live-answer");
  if (answer && answer.scrollIntoView) {
    answer.setAttribute("tabindex", "-1");
    answer.focus({ preventScroll: true });
    answer.scrollIntoView({ block: "center" });
  }
  var code = document.getElementById("code");
  if (code) {
    code.addEventListener("input", function () {
      var digits = code.value.replace(/[^0-9]/g, "").slice(0, 6);
      if (digits !== code.value) { code.value = digits; }
    });
  }
})();
