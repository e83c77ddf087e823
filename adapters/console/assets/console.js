// etalase console: refresh the open page every few seconds and ask before
// destructive actions. Plain script, no library.
(function () {
  "use strict";
  var body = document.body;
  var every = parseInt(body.getAttribute("data-poll"), 10) || 0;

  document.addEventListener("submit", function (e) {
    var b = e.submitter;
    var msg = b && b.getAttribute("data-confirm");
    if (msg && !window.confirm(msg)) {
      e.preventDefault();
    }
  });

  if (!every) {
    return;
  }
  var toggle = document.getElementById("autorefresh");
  var busy = false;

  // typing says whether the operator is in a field whose input a refresh
  // would throw away.
  function typing() {
    var a = document.activeElement;
    return a && (a.tagName === "INPUT" || a.tagName === "TEXTAREA" || a.tagName === "SELECT") && a.type !== "checkbox";
  }

  function refresh() {
    if (busy || document.hidden || (toggle && !toggle.checked) || typing()) {
      return;
    }
    busy = true;
    fetch(window.location.href, { credentials: "same-origin", headers: { "X-Console-Poll": "1" } })
      .then(function (r) {
        if (r.redirected && r.url.indexOf("/admin/signin") >= 0) {
          window.location.assign(r.url);
          return null;
        }
        return r.ok ? r.text() : null;
      })
      .then(function (html) {
        if (!html) {
          return;
        }
        var next = new DOMParser().parseFromString(html, "text/html").getElementById("main");
        var main = document.getElementById("main");
        if (!next || !main) {
          return;
        }
        var focused = document.activeElement && document.activeElement.closest("main") ? document.activeElement : null;
        var open = Array.prototype.map.call(main.querySelectorAll("details[open]"), function (d) { return d.parentNode.parentNode.getAttribute("data-layer"); });
        main.innerHTML = next.innerHTML;
        open.forEach(function (layer) {
          var d = main.querySelector('tr[data-layer="' + layer + '"] details');
          if (d) { d.open = true; }
        });
        if (focused && focused.id) {
          var again = document.getElementById(focused.id);
          if (again) { again.focus(); }
        }
        body.setAttribute("data-refreshed", String(Date.now()));
      })
      .catch(function () {})
      .then(function () { busy = false; });
  }
  window.setInterval(refresh, every);
})();
