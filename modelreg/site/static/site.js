// The catalog index: search, filters, sorting and counts over the JSON embedded in the
// page. Plain DOM, no framework, no network: it works from a file:// folder too.
(function () {
  "use strict";
  var data = JSON.parse(document.getElementById("catalog-data").textContent);
  var tbody = document.querySelector("#models tbody");
  var rows = {};
  Array.prototype.forEach.call(tbody.rows, function (tr) { rows[tr.getAttribute("data-id")] = tr; });
  var byId = {};
  data.models.forEach(function (m) {
    m.text = (m.id + "\n" + m.name + "\n" + m.description + "\n" + m.tags.join(" ") + "\n" +
      m.labels.join(" ")).toLowerCase();
    byId[m.id] = m;
  });
  var search = document.getElementById("search");
  var selects = document.querySelectorAll("select[data-filter]");
  var count = document.getElementById("count");
  var empty = document.getElementById("empty");

  function matches(m, text, chosen) {
    if (text && m.text.indexOf(text) < 0) { return false; }
    for (var key in chosen) {
      var have = m[key];
      if (Array.isArray(have) ? have.indexOf(chosen[key]) < 0 : have !== chosen[key]) {
        return false;
      }
    }
    return true;
  }

  function apply() {
    var text = search.value.trim().toLowerCase();
    var chosen = {};
    Array.prototype.forEach.call(selects, function (s) {
      if (s.value) { chosen[s.getAttribute("data-filter")] = s.value; }
    });
    var shown = 0;
    data.models.forEach(function (m) {
      var ok = matches(m, text, chosen);
      rows[m.id].hidden = !ok;
      if (ok) { shown += 1; }
    });
    count.textContent = shown + " of " + data.models.length + " models";
    empty.hidden = shown !== 0;
  }

  var order = { key: null, desc: false };
  function sortBy(key, numeric) {
    order.desc = order.key === key ? !order.desc : false;
    order.key = key;
    var ids = data.models.map(function (m) { return m.id; });
    ids.sort(function (a, b) {
      var x = byId[a][key], y = byId[b][key];
      if (x === null || x === "") { return 1; }
      if (y === null || y === "") { return -1; }
      var c = numeric ? x - y : String(x).localeCompare(String(y));
      if (c === 0) { c = a < b ? -1 : 1; }
      return order.desc ? -c : c;
    });
    ids.forEach(function (id) { tbody.appendChild(rows[id]); });
    document.querySelectorAll("th button[data-sort]").forEach(function (b) {
      var on = b.getAttribute("data-sort") === key;
      b.parentNode.setAttribute("aria-sort", on ? (order.desc ? "descending" : "ascending") : "none");
    });
  }

  search.addEventListener("input", apply);
  Array.prototype.forEach.call(selects, function (s) { s.addEventListener("change", apply); });
  document.getElementById("filters").addEventListener("reset", function () { setTimeout(apply, 0); });
  document.getElementById("filters").addEventListener("submit", function (e) { e.preventDefault(); });
  document.querySelectorAll("th button[data-sort]").forEach(function (b) {
    b.addEventListener("click", function () {
      sortBy(b.getAttribute("data-sort"), b.getAttribute("data-type") === "number");
    });
  });
  apply();
})();
