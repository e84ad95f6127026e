// Filters: every element with data-m belongs to a milestone; those with data-l and data-a are
// issues, with their labels and assignees one per line. Rows and charts that do not match
// are hidden; graph nodes and tree entries are dimmed, so the picture keeps its shape.
(function () {
  "use strict";
  var errors = [];
  window.addEventListener("error", function (e) {
    errors.push(String(e.message));
    document.body.setAttribute("data-errors", errors.join("\n"));
  });
  var form = document.getElementById("filters");
  var items = Array.prototype.slice.call(document.querySelectorAll("[data-m]"));
  var shown = document.getElementById("shown");
  function has(list, want) {
    return !want || (list || "").split("\n").indexOf(want) >= 0;
  }
  function apply() {
    var m = form.elements.milestone.value;
    var l = form.elements.label.value;
    var a = form.elements.assignee.value;
    var rows = 0;
    items.forEach(function (el) {
      var issue = el.hasAttribute("data-l");
      var ok = (!m || el.getAttribute("data-m") === m) &&
        (!issue || (has(el.getAttribute("data-l"), l) && has(el.getAttribute("data-a"), a)));
      if (el.tagName === "g" || el.tagName === "LI") {
        el.classList.toggle("dim", !ok);
      } else {
        el.hidden = !ok;
        if (ok && el.tagName === "TR" && issue) { rows += 1; }
      }
    });
    if (shown) { shown.textContent = String(rows); }
  }
  // The filters live in the address too (#milestone=v1.0&label=bug), so a filtered view
  // can be shared as a link.
  function fromHash() {
    var params = new URLSearchParams(window.location.hash.slice(1));
    ["milestone", "label", "assignee"].forEach(function (k) {
      var v = params.get(k);
      var select = form.elements[k];
      if (v !== null && Array.prototype.some.call(select.options, function (o) { return o.value === v; })) {
        select.value = v;
      } else {
        select.value = "";
      }
    });
  }
  function toHash() {
    var params = new URLSearchParams();
    ["milestone", "label", "assignee"].forEach(function (k) {
      if (form.elements[k].value) { params.set(k, form.elements[k].value); }
    });
    var hash = params.toString();
    window.history.replaceState(null, "", hash ? "#" + hash : window.location.pathname);
  }
  form.addEventListener("change", function () { toHash(); apply(); });
  form.addEventListener("reset", function () { window.setTimeout(function () { toHash(); apply(); }, 0); });
  window.addEventListener("hashchange", function () { fromHash(); apply(); });
  fromHash();
  apply();
  document.body.setAttribute("data-ready", "1");
})();
