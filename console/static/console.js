// Times are rendered in UTC by the server inside <time datetime="...">;
// this shows them in the viewer's time zone. Custom window inputs are
// sent as RFC 3339 with the viewer's offset.
(function () {
  "use strict";
  var fmt = new Intl.DateTimeFormat(undefined, {year: "numeric", month: "short", day: "numeric", hour: "2-digit", minute: "2-digit"});
  document.querySelectorAll("time[datetime]").forEach(function (el) {
    var d = new Date(el.getAttribute("datetime"));
    if (!isNaN(d)) { el.title = el.textContent; el.textContent = fmt.format(d); }
  });
  document.querySelectorAll("form.filters").forEach(function (form) {
    var win = form.querySelector("select[name=window]");
    var custom = form.querySelectorAll(".custom");
    function sync() { custom.forEach(function (c) { c.hidden = win && win.value !== "custom"; }); }
    if (win) { win.addEventListener("change", sync); sync(); }
    form.addEventListener("submit", function () {
      form.querySelectorAll("input[type=datetime-local]").forEach(function (inp) {
        if (!inp.value) { inp.disabled = true; return; }
        var d = new Date(inp.value);
        var hidden = document.createElement("input");
        hidden.type = "hidden"; hidden.name = inp.name; hidden.value = d.toISOString().replace(/\.\d{3}Z$/, "Z");
        inp.disabled = true; form.appendChild(hidden);
      });
    });
  });
  document.querySelectorAll("form[data-confirm]").forEach(function (form) {
    form.addEventListener("submit", function (e) {
      if (!window.confirm(form.getAttribute("data-confirm"))) { e.preventDefault(); }
    });
  });
})();
