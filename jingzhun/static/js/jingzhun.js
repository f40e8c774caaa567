// What the pages used to do in inline handlers, moved here so the Content-Security-Policy can forbid inline
// script: print buttons, selects that submit their form, and the household form's 村民小组 options.
(function () {
  "use strict";
  function setUp() {
    document.querySelectorAll("[data-print]").forEach(function (button) {
      button.addEventListener("click", function () { window.print(); });
    });
    document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
      select.addEventListener("change", function () { select.form.submit(); });
    });
    // Reload the 村民小组 options when the village changes (the form names the options URL).
    var form = document.querySelector("form[data-group-options]");
    var village = document.getElementById("id_hh-village"), group = document.getElementById("id_hh-group");
    if (form && village && group && window.htmx) {
      village.addEventListener("change", function () {
        htmx.ajax("GET", form.dataset.groupOptions + "?village=" + encodeURIComponent(village.value),
          { target: group, swap: "innerHTML" });
      });
    }
  }
  if (document.readyState === "loading") { document.addEventListener("DOMContentLoaded", setUp); } else { setUp(); }
})();
