// Progressive enhancement only: every page works without this file.
(function () {
  "use strict";
  // The language menu applies as soon as a language is picked.
  document.querySelectorAll("select[data-autosubmit]").forEach(function (select) {
    select.addEventListener("change", function () { select.form.submit(); });
  });
  // Hide the buttons that only the script-less page needs.
  document.documentElement.classList.add("js");
  // The printable case file's button: the browser prints or saves as PDF.
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  // Ask before what cannot be undone (withdraw, decide).
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { event.preventDefault(); }
    });
  });
  // A phrase button adds its words to the message box it belongs to.
  document.querySelectorAll("[data-phrase-target]").forEach(function (box) {
    box.addEventListener("change", function () {
      var chosen = box.querySelectorAll("input[type=checkbox]:checked").length;
      var counter = box.querySelector("[data-phrase-count]");
      if (counter) { counter.textContent = chosen ? String(chosen) : ""; }
    });
  });
  // Disable a form's button once sent, so a double click sends once.
  document.querySelectorAll("form[method=post]").forEach(function (form) {
    form.addEventListener("submit", function (event) {
      if (event.defaultPrevented) { return; }
      var button = event.submitter;
      if (button && !form.hasAttribute("data-no-lock")) {
        window.setTimeout(function () { button.disabled = true; }, 0);
      }
    });
  });
  // Show the names of the chosen photos before sending.
  document.querySelectorAll("input[type=file][data-file-list]").forEach(function (input) {
    var list = document.getElementById(input.getAttribute("data-file-list"));
    input.addEventListener("change", function () {
      if (!list) { return; }
      list.textContent = "";
      Array.prototype.forEach.call(input.files, function (file) {
        var item = document.createElement("li");
        item.textContent = file.name + " (" + Math.ceil(file.size / 1024) + " KB)";
        list.appendChild(item);
      });
    });
  });
})();
