// Progressive enhancement only: the console works without it.
(function () {
  "use strict";
  // Copy buttons: <button data-copy="input-id">.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var field = document.getElementById(button.getAttribute("data-copy"));
      if (!field) { return; }
      field.select();
      var done = function () { button.textContent = "Copied"; };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(field.value).then(done, function () {});
      }
    });
  });
  // Inline GSTIN checks: <input data-check-gstin="hint-id">, same rules as the server.
  document.querySelectorAll("[data-check-gstin]").forEach(function (input) {
    var hint = document.getElementById(input.getAttribute("data-check-gstin"));
    var check = function () {
      var value = input.value.trim();
      if (!hint) { return; }
      if (value.length === 0) { hint.textContent = ""; hint.className = "field-hint"; return; }
      fetch("/console/check/gstin?value=" + encodeURIComponent(value), { credentials: "same-origin" })
        .then(function (r) { return r.json(); })
        .then(function (answer) {
          if (input.value.trim() !== value) { return; }
          hint.textContent = answer.valid
            ? "This GSTIN is valid: " + answer.state + ", PAN " + answer.pan + "."
            : "Not valid: " + answer.reason;
          hint.className = "field-hint " + (answer.valid ? "good" : "bad");
        })
        .catch(function () {});
    };
    input.addEventListener("change", check);
    input.addEventListener("blur", check);
    // As the user types: once all 15 characters are there, the check characters are checked.
    input.addEventListener("input", function () {
      if (input.value.trim().length === 15) { check(); }
    });
  });
})();
